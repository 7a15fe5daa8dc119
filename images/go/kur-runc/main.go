// kur-runc runs runc for nodes that cannot use cgroups at all (rootless engines on cgroup v1
// hosts): it removes the cgroup path and the resource limits from a container's OCI spec before
// runc creates it, turns `runc update` into a no-op, and passes everything else through. See
// README.md for why, and for what a cluster gives up with it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// defaultRunc is where the node image installs the real runc (images/components.json).
const defaultRunc = "/usr/local/sbin/runc"

// system is what run needs from the process, injected so that tests need no real runc.
type system struct {
	getenv func(string) string
	stdin  io.Reader
	stderr io.Writer
	// self is this program's resolved path ("" if unknown), to refuse to exec itself.
	self string
	exec func(path string, argv, env []string) error
	env  []string
}

func main() {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		self = ""
	}
	os.Exit(run(os.Args[1:], system{
		getenv: os.Getenv,
		stdin:  os.Stdin,
		stderr: os.Stderr,
		self:   self,
		exec:   syscall.Exec,
		env:    os.Environ(),
	}))
}

// run handles one runc command line. It returns only when it does not exec runc (update) or
// when something failed; the return value is the exit status.
func run(args []string, sys system) int {
	inv := parseArgs(args)
	log := newLogger(sys.getenv("KUR_RUNC_LOG"), inv, sys.stderr)
	defer log.close()

	runc := sys.getenv("KUR_RUNC_REAL")
	if runc == "" {
		runc = defaultRunc
	}
	if sys.self != "" {
		if resolved, err := filepath.EvalSymlinks(runc); err == nil && resolved == sys.self {
			log.error(fmt.Sprintf("the real runc %s is kur-runc itself; set KUR_RUNC_REAL", runc))
			return 1
		}
	}

	switch inv.command {
	case "update":
		// Nothing to update without cgroups. Read the resources the caller sends on stdin (the
		// shim writes them there) so the caller sees a normal exit rather than a broken pipe.
		if inv.resources == "-" {
			_, _ = io.Copy(io.Discard, sys.stdin)
		}
		log.info(fmt.Sprintf("update %s: ignored, containers run without cgroups", inv.id))
		return 0
	case "create", "run", "restore":
		bundle := inv.bundle
		if bundle == "" {
			bundle = "."
		}
		removed, err := stripCgroups(filepath.Join(bundle, "config.json"))
		if err != nil {
			log.error(fmt.Sprintf("%s %s: cannot remove the cgroup settings from the OCI spec: %v", inv.command, inv.id, err))
			return 1
		}
		if len(removed) > 0 {
			log.info(fmt.Sprintf("%s %s: removed %s", inv.command, inv.id, strings.Join(removed, " ")))
		}
	}

	err := sys.exec(runc, append([]string{runc}, args...), sys.env)
	// exec returns only on failure.
	log.error(fmt.Sprintf("exec %s: %v", runc, err))
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}
