package tunnel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

var quiet = slog.New(slog.DiscardHandler)

const (
	testRole = "planner"
	testZone = "internal"
	testMeas = "sha256:ab12000000000000000000000000000000000000000000000000000000000000"
)

// mesh is one trust domain with a real CA (in a temporary state directory) and two nodes:
// node-a sends, node-b receives.
type mesh struct {
	td      spiffeid.TrustDomain
	auth    *ca.Authority
	nodeA   *node.Identity
	nodeB   *node.Identity
	agent   spiffeid.ID
	creds   *credential.Manager // node-a's credentials for agent
	revoked *credential.Revocations
	verify  *credential.Verifier // node-b's verifier
}

func newMesh(t testing.TB) *mesh {
	t.Helper()
	ctx := context.Background()
	m := &mesh{}
	var err error
	if m.td, err = spiffeid.TrustDomainFromString("mesh.test"); err != nil {
		t.Fatal(err)
	}
	if m.auth, err = ca.Open(ctx, ca.Config{TrustDomain: m.td, StateDir: t.TempDir(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	m.nodeA = newNode(t, m.auth, "node-a")
	m.nodeB = newNode(t, m.auth, "node-b")
	if m.agent, err = spiffeid.AgentID(m.td, "local", "planner"); err != nil {
		t.Fatal(err)
	}
	issuer, err := credential.NewIssuer(credential.IssuerConfig{Signers: m.auth, Node: m.nodeA.ID()})
	if err != nil {
		t.Fatal(err)
	}
	m.creds = credential.NewManager(issuer, nil, quiet)
	if err := m.creds.Start(ctx, m.agent, credential.StaticSpec(m.spec())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.creds.Close)
	m.revoked = credential.NewRevocations()
	if m.verify, err = credential.NewVerifier(credential.VerifierConfig{Bundle: m.auth, Self: m.nodeB.ID(), Revocations: m.revoked}); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *mesh) spec() credential.Spec {
	return credential.Spec{Agent: m.agent, Role: testRole, Zone: testZone, Measurement: testMeas, Lifetime: 5 * time.Minute}
}

func newNode(t testing.TB, auth *ca.Authority, name string) *node.Identity {
	t.Helper()
	n, err := node.New(context.Background(), node.Config{Authority: auth, Node: name, Lifetime: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusals records what the server reported.
type refusals struct {
	mu  sync.Mutex
	all []Refusal
	ch  chan Refusal
}

func newRefusals() *refusals { return &refusals{ch: make(chan Refusal, 1024)} }

func (r *refusals) add(x Refusal) {
	r.mu.Lock()
	r.all = append(r.all, x)
	r.mu.Unlock()
	select {
	case r.ch <- x:
	default:
	}
}

// next waits for the next refusal.
func (r *refusals) next(t testing.TB) Refusal {
	t.Helper()
	select {
	case x := <-r.ch:
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("no refusal was reported")
		return Refusal{}
	}
}

// server is a running tunnel server of node-b.
type server struct {
	*Server
	addr     string
	refusals *refusals
	stop     func()
}

type serverOpt func(*ServerConfig)

// startServer runs node-b's tunnel server on addr ("127.0.0.1:0" for any port) delivering to
// local TCP destinations.
func startServer(t testing.TB, m *mesh, addr string, opts ...serverOpt) *server {
	t.Helper()
	rec := newRefusals()
	cfg := ServerConfig{
		Identity: m.nodeB,
		Verifier: m.verify,
		Handler:  Deliver((&net.Dialer{Timeout: time.Second}).DialContext, quiet),
		OnRefuse: rec.add,
		Logger:   quiet,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &server{Server: srv, addr: ln.Addr().String(), refusals: rec, stop: stop}
}

type clientOpt func(*ClientConfig)

// newClient returns node-a's tunnel client.
func newClient(t testing.TB, m *mesh, opts ...clientOpt) *Client {
	t.Helper()
	cfg := ClientConfig{Identity: m.nodeA, Credentials: m.creds, Logger: quiet}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoServer runs a TCP server on 127.0.0.1 that echoes each connection as it reads it and
// half-closes after the client's EOF.
func echoServer(t testing.TB) netip.AddrPort {
	t.Helper()
	return tcpServer(t, func(c *net.TCPConn) {
		_, _ = io.Copy(c, c)
		_ = c.CloseWrite()
	})
}

// tcpServer runs serve for each connection accepted on 127.0.0.1.
func tcpServer(t testing.TB, serve func(*net.TCPConn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c.(*net.TCPConn))
			})
		}
	})
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echo sends data through c, half-closes, and checks that the same bytes come back.
func echo(c net.Conn, data []byte) error {
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.(interface{ CloseWrite() error }).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if werr := <-errc; werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return errors.New("echo differs from what was sent")
	}
	return nil
}

// fixedPresenter presents credentials chosen by a test instead of the manager's.
type fixedPresenter func(b credential.Binding, audience spiffeid.ID, r credential.Request) (credential.Presentation, error)

func (f fixedPresenter) Present(_ spiffeid.ID, b credential.Binding, audience spiffeid.ID, r credential.Request) (credential.Presentation, error) {
	return f(b, audience, r)
}
