package node

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newAuthority(t testing.TB, clk clock.Clock, lifetime time.Duration) *ca.Authority {
	t.Helper()
	td, _ := spiffeid.TrustDomainFromString("mesh.test")
	a, err := ca.Open(context.Background(), ca.Config{TrustDomain: td, StateDir: t.TempDir(), Clock: clk, Lifetime: lifetime, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newNode(t testing.TB, a *ca.Authority, name string, clk clock.Clock) *Identity {
	t.Helper()
	i, err := New(context.Background(), Config{Authority: a, Node: name, Clock: clk, Lifetime: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

type result struct {
	server, client       tls.ConnectionState
	serverErr, clientErr error
}

// handshake runs a real TLS handshake over TCP on 127.0.0.1 and one byte each way, so a
// refusal on either side (in TLS 1.3 the server checks the client after the client finished)
// shows up as an error.
func handshake(t *testing.T, srv, cli *tls.Config) result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var r result
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			r.serverErr = err
			return
		}
		defer c.Close()
		tc := tls.Server(c, srv)
		if r.serverErr = tc.HandshakeContext(ctx); r.serverErr != nil {
			return
		}
		r.server = tc.ConnectionState()
		buf := make([]byte, 1)
		if _, r.serverErr = io.ReadFull(tc, buf); r.serverErr == nil {
			_, r.serverErr = tc.Write([]byte("s"))
		}
	}()
	d := tls.Dialer{Config: cli}
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		r.clientErr = err
	} else {
		tc := c.(*tls.Conn)
		r.client = tc.ConnectionState()
		if _, r.clientErr = tc.Write([]byte("c")); r.clientErr == nil {
			_, r.clientErr = io.ReadFull(tc, make([]byte, 1))
		}
		c.Close()
	}
	<-done
	return r
}

func TestMutualTLS13HandshakeOnLoopbackAuthenticatesBothNodeIDs(t *testing.T) {
	a := newAuthority(t, nil, 0)
	na, nb := newNode(t, a, "node-a", nil), newNode(t, a, "node-b", nil)
	r := handshake(t, na.ServerConfig(TLSOptions{}), nb.ClientConfig(na.ID(), TLSOptions{}))
	if r.serverErr != nil || r.clientErr != nil {
		t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
	}
	if r.client.Version != tls.VersionTLS13 || r.server.Version != tls.VersionTLS13 {
		t.Fatalf("negotiated %x/%x, want TLS 1.3", r.client.Version, r.server.Version)
	}
	if id, err := PeerID(r.server); err != nil || id != nb.ID() {
		t.Fatalf("server sees peer %v (%v), want %s", id, err, nb.ID())
	}
	if id, err := PeerID(r.client); err != nil || id != na.ID() {
		t.Fatalf("client sees peer %v (%v), want %s", id, err, na.ID())
	}
}

func TestTLS12OnlyPeerIsRefusedWhenTheMinimumIs13(t *testing.T) {
	a := newAuthority(t, nil, 0)
	na, nb := newNode(t, a, "node-a", nil), newNode(t, a, "node-b", nil)
	min13, err := ParseTLSVersion("1.3")
	if err != nil {
		t.Fatal(err)
	}
	old := nb.ClientConfig(na.ID(), TLSOptions{MinVersion: tls.VersionTLS12})
	old.MaxVersion = tls.VersionTLS12
	r := handshake(t, na.ServerConfig(TLSOptions{MinVersion: min13}), old)
	if r.clientErr == nil || r.serverErr == nil {
		t.Fatalf("a TLS 1.2-only client was served: server %v, client %v", r.serverErr, r.clientErr)
	}
	oldSrv := na.ServerConfig(TLSOptions{MinVersion: tls.VersionTLS12})
	oldSrv.MaxVersion = tls.VersionTLS12
	r = handshake(t, oldSrv, nb.ClientConfig(na.ID(), TLSOptions{MinVersion: min13}))
	if r.clientErr == nil {
		t.Fatal("the client accepted a TLS 1.2-only server")
	}
	// The same 1.2-only peer is accepted when the policy's minimum is 1.2: the refusal above is
	// the minimum version's doing.
	min12, _ := ParseTLSVersion("1.2")
	r = handshake(t, na.ServerConfig(TLSOptions{MinVersion: min12}), old)
	if r.serverErr != nil || r.clientErr != nil || r.client.Version != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2 with minimum 1.2: server %v, client %v, version %x", r.serverErr, r.clientErr, r.client.Version)
	}
}

func TestPeerClaimingAnotherNodeIDIsRefused(t *testing.T) {
	a := newAuthority(t, nil, 0)
	na, nb := newNode(t, a, "node-a", nil), newNode(t, a, "node-b", nil)
	want, _ := spiffeid.NodeID(a.TrustDomain(), "node-c")
	r := handshake(t, na.ServerConfig(TLSOptions{}), nb.ClientConfig(want, TLSOptions{}))
	if !errors.Is(r.clientErr, ErrPeer) && r.clientErr == nil {
		t.Fatalf("client accepted node-a as node-c: %v", r.clientErr)
	}
	deny := TLSOptions{Authorize: func(peer spiffeid.ID) error {
		if peer == nb.ID() {
			return errors.New("node-b is not a peer of node-a")
		}
		return nil
	}}
	r = handshake(t, na.ServerConfig(deny), nb.ClientConfig(na.ID(), TLSOptions{}))
	if r.serverErr == nil {
		t.Fatal("server accepted a peer its Authorize refused")
	}
}

func TestPeerCertifiedByAnotherCAIsRefused(t *testing.T) {
	a, other := newAuthority(t, nil, 0), newAuthority(t, nil, 0)
	na, stranger := newNode(t, a, "node-a", nil), newNode(t, other, "node-b", nil)
	r := handshake(t, na.ServerConfig(TLSOptions{}), stranger.ClientConfig(na.ID(), TLSOptions{}))
	if r.serverErr == nil || r.clientErr == nil {
		t.Fatalf("nodes of different CAs connected: server %v, client %v", r.serverErr, r.clientErr)
	}
}

func TestNodeCertificateIsReissuedUnderTheNewCAWhileOldOnesStayTrustedUntilTheOldCAExpires(t *testing.T) {
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	a := newAuthority(t, clk, 3*time.Hour)
	oldCA := a.ActiveCertificate()
	na, err := New(context.Background(), Config{Authority: a, Node: "node-a", Clock: clk, Lifetime: 3 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := New(context.Background(), Config{Authority: a, Node: "node-b", Clock: clk, Lifetime: 3 * time.Hour, Logger: quiet}) // never rotates
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- na.Run(ctx) }()
	defer func() { cancel(); <-done }()

	clk.Advance(time.Hour)
	before := na.Certificate()
	if err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	newCA := a.ActiveCertificate()
	deadline := time.Now().Add(5 * time.Second)
	for na.Certificate() == before {
		if time.Now().After(deadline) {
			t.Fatal("node certificate not re-issued after the CA rotated")
		}
		time.Sleep(time.Millisecond)
	}
	if err := na.Certificate().Leaf.CheckSignatureFrom(newCA); err != nil {
		t.Fatalf("re-issued node certificate is not signed by the new CA: %v", err)
	}
	if err := nb.Certificate().Leaf.CheckSignatureFrom(oldCA); err != nil {
		t.Fatal(err)
	}
	opts := TLSOptions{Clock: clk}
	r := handshake(t, na.ServerConfig(opts), nb.ClientConfig(na.ID(), opts))
	if r.serverErr != nil || r.clientErr != nil {
		t.Fatalf("new-CA and old-CA nodes during the overlap: server %v, client %v", r.serverErr, r.clientErr)
	}

	clk.Set(oldCA.NotAfter)
	if err := a.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = handshake(t, na.ServerConfig(opts), nb.ClientConfig(na.ID(), opts))
	if r.serverErr == nil {
		t.Fatal("a node certificate of the expired CA was still accepted")
	}
}

func TestNodeCertificateRotatesAtTwoThirdsOfItsLifetimeWithAFreshKey(t *testing.T) {
	clk := clock.NewFake(t0)
	a := newAuthority(t, clk, 0)
	n, err := New(context.Background(), Config{Authority: a, Node: "node-a", Clock: clk, Lifetime: 3 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	first := n.Certificate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wait := func() {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		if err := clk.WaitForTimers(wctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	leaf := first.Leaf
	renew := leaf.NotBefore.Add(time.Duration(float64(leaf.NotAfter.Sub(leaf.NotBefore)) * RotationPoint))
	wait()
	clk.Set(renew.Add(-time.Second))
	wait()
	if n.Certificate() != first {
		t.Fatal("rotated before two thirds of the lifetime")
	}
	clk.Set(renew)
	deadline := time.Now().Add(5 * time.Second)
	for n.Certificate() == first {
		if time.Now().After(deadline) {
			t.Fatal("no rotation at two thirds of the lifetime")
		}
		time.Sleep(time.Millisecond)
	}
	if n.Certificate().Leaf.PublicKey.(ed25519.PublicKey).Equal(leaf.PublicKey) {
		t.Fatal("rotation kept the old key")
	}
}

func TestParseTLSVersionRefusesUnknownVersions(t *testing.T) {
	for in, want := range map[string]uint16{"": tls.VersionTLS13, "1.3": tls.VersionTLS13, "1.2": tls.VersionTLS12} {
		if got, err := ParseTLSVersion(in); err != nil || got != want {
			t.Errorf("ParseTLSVersion(%q) = %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"1.1", "1.0", "TLS1.3", "13"} {
		if _, err := ParseTLSVersion(in); err == nil {
			t.Errorf("ParseTLSVersion(%q) accepted", in)
		}
	}
}
