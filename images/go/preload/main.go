// Command kur-preload writes a containerd root directory (what containerd keeps under
// /var/lib/containerd) that holds container images already imported and labelled, so a node's
// containerd starts with them and never pulls. It runs unprivileged on the build host, with no
// daemon, and the same spec and layer files always give byte-identical output.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"

	"github.com/containerd/log"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("kur-preload", flag.ContinueOnError)
	fl.SetOutput(stderr)
	specPath := fl.String("spec", "", "JSON spec file (required)")
	root := fl.String("root", "", "output directory: containerd's root as it will sit at /var/lib/containerd (new or empty; required)")
	sde := fl.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "timestamp (seconds since 1970) for every date in the output; default $SOURCE_DATE_EPOCH, else 0")
	jobs := fl.Int("jobs", runtime.NumCPU(), "layers compressed in parallel (does not change the output)")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: kur-preload --spec spec.json --root DIR [--source-date-epoch N] [--jobs N]\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *specPath == "" || *root == "" || fl.NArg() > 0 {
		fl.Usage()
		return 2
	}
	epoch := int64(0)
	if *sde != "" {
		v, err := strconv.ParseInt(*sde, 10, 64)
		if err != nil || v < 0 {
			fmt.Fprintf(stderr, "kur-preload: --source-date-epoch %q: want a non-negative integer\n", *sde)
			return 2
		}
		epoch = v
	}
	// containerd's packages log through logrus; only real errors belong on our stderr (the
	// content store warns when the filesystem lacks fs-verity, which is expected).
	_ = log.SetLevel("error")
	log.L.Logger.SetOutput(stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s, err := loadSpec(*specPath)
	if err != nil {
		fmt.Fprintf(stderr, "kur-preload: %v\n", err)
		return 1
	}
	sum, err := preload(ctx, s, options{Root: *root, SourceDateEpoch: epoch, Jobs: *jobs})
	if err != nil {
		fmt.Fprintf(stderr, "kur-preload: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		fmt.Fprintf(stderr, "kur-preload: %v\n", err)
		return 1
	}
	return 0
}
