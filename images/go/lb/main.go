// Command kur-lb is the TCP load balancer in front of the API servers of an HA cluster: round robin
// over the backends that pass a periodic TCP check, bytes proxied both ways with half-close.
// It is the entrypoint of kur's load-balancer container, so it needs nothing but itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fileConfig is the --config file (JSON). Durations are Go duration strings ("1s", "500ms").
type fileConfig struct {
	Listen         string   `json:"listen"`
	Backends       []string `json:"backends"`
	HealthInterval string   `json:"healthInterval"`
	HealthTimeout  string   `json:"healthTimeout"`
	DialTimeout    string   `json:"dialTimeout"`
	Fall           int      `json:"fall"`
	Rise           int      `json:"rise"`
}

type config struct {
	Listen   string
	Backends []string
	// Routes, when given with --route, replace Listen and Backends: one listener each, with its
	// own backends (a Service load balancer has one listener per Service port).
	Routes []route
	Options
}

// route is one listen address and the backends its clients go to.
type route struct {
	Listen   string
	Backends []string
}

// routes is what to serve: the --route list, or the one --listen/--backend (or --config) route.
func (c config) routes() []route {
	if len(c.Routes) > 0 {
		return c.Routes
	}
	return []route{{Listen: c.Listen, Backends: c.Backends}}
}

// parseRoute reads "LISTEN=BACKEND[,BACKEND...]", e.g. ":8080=10.0.0.2:30080,10.0.0.3:30080".
func parseRoute(v string) (route, error) {
	listen, backends, ok := strings.Cut(v, "=")
	if !ok || backends == "" {
		return route{}, fmt.Errorf("route %q: want LISTEN=BACKEND[,BACKEND...]", v)
	}
	return route{Listen: listen, Backends: strings.Split(backends, ",")}, nil
}

func defaultConfig() config {
	return config{
		Listen: ":6443",
		Options: Options{
			HealthInterval: time.Second,
			HealthTimeout:  time.Second,
			DialTimeout:    3 * time.Second,
			Fall:           2,
			Rise:           1,
		},
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, nil))
}

// run is main with its outputs injected; ready, when set, receives the bound listen address.
func run(args []string, stderr io.Writer, ready chan<- string) int {
	logger := log.New(stderr, "kur-lb: ", log.LstdFlags|log.LUTC)
	cfg, cfgPath, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kur-lb: %v\n", err)
		return 2
	}

	var bals []*Balancer
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, r := range cfg.routes() {
		ln, err := net.Listen("tcp", r.Listen)
		if err != nil {
			logger.Printf("listen: %v", err)
			closeAll()
			return 1
		}
		lns = append(lns, ln)
		bals = append(bals, NewBalancer(r.Backends, cfg.Options, logger))
		logger.Printf("listening on %s (health check every %s, fall %d, rise %d)", ln.Addr(), cfg.HealthInterval, cfg.Fall, cfg.Rise)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, bal := range bals {
		go bal.HealthLoop(ctx)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	served := make(chan error, len(bals))
	for i, bal := range bals {
		go func() { served <- bal.Serve(lns[i]) }()
	}
	if ready != nil {
		ready <- lns[0].Addr().String()
	}
	shutdown := func() {
		cancel()
		closeAll()
		for _, bal := range bals {
			bal.Shutdown()
		}
	}

	for {
		select {
		case err := <-served:
			logger.Printf("accept: %v", err)
			shutdown()
			return 1
		case s := <-sigs:
			if s == syscall.SIGHUP {
				// Only a --config run has a file to re-read, and it has exactly one route.
				reload(bals[0], cfgPath, cfg.Listen, logger)
				continue
			}
			logger.Printf("%s: shutting down", s)
			shutdown()
			for range bals {
				<-served
			}
			return 0
		}
	}
}

// reload re-reads the config file's backends on SIGHUP, so kur can add a control plane to a
// running load balancer by rewriting the file and signalling the container.
func reload(bal *Balancer, path, listen string, logger *log.Logger) {
	if path == "" {
		logger.Printf("SIGHUP: no --config file to reload")
		return
	}
	base := defaultConfig()
	base.Listen = listen
	next, err := loadFile(path, base)
	if err != nil {
		logger.Printf("SIGHUP: keeping the current backends: %v", err)
		return
	}
	if next.Listen != listen {
		logger.Printf("SIGHUP: listen address change to %s needs a restart; keeping %s", next.Listen, listen)
	}
	bal.SetBackends(next.Backends)
}

func parseArgs(args []string, stderr io.Writer) (config, string, error) {
	cfg := defaultConfig()
	fl := flag.NewFlagSet("kur-lb", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var backends, routes multiFlag
	cfgPath := fl.String("config", "", "JSON config file {listen, backends, healthInterval, healthTimeout, dialTimeout, fall, rise}; SIGHUP re-reads its backends")
	listen := fl.String("listen", cfg.Listen, "address to listen on")
	fl.Var(&backends, "backend", "backend host:port (repeat for each backend)")
	fl.Var(&routes, "route", "LISTEN=BACKEND[,BACKEND...]: one more listener with its own backends (repeat; replaces --listen, --backend and --config)")
	interval := fl.Duration("health-interval", cfg.HealthInterval, "time between TCP health checks")
	htimeout := fl.Duration("health-timeout", cfg.HealthTimeout, "connect timeout of a health check")
	dtimeout := fl.Duration("dial-timeout", cfg.DialTimeout, "connect timeout to a backend for a client")
	fall := fl.Int("fall", cfg.Fall, "failed checks in a row that mark a backend down")
	rise := fl.Int("rise", cfg.Rise, "good checks in a row that mark a backend up")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: kur-lb --listen :6443 --backend host1:6443 --backend host2:6443 ...\n       kur-lb --config lb.json\n       kur-lb --route :8080=host1:30080,host2:30080 --route :8443=host1:30443,host2:30443\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return cfg, "", err
	}
	if fl.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	if len(routes) > 0 {
		if *cfgPath != "" || len(backends) > 0 || isSet(fl, "listen") {
			return cfg, "", errors.New("give --route, or --listen/--backend/--config, not both")
		}
		for _, v := range routes {
			r, err := parseRoute(v)
			if err != nil {
				return cfg, "", err
			}
			cfg.Routes = append(cfg.Routes, r)
		}
	}
	if *cfgPath != "" {
		if len(backends) > 0 {
			return cfg, "", errors.New("give backends with --config or with --backend, not both")
		}
		var err error
		if cfg, err = loadFile(*cfgPath, cfg); err != nil {
			return cfg, "", err
		}
	}
	// Flags given on the command line win over the file.
	fl.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = *listen
		case "backend":
			cfg.Backends = backends
		case "health-interval":
			cfg.HealthInterval = *interval
		case "health-timeout":
			cfg.HealthTimeout = *htimeout
		case "dial-timeout":
			cfg.DialTimeout = *dtimeout
		case "fall":
			cfg.Fall = *fall
		case "rise":
			cfg.Rise = *rise
		}
	})
	return cfg, *cfgPath, cfg.validate()
}

func isSet(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func loadFile(path string, cfg config) (config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if fc.Listen != "" {
		cfg.Listen = fc.Listen
	}
	cfg.Backends = fc.Backends
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{
		{"healthInterval", fc.HealthInterval, &cfg.HealthInterval},
		{"healthTimeout", fc.HealthTimeout, &cfg.HealthTimeout},
		{"dialTimeout", fc.DialTimeout, &cfg.DialTimeout},
	} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return cfg, fmt.Errorf("%s: %s: %w", path, d.name, err)
		}
		*d.dst = v
	}
	if fc.Fall != 0 {
		cfg.Fall = fc.Fall
	}
	if fc.Rise != 0 {
		cfg.Rise = fc.Rise
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func (c config) validate() error {
	listens := map[string]bool{}
	for _, r := range c.routes() {
		if err := r.validate(); err != nil {
			return err
		}
		if listens[r.Listen] {
			return fmt.Errorf("listen %q given twice", r.Listen)
		}
		listens[r.Listen] = true
	}
	if c.HealthInterval <= 0 || c.HealthTimeout <= 0 || c.DialTimeout <= 0 {
		return errors.New("health interval and timeouts must be positive")
	}
	if c.Fall < 1 || c.Rise < 1 {
		return errors.New("fall and rise must be at least 1")
	}
	return nil
}

func (r route) validate() error {
	if err := checkAddr(r.Listen, true); err != nil {
		return fmt.Errorf("listen %q: %w", r.Listen, err)
	}
	if len(r.Backends) == 0 {
		return errors.New("no backends: give --backend host:port (one or more) or a --config file")
	}
	seen := map[string]bool{}
	for _, b := range r.Backends {
		if err := checkAddr(b, false); err != nil {
			return fmt.Errorf("backend %q: %w", b, err)
		}
		if seen[b] {
			return fmt.Errorf("backend %q listed twice", b)
		}
		seen[b] = true
	}
	return nil
}

func checkAddr(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" && !listen {
		return errors.New("host is empty")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !listen) {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
