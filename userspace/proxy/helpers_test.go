package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// waitLimit bounds every wait in these tests, so that a broken relay fails instead of hanging.
const waitLimit = 5 * time.Second

// Identity and origin fields the harness gives every redirected connection.
const (
	testCgroup  = 42
	testPID     = 4242
	testComm    = "python3"
	testCookie  = 9001
	testDstZone = 2
)

var testIdentity = proxy.Identity{AgentID: "agent-7", Role: "coder", Zone: "dev"}

// testResolver stands in for the kernel's map: every peer gets origin once (a second lookup of
// the same peer fails, as the real map entry is consumed); with no origin every lookup fails.
type testResolver struct {
	mu     sync.Mutex
	origin *proxy.Origin
	seen   map[netip.AddrPort]bool
	peers  []netip.AddrPort
}

func (r *testResolver) Resolve(peer netip.AddrPort) (proxy.Origin, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[netip.AddrPort]bool{}
	}
	if r.seen[peer] {
		return proxy.Origin{}, fmt.Errorf("origin of %s already consumed", peer)
	}
	r.seen[peer] = true
	r.peers = append(r.peers, peer)
	if r.origin == nil {
		return proxy.Origin{}, errors.New("no origin recorded")
	}
	return *r.origin, nil
}

func (r *testResolver) lookedUp() []netip.AddrPort {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]netip.AddrPort(nil), r.peers...)
}

// recordSink collects audit records.
type recordSink struct{ ch chan audit.Record }

func (s *recordSink) Write(r audit.Record) error {
	s.ch <- r
	return nil
}

// next returns the next audit record, failing the test if none comes.
func (s *recordSink) next(t *testing.T) audit.Record {
	t.Helper()
	select {
	case r := <-s.ch:
		return r
	case <-time.After(waitLimit):
		t.Fatal("no audit record")
		return audit.Record{}
	}
}

// harness is a running proxy.Server on 127.0.0.1.
type harness struct {
	srv      *proxy.Server
	addr     string
	sink     *recordSink
	resolver *testResolver
	dials    atomic.Int64
	cancel   context.CancelFunc
	done     chan struct{} // closed when Serve has returned
	serveErr error         // what Serve returned, once done is closed
}

// startProxy runs a Server whose connections all originally went to dst (none if dst is invalid),
// made by the agent testIdentity. configure may change the Config before New.
func startProxy(t *testing.T, dst netip.AddrPort, configure ...func(*proxy.Config)) *harness {
	t.Helper()
	h := &harness{sink: &recordSink{ch: make(chan audit.Record, 100)}, resolver: &testResolver{}, done: make(chan struct{})}
	if dst.IsValid() {
		h.resolver.origin = &proxy.Origin{Dst: dst, CgroupID: testCgroup, PID: testPID, Comm: testComm, SrcZone: 1, DstZone: testDstZone, Cookie: testCookie}
	}
	cfg := proxy.Config{
		Resolver: h.resolver,
		Identify: func(cgroupID uint64) (proxy.Identity, bool) {
			return testIdentity, cgroupID == testCgroup
		},
		ZoneName: func(id uint32) string { return map[uint32]string{1: "dev", testDstZone: "internet"}[id] },
		Audit:    h.sink,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h.dials.Add(1)
			return (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
		},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range configure {
		f(&cfg)
	}
	h.srv = proxy.New(cfg)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.serveErr = h.srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
			if h.serveErr != nil {
				t.Errorf("Serve: %v", h.serveErr)
			}
		case <-time.After(waitLimit):
			t.Error("Serve did not return after cancel")
		}
	})
	return h
}

// dial connects to the proxy as a redirected agent would.
func (h *harness) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(2 * waitLimit))
	return c.(*net.TCPConn)
}

// dialRefused connects to a proxy that is expected to refuse the connection, and checks that it
// does: the connection is reset or closed, during the dial or at the first read.
func (h *harness) dialRefused(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.addr, waitLimit)
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial: %v", err)
		}
		return
	}
	defer func() { _ = c.Close() }()
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	expectClosed(t, c)
}

// onlyPeer returns the one peer the resolver was asked about.
func (h *harness) onlyPeer(t *testing.T) netip.AddrPort {
	t.Helper()
	peers := h.resolver.lookedUp()
	if len(peers) != 1 {
		t.Fatalf("resolver was asked about %v, want one peer", peers)
	}
	return peers[0]
}

// httpClient returns a client whose every connection goes to the proxy, whatever the URL says,
// as the kernel's redirect does.
func (h *harness) httpClient(t *testing.T, configure ...func(*http.Transport)) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", h.addr)
		},
		DisableCompression: true,
	}
	for _, f := range configure {
		f(tr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * waitLimit}
}

// startTCPUpstream runs a raw TCP server on 127.0.0.1 calling serve for each connection.
func startTCPUpstream(t testing.TB, serve func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(2 * waitLimit))
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return addrPort(t, ln.Addr())
}

func addrPort(t testing.TB, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// checkRelayed checks the fields every relayed record of a connection from client carries.
func checkRelayed(t *testing.T, r audit.Record, client net.Conn, dst netip.AddrPort, protocol string) {
	t.Helper()
	type fields struct {
		Kind, AgentID, Role, Zone, Comm, Source, Destination, DstZone, Transport, Protocol, Verdict string
		PID                                                                                         uint32
		CgroupID, Cookie                                                                            uint64
	}
	want := fields{
		Kind: audit.KindRequest, AgentID: testIdentity.AgentID, Role: testIdentity.Role, Zone: testIdentity.Zone,
		PID: testPID, Comm: testComm, CgroupID: testCgroup, Cookie: testCookie,
		Source: client.LocalAddr().String(), Destination: dst.String(), DstZone: "internet",
		Transport: "tcp", Protocol: protocol, Verdict: "REDIRECT",
	}
	got := fields{
		Kind: r.Kind, AgentID: r.AgentID, Role: r.Role, Zone: r.Zone,
		PID: r.PID, Comm: r.Comm, CgroupID: r.CgroupID, Cookie: r.Cookie,
		Source: r.Source, Destination: r.Destination, DstZone: r.DstZone,
		Transport: r.Transport, Protocol: r.Protocol, Verdict: r.Verdict,
	}
	if got != want {
		t.Errorf("record identity/origin fields:\n got %+v\nwant %+v", got, want)
	}
	if r.Time.IsZero() {
		t.Error("record has no time")
	}
}

// expectClosed checks that the proxy closed c: a read ends with EOF or a reset, not data or a timeout.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	n, err := c.Read(make([]byte, 64))
	if n > 0 {
		t.Fatalf("read %d bytes from a connection the proxy should have closed", n)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection was not closed")
	}
	if err == nil {
		t.Fatal("read returned no error")
	}
}

// readAll reads c to EOF within waitLimit.
func readAll(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (after %q)", err, b)
	}
	return string(b)
}

// startHTTPUpstream runs an HTTP server on 127.0.0.1; configure, if not nil, may change it first.
func startHTTPUpstream(t *testing.T, configure func(*http.Server), handler http.Handler) netip.AddrPort {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return addrPort(t, srv.Listener.Addr())
}
