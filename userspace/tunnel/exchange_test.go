package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
)

// roundTrip writes line on conn and reads the destination's one-line answer.
func roundTrip(conn net.Conn, line string) (string, error) {
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return "", err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	return string(buf[:n]), err
}

// Every exchange the sender marks on a kept stream is verified with its own presentation and
// handed to the receiver under the sender's exchange id, with the measurement of the process the
// stream was opened for; once the agent is revoked, the next exchange is refused with its
// credential reason before a byte of it reaches the destination.
func TestEveryMarkedExchangeIsVerifiedAndReachesTheReceiverUnderItsExchangeID(t *testing.T) {
	m := newMesh(t)
	received := make(chan string, 16)
	dst := tcpServer(t, func(c *net.TCPConn) { // answers each line, and reports what it read
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				received <- string(buf[:n])
				_, _ = c.Write([]byte("ok:" + string(buf[:n])))
			}
			if err != nil {
				return
			}
		}
	})
	exchanges := make(chan Identity, 16)
	deliver := Deliver((&net.Dialer{}).DialContext, quiet)
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			s.OnExchange(func(id Identity) error { exchanges <- id; return nil })
			deliver(ctx, s)
		}
	})
	proc := "sha256:" + strings.Repeat("5", 64) // not the credential's measurement
	conn, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent, ExchangeID: "stream-1", Measurement: proc})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := conn.(*Conn)

	var presentations []string
	for _, xid := range []string{"x-1", "x-2", "x-3"} {
		if err := tc.MarkExchange(xid); err != nil {
			t.Fatal(err)
		}
		if got, err := roundTrip(conn, "req "+xid); err != nil || got != "ok:req "+xid+"\n" {
			t.Fatalf("exchange %s: %q, %v", xid, got, err)
		}
		id := <-exchanges
		if id.ExchangeID != xid || id.Agent != m.agent || id.Role != testRole || id.PeerNode != m.nodeA.ID() || id.Measurement != proc {
			t.Fatalf("receiver saw exchange %+v, want %s of %s", id, xid, m.agent)
		}
		presentations = append(presentations, id.PresentationID)
		<-received
	}
	if len(slices.Compact(slices.Sorted(slices.Values(presentations)))) != 3 {
		t.Fatalf("presentation ids %v: each exchange must be verified with a fresh presentation", presentations)
	}

	m.revoked.Revoke(m.agent)
	defer m.revoked.Restore(m.agent)
	if err := tc.MarkExchange("x-4"); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(conn, "req x-4"); err == nil {
		t.Fatalf("the revoked agent's exchange was answered: %q", got)
	}
	r := srv.refusals.next(t)
	if r.Stage != StageExchange || r.Reason != string(credential.ReasonRevoked) || r.Source != m.agent || r.Destination != dst {
		t.Fatalf("refusal %+v, want stage exchange, credential_revoked", r)
	}
	select {
	case got := <-received:
		t.Fatalf("the destination received %q of a refused exchange", got)
	default:
	}
	if len(exchanges) != 0 {
		t.Fatalf("a refused exchange reached the handler: %+v", <-exchanges)
	}
}

// An error from the receiver's callback refuses the exchange the same way, and the sender sees
// its stream end with an error, never a clean end.
func TestReceiverRefusingAnExchangeAbortsTheStream(t *testing.T) {
	m := newMesh(t)
	dst := echoServer(t)
	deliver := Deliver((&net.Dialer{}).DialContext, quiet)
	srv := startServer(t, m, "127.0.0.1:0", func(c *ServerConfig) {
		c.Handler = func(ctx context.Context, s *Stream) {
			s.OnExchange(func(Identity) error { return errors.New("audit sink failing") })
			deliver(ctx, s)
		}
	})
	conn, err := newClient(t, m).Dial(ctxT(t), m.nodeB.ID(), srv.addr, dst, Source{Agent: m.agent})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.(*Conn).MarkExchange("x-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "payload"); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(conn); err == nil || len(got) != 0 {
		t.Fatalf("sender read %q, %v: want no bytes and an error", got, err)
	}
	if r := srv.refusals.next(t); r.Stage != StageExchange || r.Reason != ReasonExchangeRefused || r.ExchangeID != "x-1" {
		t.Fatalf("refusal %+v", r)
	}
}
