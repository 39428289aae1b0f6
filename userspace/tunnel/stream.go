package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// Stream is one verified stream on the receiving side. It is a net.Conn to the sending
// enforcer (with CloseWrite for half-close), plus who sent it and where it was going. The
// handler answers it with Accept (Read, Write and CloseWrite accept implicitly) or Refuse.
type Stream struct {
	Source      Identity       // the verified source agent
	Destination netip.AddrPort // the original destination

	ms   *mux.Stream
	conn *serverConn

	ok atomic.Bool // accepted: the fast path of Read and Write

	mu       sync.Mutex
	answered bool
	status   int
}

var _ net.Conn = (*Stream)(nil)

// Accept answers the stream with 200: the sender's Dial returns and bytes flow.
func (s *Stream) Accept() error {
	if s.ok.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered {
		if s.status != StatusOK {
			return fmt.Errorf("accept stream: already refused with %d", s.status)
		}
		return nil
	}
	s.answered, s.status = true, StatusOK
	if err := s.ms.Reply(StatusOK, nil); err != nil {
		return fmt.Errorf("accept stream: %w", err)
	}
	s.ok.Store(true)
	return nil
}

// Refuse answers the stream with status (4xx or 5xx) and reason (a short code such as
// "role_not_allowed": it is sent to the peer and audited), and reports the refusal.
func (s *Stream) Refuse(status int, reason string, cause error) error {
	if status < 400 || status > 599 {
		return fmt.Errorf("refuse stream: status %d is not an error status", status)
	}
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return errors.New("refuse stream: already answered")
	}
	s.answered, s.status = true, status
	s.mu.Unlock()
	s.conn.answerRefusal(s.ms, Refusal{
		Stage: StageStream, Reason: reason, Status: status, Peer: s.conn.peer, RemoteAddr: s.conn.remote,
		Destination: s.Destination, Source: s.Source.Agent, ExchangeID: s.Source.ExchangeID, Err: cause,
	})
	return nil
}

// OnExchange makes the stream verify every exchange the sender marks on it (Conn.MarkExchange):
// before Read returns any byte of an exchange, its presentation is verified against the
// connection's binding like the stream's own, must name the stream's source agent, and fn is
// called with the verified identity (its ExchangeID the sender's id of the exchange). A refused
// presentation, or an error from fn, is reported as a Refusal of stage StageExchange and aborts
// the stream: the exchange's bytes never reach the destination. Call it before the first Read.
func (s *Stream) OnExchange(fn func(Identity) error) {
	c := s.conn
	s.ms.OnMark(func(f mux.Fields) error {
		refusal := Refusal{Stage: StageExchange, Status: StatusUnauthorized, Peer: c.peer, RemoteAddr: c.remote,
			Destination: s.Destination, Source: s.Source.Agent}
		presentation, _ := f.Get(FieldPresentation)
		v, reason, err := c.verify(presentation)
		if err != nil {
			refusal.Reason, refusal.Err = reason, err
			c.srv.refuse(refusal)
			return err
		}
		id := identityOf(v, c.peer)
		refusal.ExchangeID = id.ExchangeID
		if id.Agent != s.Source.Agent {
			refusal.Status, refusal.Reason = StatusForbidden, ReasonSourceChanged
			refusal.Err = fmt.Errorf("exchange presented by %s on the stream of %s", id.Agent, s.Source.Agent)
			c.srv.refuse(refusal)
			return refusal.Err
		}
		if err := fn(id); err != nil {
			refusal.Status, refusal.Reason, refusal.Err = StatusForbidden, ReasonExchangeRefused, err
			c.srv.refuse(refusal)
			return err
		}
		return nil
	})
}

// finish runs when the handler returns: an unanswered stream is refused, an accepted one
// closed.
func (s *Stream) finish() {
	s.mu.Lock()
	answered := s.answered
	s.mu.Unlock()
	if !answered {
		_ = s.Refuse(StatusInternalError, ReasonNotAnswered, errors.New("handler returned without Accept or Refuse"))
		return
	}
	_ = s.ms.Close()
}

// Read reads bytes from the sender, accepting the stream first if needed.
func (s *Stream) Read(b []byte) (int, error) {
	if err := s.Accept(); err != nil {
		return 0, err
	}
	return s.ms.Read(b)
}

// Write sends bytes to the sender, accepting the stream first if needed.
func (s *Stream) Write(b []byte) (int, error) {
	if err := s.Accept(); err != nil {
		return 0, err
	}
	return s.ms.Write(b)
}

// CloseWrite half-closes: the sender reads EOF after the bytes written.
func (s *Stream) CloseWrite() error {
	if err := s.Accept(); err != nil {
		return err
	}
	return s.ms.CloseWrite()
}

// Close closes the stream as closing a TCP socket does (see mux.Stream.Close). Closing an
// unanswered stream refuses it.
func (s *Stream) Close() error {
	s.mu.Lock()
	answered := s.answered
	s.mu.Unlock()
	if !answered {
		return s.Refuse(StatusInternalError, ReasonNotAnswered, errors.New("closed without Accept or Refuse"))
	}
	return s.ms.Close()
}

// Abort resets the stream: the sender reads an error, never a clean EOF.
func (s *Stream) Abort() { s.ms.Abort() }

// Done is closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.ms.Done() }

// LocalAddr is this end of the tunnel connection; RemoteAddr the peer enforcer's end.
func (s *Stream) LocalAddr() net.Addr  { return s.ms.LocalAddr() }
func (s *Stream) RemoteAddr() net.Addr { return s.ms.RemoteAddr() }

func (s *Stream) SetDeadline(t time.Time) error      { return s.ms.SetDeadline(t) }
func (s *Stream) SetReadDeadline(t time.Time) error  { return s.ms.SetReadDeadline(t) }
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.ms.SetWriteDeadline(t) }
