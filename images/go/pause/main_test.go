package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func buildPause(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	out, err := exec.Command("go", "build", "-ldflags=-X main.version=test", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(buildPause(t), "-v").Output()
	if err != nil || strings.TrimSpace(string(out)) != "pause test" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestExitsCleanlyOnSignal(t *testing.T) {
	bin := buildPause(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// It must still be waiting after a SIGCHLD with nothing to reap.
		time.Sleep(100 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGCHLD)
		select {
		case err := <-done:
			t.Fatalf("exited on SIGCHLD: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		_ = cmd.Process.Signal(sig)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: exit %v, want 0", sig, err)
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: still running", sig)
		}
	}
}

func TestReapsOrphans(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start pause in a new PID namespace")
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Skip("nsenter (util-linux) not installed")
	}
	bin := buildPause(t)
	// pause as PID 1 of a new PID namespace, as in a pod that shares its PID namespace.
	cmd := exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create a PID namespace here: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid

	// A shell in that namespace starts a short sleep and exits at once: the orphaned sleep is
	// re-parented to pause, and when it exits pause must reap it or it stays a zombie. (Its output
	// goes to /dev/null, or CombinedOutput would wait for it.)
	if out, err := exec.Command(nsenter, "-t", strconv.Itoa(pid), "-p", "--", "sh", "-c", "sleep 1 </dev/null >/dev/null 2>&1 &").CombinedOutput(); err != nil {
		t.Fatalf("nsenter: %v\n%s", err, out)
	}
	orphan := childOf(t, pid)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if procState(orphan) == "" {
			return // reaped
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("orphan %d not reaped (state %q)", orphan, procState(orphan))
}

// childOf returns the host PID of a process whose parent is pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if fields := statFields(child); len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
				return child
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no orphan was re-parented to pause")
	return 0
}

// statFields returns /proc/PID/stat after the command name: state, ppid, ...
func statFields(pid int) []string {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
}

func procState(pid int) string {
	if fields := statFields(pid); len(fields) > 0 {
		return fields[0]
	}
	return ""
}
