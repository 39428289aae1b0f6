package tunnel

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/identity/ca"
	"github.com/meshwarden/meshwarden/userspace/identity/clock"
	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/node"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

func TestClientWithACertificateFromAnotherCAIsRefusedAtTheHandshake(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	// Same trust domain and node name, another CA. The impostor trusts the real CA too, so
	// it is the server's check that refuses it.
	other, err := ca.Open(context.Background(), ca.Config{TrustDomain: m.td, StateDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	both, err := ca.NewBundle(m.td, other.ActiveCertificate(), m.auth.ActiveCertificate())
	if err != nil {
		t.Fatal(err)
	}
	impostor := newNode(t, other, "node-a")
	cli := newClient(t, m, func(c *ClientConfig) {
		c.Identity = impostor
		c.TLS = node.TLSOptions{Bundle: ca.Static{B: both}}
	})
	_, err = cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: m.agent})
	if err == nil {
		t.Fatal("a node certified by another CA opened a stream")
	}
	r := srv.refusals.next(t)
	t.Logf("client: %v; server: %s: %v", err, r.Reason, r.Err)
	if r.Stage != StageHandshake || r.Reason != ReasonPeerCertificate || !errors.Is(r.Err, node.ErrPeer) {
		t.Fatalf("reported %+v (%v)", r, r.Err)
	}
	if st := srv.Stats(); st.Handshakes != 0 || st.Streams != 0 {
		t.Fatalf("server stats %+v after refusing the impostor", st)
	}
}

func TestClientFromAnotherTrustDomainIsRefusedAtTheHandshake(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	td, _ := spiffeid.TrustDomainFromString("other.test")
	other, err := ca.Open(context.Background(), ca.Config{TrustDomain: td, StateDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	foreign := newNode(t, other, "node-a")
	// A hand-made client that skips every check of its own and offers the right protocol.
	conn, err := tls.Dial("tcp", srv.addr, &tls.Config{
		Certificates:       []tls.Certificate{*foreign.Certificate()},
		InsecureSkipVerify: true,
		NextProtos:         []string{ALPN},
		MinVersion:         tls.VersionTLS13,
	})
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = conn.Write([]byte{0, 0, 0})
		_, err = io.ReadAll(conn)
		conn.Close()
	}
	if err == nil {
		t.Fatal("the server talked to a node of another trust domain")
	}
	r := srv.refusals.next(t)
	t.Logf("client: %v; server: %s: %v", err, r.Reason, r.Err)
	if r.Reason != ReasonPeerCertificate {
		t.Fatalf("reported %+v", r)
	}
}

func TestTLS12OnlyClientIsRefused(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0") // minimum from config: 1.3 when zero
	cfg := m.nodeA.ClientConfig(m.nodeB.ID(), node.TLSOptions{MinVersion: tls.VersionTLS12}).Clone()
	cfg.MaxVersion = tls.VersionTLS12
	cfg.NextProtos = []string{ALPN}
	conn, err := tls.Dial("tcp", srv.addr, cfg)
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.2-only client completed the handshake")
	}
	r := srv.refusals.next(t)
	t.Logf("client: %v; server: %s: %v", err, r.Reason, r.Err)
	if r.Stage != StageHandshake || r.Reason != ReasonTLSHandshake {
		t.Fatalf("reported %+v", r)
	}
}

func TestClientWithoutTheTunnelProtocolIsRefused(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	cfg := m.nodeA.ClientConfig(m.nodeB.ID(), node.TLSOptions{}).Clone()
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.Dial("tcp", srv.addr, cfg)
	if err == nil {
		conn.Close()
		t.Fatal("a client speaking h2 completed the handshake")
	}
	r := srv.refusals.next(t)
	t.Logf("client: %v; server: %s: %v", err, r.Reason, r.Err)
	if r.Reason != ReasonTLSHandshake {
		t.Fatalf("reported %+v", r)
	}
}

func TestPeerPresentingAnotherNodeIDIsRefusedByTheClient(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0") // node-b
	nodeC, _ := spiffeid.NodeID(m.td, "node-c")
	cli := newClient(t, m)
	_, err := cli.Dial(ctxT(t), nodeC, srv.addr, echoServer(t), Source{Agent: m.agent})
	if !errors.Is(err, node.ErrPeer) {
		t.Fatalf("dial node-c at node-b's address: %v, want node.ErrPeer", err)
	}
	t.Logf("client: %v", err)
	if st := cli.Stats(); st.Handshakes != 0 || st.HandshakeFails != 1 || st.Streams != 0 {
		t.Fatalf("client stats %+v", st)
	}
	if srv.Stats().Streams != 0 {
		t.Fatal("the server served a stream to a client that refused it")
	}
}

func TestEveryStreamIsVerifiedAndRefusedWithItsCredentialReason(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	dst := echoServer(t)

	issueAt := func(t *testing.T, at time.Time, signers credential.SignerSource) *credential.Credential {
		is, err := credential.NewIssuer(credential.IssuerConfig{Signers: signers, Node: m.nodeA.ID(), Clock: clock.NewFake(at)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := is.Issue(context.Background(), m.spec())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	presentAt := func(c *credential.Credential) fixedPresenter {
		return func(b credential.Binding, aud spiffeid.ID, r credential.Request) (credential.Presentation, error) {
			return c.Present(time.Now(), b, aud, r)
		}
	}
	other, err := ca.Open(context.Background(), ca.Config{TrustDomain: m.td, StateDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var replayMu sync.Mutex
	var first *credential.Presentation
	replaying := fixedPresenter(func(b credential.Binding, aud spiffeid.ID, r credential.Request) (credential.Presentation, error) {
		replayMu.Lock()
		defer replayMu.Unlock()
		if first == nil {
			p, err := m.creds.Present(m.agent, b, aud, r)
			if err != nil {
				return p, err
			}
			first = &p
		}
		return *first, nil
	})

	cases := []struct {
		name      string
		presenter Presenter
		before    func()
		after     func()
		okFirst   bool // the first stream is fine and the second is refused (replay)
		want      credential.Reason
	}{
		{name: "expired", presenter: presentAt(issueAt(t, time.Now().Add(-time.Hour), m.auth)), want: credential.ReasonExpired},
		{name: "not yet valid", presenter: presentAt(issueAt(t, time.Now().Add(time.Hour), m.auth)), want: credential.ReasonNotYetValid},
		{name: "signed by another CA", presenter: presentAt(issueAt(t, time.Now(), other)), want: credential.ReasonUnknownKey},
		{name: "replayed", presenter: replaying, okFirst: true, want: credential.ReasonReplayed},
		{name: "revoked", presenter: m.creds, before: func() { m.revoked.Revoke(m.agent) }, after: func() { m.revoked.Restore(m.agent) }, want: credential.ReasonRevoked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cli := newClient(t, m, func(c *ClientConfig) { c.Credentials = tc.presenter })
			ctx := ctxT(t)
			if tc.okFirst {
				conn, err := cli.Dial(ctx, m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
				if err != nil {
					t.Fatalf("first stream: %v", err)
				}
				if err := echo(conn, []byte("once")); err != nil {
					t.Fatal(err)
				}
				conn.Close()
			}
			if tc.before != nil {
				tc.before()
			}
			_, err := cli.Dial(ctx, m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent, ExchangeID: "xid-" + strings.ReplaceAll(tc.name, " ", "-")})
			var re *RefusedError
			if !errors.As(err, &re) || re.Status != StatusUnauthorized || re.CredentialReason() != tc.want {
				t.Fatalf("dial: %v; want 401 %s", err, tc.want)
			}
			if r := srv.refusals.next(t); r.Stage != StageStream || r.Reason != string(tc.want) || r.Status != StatusUnauthorized ||
				r.Peer != m.nodeA.ID() || r.Destination != dst || credential.ReasonOf(r.Err) != tc.want {
				t.Fatalf("reported %+v", r)
			}
			if tc.after != nil {
				tc.after()
				// Verification is per stream: the same connection carries the next good one.
				conn, err := cli.Dial(ctx, m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
				if err != nil {
					t.Fatalf("after restoring: %v", err)
				}
				conn.Close()
			}
			if hs := cli.Stats().Handshakes; hs != 1 {
				t.Fatalf("%d handshakes: a refused stream must not cost the connection", hs)
			}
		})
	}
}

func TestSenderWithoutACredentialFailsClosedBeforeOpeningAStream(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	stranger, _ := spiffeid.AgentID(m.td, "local", "stranger")
	_, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: stranger})
	if !errors.Is(err, credential.ErrNoCredential) {
		t.Fatalf("dial for an agent without credentials: %v", err)
	}
	if srv.Stats().Streams+srv.Stats().StreamsRefused != 0 {
		t.Fatal("a stream reached the server without a credential")
	}
}

func TestLogsAndRefusalsNeverContainACredential(t *testing.T) {
	m := newMesh(t)
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var presented []string
	var pmu sync.Mutex
	recording := fixedPresenter(func(b credential.Binding, aud spiffeid.ID, r credential.Request) (credential.Presentation, error) {
		p, err := m.creds.Present(m.agent, b, aud, r)
		pmu.Lock()
		presented = append(presented, p.Value())
		pmu.Unlock()
		return p, err
	})
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Logger = log
		c.Handler = func(ctx context.Context, s *Stream) {
			if s.Source.ExchangeID == "deny" {
				_ = s.Refuse(StatusForbidden, "role_not_allowed", nil)
				return
			}
			Deliver((&net.Dialer{}).DialContext, log)(ctx, s)
		}
	})
	cli := newClient(t, m, func(c *ClientConfig) { c.Logger = log; c.Credentials = recording })
	dst := echoServer(t)
	conn, err := cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(conn, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	_, _ = cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent, ExchangeID: "deny"})
	m.revoked.Revoke(m.agent)
	_, _ = cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
	srv.refusals.next(t)
	srv.refusals.next(t)
	cli.Close()
	srv.stop()

	cred, err := m.creds.Current(m.agent)
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{cred.Token()}, presented...)
	out := buf.String()
	if !strings.Contains(out, "tunnel refused") {
		t.Fatalf("the refusals were not logged at all:\n%s", out)
	}
	srv.refusals.mu.Lock()
	defer srv.refusals.mu.Unlock()
	for _, r := range srv.refusals.all {
		out += " " + r.Reason + " " + errString(r.Err)
	}
	for _, s := range secrets {
		sig := s[strings.LastIndexByte(s, '.')+1:] // the JWS signature, or the MAC part
		if strings.Contains(out, s) || strings.Contains(out, sig) {
			t.Fatal("a credential or presentation appears in the logs or refusals")
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
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
