package main

import "strings"

// invocation is what kur-runc needs to know about one runc command line. runc parses its
// arguments with Go's flag package (through urfave/cli v1): global flags come before the
// command; a command's flags may come before or after the container ID (urfave/cli moves them
// forward); `--` ends the flags.
type invocation struct {
	// command is runc's subcommand ("create", "update", ...), or "" (e.g. `runc --version`).
	command string
	// bundle is the value of --bundle/-b, or "" when absent (runc then uses its working directory).
	bundle string
	// id is the container ID: the first positional argument of the commands kur-runc acts on
	// (create, run, restore, update); "" for the others, whose flags it does not know.
	id string
	// logFile and logFormat are runc's global --log and --log-format ("" when absent).
	logFile   string
	logFormat string
	// resources is update's --resources/-r value ("-" means a JSON document on stdin).
	resources string
}

// Global runc flags that take a value (runc 1.5: main.go); the others (--debug,
// --systemd-cgroup, --help, --version) are booleans.
var globalValueFlags = set("log", "log-format", "root", "rootless")

// Value-taking flags of the commands whose arguments kur-runc reads (runc 1.5 create.go,
// run.go, restore.go, update.go). Every other flag of these commands is boolean.
var commandValueFlags = map[string]map[string]bool{
	"create": set("bundle", "b", "console-socket", "pidfd-socket", "pid-file", "preserve-fds"),
	"run":    set("bundle", "b", "console-socket", "pidfd-socket", "pid-file", "preserve-fds"),
	"restore": set("bundle", "b", "console-socket", "pid-file", "image-path", "work-path",
		"manage-cgroups-mode", "lsm-profile", "lsm-mount-context"),
	"update": set("resources", "r", "blkio-weight", "cpu-period", "cpu-quota", "cpu-burst", "cpu-share",
		"cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "kernel-memory",
		"kernel-memory-tcp", "memory", "cpu-idle", "memory-reservation", "memory-swap", "pids-limit",
		"l3-cache-schema", "mem-bw-schema"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// flagArg splits "-name", "--name" or "--name=value" the way Go's flag package does. ok is
// false for positional arguments, "-" and "--".
func flagArg(arg string) (name, value string, hasValue, ok bool) {
	if len(arg) < 2 || arg[0] != '-' || arg == "--" {
		return "", "", false, false
	}
	name = strings.TrimPrefix(arg[1:], "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		return name[:i], name[i+1:], true, true
	}
	return name, "", false, true
}

// parseArgs reads a runc command line (without the program name). It never fails: whatever it
// does not understand is left for runc to reject.
func parseArgs(args []string) invocation {
	var inv invocation
	i := 0
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		name, value, hasValue, ok := flagArg(arg)
		if !ok {
			break
		}
		if globalValueFlags[name] && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch name {
		case "log":
			inv.logFile = value
		case "log-format":
			inv.logFormat = value
		}
	}
	if i >= len(args) {
		return inv
	}
	inv.command = args[i]
	valueFlags, known := commandValueFlags[inv.command]
	if !known {
		return inv
	}
	flagsDone := false
	for i++; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue, ok := flagArg(arg)
		if arg == "--" && !flagsDone {
			flagsDone = true
			continue
		}
		if flagsDone || !ok {
			if inv.id == "" {
				inv.id = arg
			}
			continue
		}
		if valueFlags[name] && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch name {
		case "bundle", "b":
			inv.bundle = value
		case "resources", "r":
			inv.resources = value
		}
	}
	return inv
}
