// Command pause is the process that holds a pod sandbox's namespaces open.
//
// It does nothing but wait: it reaps any child that gets re-parented to it (it is PID 1 in the
// sandbox's PID namespace when the pod shares one) and exits cleanly on SIGINT or SIGTERM.
// Ours replaces the C program in registry.k8s.io/pause so the image can be built from the Go
// module proxy alone.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at link time (-X main.version=...) to the pause image tag it stands in for.
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-v", "--version", "version":
			fmt.Println("pause", version)
			return
		default:
			fmt.Fprintf(os.Stderr, "usage: %s [-v]\n", os.Args[0])
			os.Exit(2)
		}
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "warning: pause should be the first process")
	}

	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "shutting down, got signal: %v\n", sig)
		os.Exit(0)
	}
}

// reap collects every child that has exited; one SIGCHLD may stand for several.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
