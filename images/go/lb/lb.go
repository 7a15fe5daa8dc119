package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune health checking and dialing.
type Options struct {
	HealthInterval time.Duration // time between active TCP checks of every backend
	HealthTimeout  time.Duration // connect timeout of one check
	DialTimeout    time.Duration // connect timeout when proxying a client
	Fall           int           // consecutive failed checks that mark a backend down
	Rise           int           // consecutive good checks that mark a backend up
}

type state int

const (
	stateUnknown state = iota // not checked yet: tried like a healthy one
	stateUp
	stateDown
)

func (s state) String() string {
	switch s {
	case stateUp:
		return "UP"
	case stateDown:
		return "DOWN"
	}
	return "UNKNOWN"
}

type backend struct {
	addr  string
	mu    sync.Mutex
	state state
	fails int // consecutive failures
	oks   int // consecutive successes
}

// Balancer is a round-robin TCP proxy over the backends it considers healthy.
type Balancer struct {
	opts Options
	log  *log.Logger

	mu       sync.RWMutex
	backends []*backend
	next     atomic.Uint64

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewBalancer returns a balancer over addrs; nothing runs until Serve and HealthLoop are called.
func NewBalancer(addrs []string, opts Options, logger *log.Logger) *Balancer {
	b := &Balancer{opts: opts, log: logger, conns: map[net.Conn]struct{}{}}
	b.SetBackends(addrs)
	return b
}

// SetBackends replaces the backend list. Backends that stay keep their health state, so a reload
// does not send traffic to a backend known to be down.
func (b *Balancer) SetBackends(addrs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := map[string]*backend{}
	for _, be := range b.backends {
		old[be.addr] = be
	}
	list := make([]*backend, 0, len(addrs))
	for _, a := range addrs {
		if be, ok := old[a]; ok {
			list = append(list, be)
		} else {
			list = append(list, &backend{addr: a})
		}
	}
	b.backends = list
	b.log.Printf("backends: %s", strings.Join(addrs, ", "))
}

// candidates lists the backends to try for one client, in order: the healthy (or not yet checked)
// ones starting at the round-robin position, then the ones marked down as a last resort, because
// a backend that just came back is better than refusing the client.
func (b *Balancer) candidates() []*backend {
	b.mu.RLock()
	list := b.backends
	b.mu.RUnlock()
	var good, bad []*backend
	for _, be := range list {
		be.mu.Lock()
		s := be.state
		be.mu.Unlock()
		if s == stateDown {
			bad = append(bad, be)
		} else {
			good = append(good, be)
		}
	}
	n := b.next.Add(1) - 1
	return append(rotate(good, n), rotate(bad, n)...)
}

func rotate(list []*backend, n uint64) []*backend {
	if len(list) == 0 {
		return nil
	}
	k := int(n % uint64(len(list)))
	return append(append([]*backend{}, list[k:]...), list[:k]...)
}

// report records one observation. passive reports come from proxying: a refused connection marks
// the backend down at once, without waiting for Fall checks.
func (b *Balancer) report(be *backend, err error, passive bool) {
	be.mu.Lock()
	defer be.mu.Unlock()
	prev := be.state
	if err == nil {
		be.fails = 0
		be.oks++
		if be.state != stateUp && (passive || be.oks >= b.opts.Rise || be.state == stateUnknown) {
			be.state = stateUp
		}
	} else {
		be.oks = 0
		be.fails++
		if be.state != stateDown && (passive || be.fails >= b.opts.Fall || be.state == stateUnknown) {
			be.state = stateDown
		}
	}
	if be.state != prev {
		if err != nil {
			b.log.Printf("backend %s %s -> %s: %v", be.addr, prev, be.state, err)
		} else {
			b.log.Printf("backend %s %s -> %s", be.addr, prev, be.state)
		}
	}
}

// HealthLoop checks every backend now and then every HealthInterval until ctx ends.
func (b *Balancer) HealthLoop(ctx context.Context) {
	t := time.NewTicker(b.opts.HealthInterval)
	defer t.Stop()
	for {
		b.checkAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Balancer) checkAll(ctx context.Context) {
	b.mu.RLock()
	list := b.backends
	b.mu.RUnlock()
	var wg sync.WaitGroup
	for _, be := range list {
		wg.Go(func() {
			d := net.Dialer{Timeout: b.opts.HealthTimeout}
			c, err := d.DialContext(ctx, "tcp", be.addr)
			if ctx.Err() != nil {
				if c != nil {
					c.Close()
				}
				return
			}
			if err == nil {
				c.Close()
			}
			b.report(be, err, false)
		})
	}
	wg.Wait()
}

// Serve accepts clients until the listener is closed (by Shutdown). It returns nil after Shutdown.
func (b *Balancer) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			b.connMu.Lock()
			closed := b.closed
			b.connMu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !b.track(c) {
			c.Close()
			continue
		}
		b.wg.Go(func() { b.handle(c) })
	}
}

func (b *Balancer) track(c net.Conn) bool {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	if b.closed {
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Balancer) untrack(c net.Conn) {
	b.connMu.Lock()
	delete(b.conns, c)
	b.connMu.Unlock()
}

// Shutdown closes every proxied connection and waits for their goroutines. Clients of an API
// server reconnect, and a load balancer that lingers holds up `docker stop`.
func (b *Balancer) Shutdown() {
	b.connMu.Lock()
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.connMu.Unlock()
	b.wg.Wait()
}

func (b *Balancer) dial() (net.Conn, *backend, error) {
	var errs []string
	for _, be := range b.candidates() {
		d := net.Dialer{Timeout: b.opts.DialTimeout}
		c, err := d.Dial("tcp", be.addr)
		b.report(be, err, true)
		if err == nil {
			return c, be, nil
		}
		errs = append(errs, err.Error())
	}
	if len(errs) == 0 {
		return nil, nil, errors.New("no backends configured")
	}
	return nil, nil, fmt.Errorf("every backend failed: %s", strings.Join(errs, "; "))
}

func (b *Balancer) handle(client net.Conn) {
	defer b.untrack(client)
	defer client.Close()
	server, _, err := b.dial()
	if err != nil {
		b.log.Printf("client %s: %v", client.RemoteAddr(), err)
		return
	}
	if !b.track(server) {
		server.Close()
		return
	}
	defer b.untrack(server)
	defer server.Close()

	var wg sync.WaitGroup
	wg.Go(func() { pipe(server, client) })
	wg.Go(func() { pipe(client, server) })
	wg.Wait()
}

// pipe copies src to dst. At EOF it half-closes dst, so the peer sees the end of the stream while
// the other direction keeps flowing; on an error it closes both, which ends the other direction
// too instead of leaving it blocked on a dead peer.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if err == nil {
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			if cw.CloseWrite() == nil {
				return
			}
		}
	}
	dst.Close()
	src.Close()
}
