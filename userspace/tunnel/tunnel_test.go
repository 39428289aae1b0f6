package tunnel

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBytesFlowBothWaysWithHalfCloseThroughTheTunnelToATCPEchoServer(t *testing.T) {
	m := newMesh(t)
	dst := echoServer(t)
	seen := make(chan *Stream, 1)
	deliver := Deliver((&net.Dialer{}).DialContext, quiet)
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			seen <- s
			deliver(ctx, s)
		}
	})
	cli := newClient(t, m)

	conn, err := cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent, ExchangeID: "xid-42"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	data := make([]byte, 300<<10) // more than one window, so flow control is exercised
	_, _ = rand.Read(data)
	if err := echo(conn, data); err != nil {
		t.Fatal(err)
	}

	s := <-seen
	id := s.Source
	if id.Agent != m.agent || id.Role != testRole || id.Zone != testZone || id.Node != "node-a" ||
		id.PeerNode != m.nodeA.ID() || id.Measurement != testMeas || id.ExchangeID != "xid-42" ||
		id.CredentialID == "" || id.PresentationID == "" || s.Destination != dst {
		t.Fatalf("handler saw source %+v to %s, want agent %s role %s zone %s from node-a to %s", id, s.Destination, m.agent, testRole, testZone, dst)
	}
	if conn.RemoteAddr().String() != dst.String() {
		t.Fatalf("RemoteAddr %s, want the original destination %s", conn.RemoteAddr(), dst)
	}
}

func TestDestinationFinishingFirstStillReceivesTheSendersLaterBytes(t *testing.T) {
	m := newMesh(t)
	got := make(chan string, 1)
	dst := tcpServer(t, func(c *net.TCPConn) { // speaks first and half-closes, then listens
		_, _ = c.Write([]byte("220 banner"))
		_ = c.CloseWrite()
		b, err := io.ReadAll(c)
		if err != nil { // a reset instead of the sender's FIN
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	})
	srv := startServer(t, m, "127.0.0.1:0")
	conn, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	banner, err := io.ReadAll(conn)
	if err != nil || string(banner) != "220 banner" {
		t.Fatalf("read %q, %v: want the banner then EOF", banner, err)
	}
	if _, err := conn.Write([]byte("upload after the destination's FIN")); err != nil {
		t.Fatalf("write after the destination half-closed: %v", err)
	}
	if err := conn.(*Conn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "upload after the destination's FIN" {
			t.Fatalf("destination received %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the destination never received the upload")
	}
}

func TestManyStreamsShareOneTLSConnectionWithinTheStreamBound(t *testing.T) {
	m := newMesh(t)
	dst := echoServer(t)
	const bound = 8
	var active, peak atomic.Int64
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			n := active.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			up, err := net.Dial("tcp", s.Destination.String())
			if err != nil {
				active.Add(-1)
				_ = s.Refuse(StatusBadGateway, ReasonDestinationUnreachable, err)
				return
			}
			defer up.Close()
			time.Sleep(2 * time.Millisecond) // keep streams overlapping
			// The stream counts as active until its FIN leaves: the sender cannot free its
			// slot before it has that FIN, so the count is exact.
			_, _, _ = Splice(ctx, finCounter{s, &active}, up)
		}
	})
	cli := newClient(t, m, func(c *ClientConfig) { c.MaxStreams = bound })

	const streams = 64
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	ctx := ctxT(t)
	for i := range streams {
		wg.Go(func() {
			conn, err := cli.Dial(ctx, m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			data := make([]byte, 1024+i)
			_, _ = rand.Read(data)
			if err := echo(conn, data); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if cs, ss := cli.Stats(), srv.Stats(); cs.Handshakes != 1 || ss.Handshakes != 1 || ss.Streams != streams {
		t.Fatalf("%d streams took %d client and %d server handshakes (server streams %d); want one shared connection", streams, cs.Handshakes, ss.Handshakes, ss.Streams)
	}
	if p := peak.Load(); p > bound || p < 2 {
		t.Fatalf("peak concurrent streams %d; want them multiplexed, at most %d", p, bound)
	}
}

func TestHandlerPolicyRefusalReachesTheSenderAndTheAuditCallback(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			if s.Source.Role != "auditor" {
				_ = s.Refuse(StatusForbidden, "role_not_allowed", errors.New("inbound policy: only auditors"))
			}
		}
	})
	_, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: m.agent, ExchangeID: "xid-7"})
	var re *RefusedError
	if !errors.As(err, &re) || re.Status != StatusForbidden || re.Reason != "role_not_allowed" || re.CredentialReason() != "" {
		t.Fatalf("dial: %v; want a 403 role_not_allowed refusal", err)
	}
	r := srv.refusals.next(t)
	if r.Stage != StageStream || r.Reason != "role_not_allowed" || r.Source != m.agent || r.ExchangeID != "xid-7" || r.Peer != m.nodeA.ID() {
		t.Fatalf("reported %+v", r)
	}
}

func TestUnreachableDestinationIsRefusedWithBadGateway(t *testing.T) {
	m := newMesh(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	srv := startServer(t, m, "127.0.0.1:0")
	_, err = newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, closed, Source{Agent: m.agent})
	var re *RefusedError
	if !errors.As(err, &re) || re.Status != StatusBadGateway || re.Reason != ReasonDestinationUnreachable {
		t.Fatalf("dial to a closed port: %v", err)
	}
	if r := srv.refusals.next(t); r.Reason != ReasonDestinationUnreachable || r.Source != m.agent {
		t.Fatalf("reported %+v", r)
	}
}

func TestHandlerReturningWithoutAnsweringRefusesTheStream(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(context.Context, *Stream) {}
	})
	_, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: m.agent})
	var re *RefusedError
	if !errors.As(err, &re) || re.Status != StatusInternalError || re.Reason != ReasonNotAnswered {
		t.Fatalf("dial: %v", err)
	}
}

func TestReconnectsAfterTheServerRestarts(t *testing.T) {
	m := newMesh(t)
	dst := echoServer(t)
	first := startServer(t, m, "127.0.0.1:0")
	cli := newClient(t, m)
	ctx := ctxT(t)
	open, err := cli.Dial(ctx, m.nodeB.ID(), first.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(open, []byte("before")); err != nil {
		t.Fatal(err)
	}
	inflight, err := cli.Dial(ctx, m.nodeB.ID(), first.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}

	first.stop()
	if _, err := io.ReadAll(inflight); err == nil {
		t.Fatal("a stream of the stopped server ended cleanly; want an error")
	}
	second := startServer(t, m, first.addr) // same address, new process state
	conn, err := cli.Dial(ctx, m.nodeB.ID(), first.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatalf("dial after the restart: %v", err)
	}
	defer conn.Close()
	if err := echo(conn, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if hs := cli.Stats().Handshakes; hs != 2 {
		t.Fatalf("client handshakes %d, want 2 (one per server lifetime)", hs)
	}
	if second.Stats().Streams != 1 {
		t.Fatalf("new server streams %d", second.Stats().Streams)
	}
}

func TestDialAfterCloseIsRefused(t *testing.T) {
	m := newMesh(t)
	srv := startServer(t, m, "127.0.0.1:0")
	cli := newClient(t, m)
	cli.Close()
	if _, err := cli.Dial(ctxT(t), m.nodeB.ID(), srv.addr, echoServer(t), Source{Agent: m.agent}); err == nil {
		t.Fatal("dial on a closed client succeeded")
	}
}

// finCounter decrements n when the stream half-closes towards the sender.
type finCounter struct {
	*Stream
	n *atomic.Int64
}

func (f finCounter) CloseWrite() error {
	f.n.Add(-1)
	return f.Stream.CloseWrite()
}
