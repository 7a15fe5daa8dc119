// Command local-path-helper creates and removes the directories behind local-path-provisioner's
// volumes. The provisioner runs it in a short-lived helper pod on the volume's node, with the
// node directory that holds the volumes mounted at the same path, as its `setupCommand` and
// `teardownCommand`:
//
//	local-path-helper -p <volume dir> -s <size in bytes> -m <Filesystem|Block> -a <create|delete>
//
// It stands in for upstream's busybox shell scripts so the helper image holds one static binary
// and nothing else: no shell, no coreutils.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// version is stamped at link time (-X main.version=...).
var version = "dev"

// request is one invocation's arguments.
type request struct {
	path   string
	action string
	mode   string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("local-path-helper", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var r request
	var size string
	showVersion := flags.Bool("version", false, "print the version and exit")
	flags.StringVar(&r.path, "p", os.Getenv("VOL_DIR"), "the volume's directory (default $VOL_DIR)")
	flags.StringVar(&size, "s", os.Getenv("VOL_SIZE_BYTES"), "requested size in bytes (not enforced)")
	flags.StringVar(&r.mode, "m", envOr("VOL_MODE", "Filesystem"), "volume mode: Filesystem (Block is refused)")
	flags.StringVar(&r.action, "a", "", "create or delete")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "local-path-helper", version)
		return 0
	}
	if err := r.do(); err != nil {
		fmt.Fprintf(stderr, "local-path-helper: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "local-path-helper: %sd %s\n", strings.TrimSuffix(r.action, "e"), r.path)
	return 0
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// checkPath refuses anything but a clean absolute path below a parent directory other than "/":
// the provisioner mounts that parent, and a delete must never reach outside it.
func checkPath(path string) error {
	if path == "" {
		return errors.New("no volume path (-p or VOL_DIR)")
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("volume path %q is not absolute", path)
	}
	clean := filepath.Clean(path)
	if clean == "/" || filepath.Dir(clean) == "/" {
		return fmt.Errorf("volume path %q is / or directly under /", path)
	}
	if clean != strings.TrimSuffix(path, "/") {
		return fmt.Errorf("volume path %q is not clean", path)
	}
	return nil
}

func (r request) do() error {
	if err := checkPath(r.path); err != nil {
		return err
	}
	path := filepath.Clean(r.path)
	switch r.action {
	case "create":
		if r.mode != "Filesystem" {
			return fmt.Errorf("volume mode %q is not supported: local paths are directories (Filesystem)", r.mode)
		}
		if err := os.MkdirAll(path, 0o777); err != nil {
			return err
		}
		// Any user in any pod may write: MkdirAll's mode is cut by the umask.
		return os.Chmod(path, 0o777)
	case "delete":
		return os.RemoveAll(path)
	default:
		return fmt.Errorf("action %q: want create or delete (-a)", r.action)
	}
}
