package credential

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

var (
	quiet = slog.New(slog.DiscardHandler)
	t0    = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	td    = mustTD("mesh.test")
	nodeA = spiffeid.MustParse("spiffe://mesh.test/node/node-a")
	nodeB = spiffeid.MustParse("spiffe://mesh.test/node/node-b")
	agent = spiffeid.MustParse("spiffe://mesh.test/ns/local/agent/planner")
	meas  = "sha256:" + "ab12000000000000000000000000000000000000000000000000000000000000"
)

func mustTD(s string) spiffeid.TrustDomain {
	t, err := spiffeid.TrustDomainFromString(s)
	if err != nil {
		panic(err)
	}
	return t
}

// mesh is one trust domain with two nodes: A issues and presents, B verifies.
type mesh struct {
	clk      *clock.Fake
	auth     *ca.Authority
	issuer   *Issuer
	verifier *Verifier
	revoked  *Revocations
	binding  Binding
}

func newMesh(t testing.TB, caLifetime time.Duration) *mesh {
	t.Helper()
	clk := clock.NewFake(t0)
	auth, err := ca.Open(context.Background(), ca.Config{TrustDomain: td, StateDir: t.TempDir(), Clock: clk, Lifetime: caLifetime, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewIssuer(IssuerConfig{Signers: auth, Node: nodeA, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	rev := NewRevocations()
	v, err := NewVerifier(VerifierConfig{Bundle: auth, Self: nodeB, Clock: clk, Revocations: rev})
	if err != nil {
		t.Fatal(err)
	}
	return &mesh{clk: clk, auth: auth, issuer: is, verifier: v, revoked: rev, binding: randomBinding(t)}
}

func randomBinding(t testing.TB) Binding {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b, err := NewBinding(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (m *mesh) spec() Spec {
	return Spec{Agent: agent, Role: "planner", Zone: "internal", Measurement: meas, Lifetime: 5 * time.Minute}
}

func (m *mesh) issue(t testing.TB) *Credential {
	t.Helper()
	c, err := m.issuer.Issue(context.Background(), m.spec())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (m *mesh) present(t testing.TB, c *Credential) string {
	t.Helper()
	p, err := c.Present(m.clk.Now(), m.binding, nodeB, Request{ExchangeID: "x-1"})
	if err != nil {
		t.Fatal(err)
	}
	return p.Value()
}

// tlsBindings runs a real mutual TLS 1.3 handshake on 127.0.0.1 between two node identities
// and returns the binding each end derives.
func tlsBindings(t testing.TB) (server, client Binding) {
	t.Helper()
	auth, err := ca.Open(context.Background(), ca.Config{TrustDomain: td, StateDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	na, err := node.New(context.Background(), node.Config{Authority: auth, Node: "node-a", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := node.New(context.Background(), node.Config{Authority: auth, Node: "node-b", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		b   Binding
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer c.Close()
		tc := tls.Server(c, nb.ServerConfig(node.TLSOptions{}))
		if err := tc.Handshake(); err != nil {
			ch <- res{err: err}
			return
		}
		_, _ = tc.Read(make([]byte, 1))
		b, err := BindingFromTLS(tc.ConnectionState())
		ch <- res{b, err}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), na.ClientConfig(nb.ID(), node.TLSOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if client, err = BindingFromTLS(conn.ConnectionState()); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.b, client
}

// sprintAll formats v with every common verb and through slog.
func sprintAll(v any) string {
	var sb strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		fmt.Fprintf(&sb, verb+"\n", v)
	}
	h := slog.NewTextHandler(&sb, nil)
	slog.New(h).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "v", v)
	return sb.String()
}
