package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the real binary: the test executable re-executed with KUR_LB_MAIN=1
// behaves as kur-lb, so signal handling and exit codes are tested as the container sees them.
func TestMain(m *testing.M) {
	if os.Getenv("KUR_LB_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// syncBuffer is a log sink safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBackend serves "<id>:<everything the client sent>" after the client half-closes.
func startBackend(t *testing.T, id string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveBackend(ln, id)
	t.Cleanup(func() { ln.Close() })
	return ln
}

func serveBackend(ln net.Listener, id string) {
	serve(ln, func(c net.Conn) {
		data, err := io.ReadAll(c)
		if err != nil {
			return
		}
		fmt.Fprintf(c, "%s:%s", id, data)
	})
}

// serve runs handle for every connection ln accepts, until ln is closed.
func serve(ln net.Listener, handle func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// deadAddr is an address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func testOptions() Options {
	return Options{HealthInterval: 50 * time.Millisecond, HealthTimeout: 200 * time.Millisecond, DialTimeout: time.Second, Fall: 2, Rise: 1}
}

// startLB runs a balancer on a free port; it is shut down when the test ends.
func startLB(t *testing.T, backends []string, health bool) (*Balancer, string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	b := NewBalancer(backends, testOptions(), log.New(logs, "", 0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if health {
		go b.HealthLoop(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- b.Serve(ln) }()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		b.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return b, ln.Addr().String(), logs
}

// roundTrip sends msg through addr, half-closes, and returns the whole reply.
func roundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func stateOf(b *Balancer, addr string) state {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, be := range b.backends {
		if be.addr == addr {
			be.mu.Lock()
			defer be.mu.Unlock()
			return be.state
		}
	}
	return -1
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRoundRobin(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	_, addr, _ := startLB(t, []string{a.Addr().String(), b.Addr().String()}, false)
	counts := map[string]int{}
	var prev string
	for i := 0; i < 6; i++ {
		out := roundTrip(t, addr, "ping")
		id, rest, _ := strings.Cut(out, ":")
		if rest != "ping" {
			t.Fatalf("reply %q", out)
		}
		if id == prev {
			t.Errorf("connection %d went to %s twice in a row", i, id)
		}
		prev = id
		counts[id]++
	}
	if counts["a"] != 3 || counts["b"] != 3 {
		t.Errorf("round robin split %v, want 3/3", counts)
	}
}

func TestDeadBackendSkipped(t *testing.T) {
	live := startBackend(t, "live")
	dead := deadAddr(t)
	b, addr, logs := startLB(t, []string{dead, live.Addr().String()}, false)
	for i := 0; i < 5; i++ {
		if out := roundTrip(t, addr, "x"); out != "live:x" {
			t.Fatalf("connection %d: reply %q", i, out)
		}
	}
	if s := stateOf(b, dead); s != stateDown {
		t.Errorf("dead backend state %s, want DOWN", s)
	}
	// Marked down by the first failed dial, and not dialled again while down.
	if n := strings.Count(logs.String(), "backend "+dead+" UNKNOWN -> DOWN"); n != 1 {
		t.Errorf("want one DOWN transition for %s, log:\n%s", dead, logs.String())
	}
	if strings.Contains(logs.String(), "every backend failed") {
		t.Errorf("a client was refused:\n%s", logs.String())
	}
}

func TestHealthCheckMarksDownAndUp(t *testing.T) {
	live := startBackend(t, "live")
	flappy := deadAddr(t)
	b, addr, logs := startLB(t, []string{flappy, live.Addr().String()}, true)
	waitFor(t, "flappy backend DOWN", func() bool { return stateOf(b, flappy) == stateDown })
	waitFor(t, "live backend UP", func() bool { return stateOf(b, live.Addr().String()) == stateUp })

	// The backend comes up on its address: the health check brings it back into rotation.
	ln, err := net.Listen("tcp", flappy)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", flappy, err)
	}
	serveBackend(ln, "flappy")
	waitFor(t, "flappy backend UP", func() bool { return stateOf(b, flappy) == stateUp })
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		id, _, _ := strings.Cut(roundTrip(t, addr, "x"), ":")
		seen[id] = true
	}
	if !seen["flappy"] || !seen["live"] {
		t.Errorf("after recovery traffic went to %v, want both", seen)
	}

	// It goes away again: Fall (2) failed checks mark it down.
	ln.Close()
	waitFor(t, "flappy backend DOWN again", func() bool { return stateOf(b, flappy) == stateDown })
	log := logs.String()
	for _, want := range []string{flappy + " UNKNOWN -> DOWN", flappy + " DOWN -> UP", flappy + " UP -> DOWN"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestBackendFailingBetweenChecksIsRetried(t *testing.T) {
	a := startBackend(t, "a")
	bl := startBackend(t, "b")
	b, addr, _ := startLB(t, []string{a.Addr().String(), bl.Addr().String()}, false)
	roundTrip(t, addr, "warm")
	bl.Close()
	// No health loop runs: the failed dial itself marks b down and the client still gets a.
	for i := 0; i < 4; i++ {
		if out := roundTrip(t, addr, "x"); out != "a:x" {
			t.Fatalf("connection %d: reply %q", i, out)
		}
	}
	if s := stateOf(b, bl.Addr().String()); s != stateDown {
		t.Errorf("state %s, want DOWN", s)
	}
}

func TestHalfCloseLargeTransfer(t *testing.T) {
	// The backend reads to EOF and only then answers with a digest: the answer arrives only if
	// the client's FIN was passed on while the way back stayed open.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serve(ln, func(c net.Conn) {
		h := sha256.New()
		n, _ := io.Copy(h, c)
		fmt.Fprintf(c, "%d %x", n, h.Sum(nil))
	})
	_, addr, _ := startLB(t, []string{ln.Addr().String()}, false)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	out := roundTrip(t, addr, string(payload))
	want := fmt.Sprintf("%d %x", len(payload), sha256.Sum256(payload))
	if out != want {
		t.Errorf("reply %q, want %q", out, want)
	}
}

func TestNoBackendClosesClient(t *testing.T) {
	_, addr, logs := startLB(t, []string{deadAddr(t), deadAddr(t)}, false)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	// Closed at once (EOF, or a reset if the client had sent data), not left hanging.
	n, err := c.Read(make([]byte, 16))
	if n != 0 || err == nil {
		t.Errorf("read %d bytes, err %v", n, err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("client left hanging")
	}
	waitFor(t, "refusal logged", func() bool { return strings.Contains(logs.String(), "every backend failed") })
}

func TestShutdownClosesConnections(t *testing.T) {
	a := startBackend(t, "a")
	b, addr, _ := startLB(t, []string{a.Addr().String()}, false)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "connection proxied", func() bool {
		b.connMu.Lock()
		defer b.connMu.Unlock()
		return len(b.conns) == 2
	})
	done := make(chan struct{})
	go func() { b.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown did not return with a client connected")
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("client connection still open after Shutdown")
	}
}

// startBinary runs kur-lb (this test binary in main mode) and waits for its listen line.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KUR_LB_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	logs := &syncBuffer{}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logs, line)
			if _, rest, ok := strings.Cut(line, "listening on "); ok {
				addrCh <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case addr := <-addrCh:
		return cmd, addr, logs
	case <-time.After(10 * time.Second):
		t.Fatalf("kur-lb did not start; log:\n%s", logs.String())
	}
	return nil, "", nil
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("kur-lb did not exit within %s", within)
	}
	return -1
}

func TestSIGTERMExitsCleanly(t *testing.T) {
	a := startBackend(t, "a")
	cmd, addr, logs := startBinary(t, "--listen", "127.0.0.1:0", "--backend", a.Addr().String())
	if out := roundTrip(t, addr, "x"); out != "a:x" {
		t.Fatalf("reply %q", out)
	}
	// A client in the middle of a long-lived stream (a watch) must not hold up the exit.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 3*time.Second); code != 0 {
		t.Errorf("exit code %d, log:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "terminated: shutting down") {
		t.Errorf("log:\n%s", logs.String())
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after exit")
	}
}

func TestSIGHUPReloadsBackends(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	cfgPath := filepath.Join(t.TempDir(), "lb.json")
	write := func(backends ...string) {
		data := fmt.Sprintf(`{"listen":"127.0.0.1:0","backends":["%s"],"healthInterval":"100ms"}`, strings.Join(backends, `","`))
		if err := os.WriteFile(cfgPath, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a.Addr().String())
	cmd, addr, logs := startBinary(t, "--config", cfgPath)
	if out := roundTrip(t, addr, "x"); out != "a:x" {
		t.Fatalf("reply %q", out)
	}
	write(b.Addr().String())
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reload logged", func() bool { return strings.Contains(logs.String(), "backends: "+b.Addr().String()) })
	for i := 0; i < 3; i++ {
		if out := roundTrip(t, addr, "x"); out != "b:x" {
			t.Fatalf("after reload: reply %q", out)
		}
	}
	// A broken file keeps the running set.
	if err := os.WriteFile(cfgPath, []byte(`{"backends":`), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "bad reload logged", func() bool { return strings.Contains(logs.String(), "keeping the current backends") })
	if out := roundTrip(t, addr, "x"); out != "b:x" {
		t.Fatalf("after bad reload: reply %q", out)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd, 3*time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestRoutesServeEachPortWithItsBackends(t *testing.T) {
	a, b, c := startBackend(t, "a"), startBackend(t, "b"), startBackend(t, "c")
	one, two := deadAddr(t), deadAddr(t)
	cmd, _, logs := startBinary(t,
		"--route", one+"="+a.Addr().String(),
		"--route", two+"="+b.Addr().String()+","+c.Addr().String(),
		"--health-interval", "100ms")
	waitFor(t, "both listeners", func() bool { return strings.Count(logs.String(), "listening on ") == 2 })
	if out := roundTrip(t, one, "x"); out != "a:x" {
		t.Fatalf("first route: reply %q", out)
	}
	got := map[string]bool{}
	for i := 0; i < 4; i++ {
		got[roundTrip(t, two, "y")] = true
	}
	if len(got) != 2 || !got["b:y"] || !got["c:y"] {
		t.Fatalf("second route: replies %v", got)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd, 3*time.Second); code != 0 {
		t.Errorf("exit code %d, log:\n%s", code, logs.String())
	}
}

func TestArgs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"listen":":7443","backends":["cp1:6443","cp2:6443"],"healthInterval":"2s","fall":3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, path, err := parseArgs([]string{"--config", good, "--rise", "2"}, io.Discard)
	if err != nil || path != good {
		t.Fatal(err)
	}
	if cfg.Listen != ":7443" || len(cfg.Backends) != 2 || cfg.HealthInterval != 2*time.Second || cfg.Fall != 3 || cfg.Rise != 2 || cfg.DialTimeout != 3*time.Second {
		t.Errorf("config %+v", cfg)
	}
	cfg, _, err = parseArgs([]string{"--backend", "a:1", "--backend", "b:2"}, io.Discard)
	if err != nil || cfg.Listen != ":6443" || strings.Join(cfg.Backends, ",") != "a:1,b:2" {
		t.Errorf("flags: %+v %v", cfg, err)
	}
	cfg, _, err = parseArgs([]string{"--route", ":80=a:1,b:1", "--route", "127.0.0.1:81=c:2"}, io.Discard)
	if err != nil || len(cfg.routes()) != 2 || cfg.routes()[1].Listen != "127.0.0.1:81" || strings.Join(cfg.routes()[0].Backends, ",") != "a:1,b:1" {
		t.Errorf("routes: %+v %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"backends":["a:1"],"timeout":"1s"}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no backends"},
		{[]string{"--backend", "nohost"}, "missing port"},
		{[]string{"--backend", ":6443"}, "host is empty"},
		{[]string{"--backend", "a:http"}, "bad port"},
		{[]string{"--backend", "a:1", "--backend", "a:1"}, "listed twice"},
		{[]string{"--backend", "a:1", "--fall", "0"}, "at least 1"},
		{[]string{"--backend", "a:1", "--health-interval", "0s"}, "must be positive"},
		{[]string{"--config", good, "--backend", "a:1"}, "not both"},
		{[]string{"--config", bad}, `unknown field "timeout"`},
		{[]string{"--config", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--backend", "a:1", "extra"}, "unexpected argument"},
		{[]string{"--route", ":80"}, "want LISTEN=BACKEND"},
		{[]string{"--route", ":80=a:1", "--backend", "b:1"}, "not both"},
		{[]string{"--route", ":80=a:1", "--listen", ":81"}, "not both"},
		{[]string{"--route", ":80=a:1", "--route", ":80=b:1"}, "given twice"},
		{[]string{"--route", ":80=a:1,a:1"}, "listed twice"},
		{[]string{"--route", ":80=a"}, "missing port"},
	} {
		if _, _, err := parseArgs(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
	if code := run([]string{"--backend", "x"}, io.Discard, nil); code != 2 {
		t.Errorf("bad args: exit %d, want 2", code)
	}
}

// BenchmarkThroughput pushes 64 MiB per iteration through the proxy to a backend that discards it.
func BenchmarkThroughput(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	serve(ln, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		fmt.Fprintf(c, "%d", n)
	})
	bal := NewBalancer([]string{ln.Addr().String()}, testOptions(), log.New(io.Discard, "", 0))
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bal.Serve(pl) }()
	defer func() { pl.Close(); bal.Shutdown() }()
	chunk := make([]byte, 1<<20)
	b.SetBytes(64 << 20)
	for b.Loop() {
		c, err := net.Dial("tcp", pl.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 64; i++ {
			if _, err := c.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		_ = c.(*net.TCPConn).CloseWrite()
		out, _ := io.ReadAll(c)
		c.Close()
		if string(out) != fmt.Sprint(64<<20) {
			b.Fatalf("backend got %s bytes", out)
		}
	}
}
