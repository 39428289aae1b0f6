package tunnel

import (
	"fmt"
	"net"
	"time"

	"github.com/meshwarden/meshwarden/userspace/tunnel/mux"
)

// Conn is a stream opened by Client.Dial: a net.Conn to the original destination through the
// peer enforcer.
type Conn struct {
	st      *mux.Stream
	dst     net.Addr
	present func(exchangeID string) (string, error) // a fresh presentation of the stream's source
}

var _ net.Conn = (*Conn)(nil)

func (c *Conn) Read(b []byte) (int, error)  { return c.st.Read(b) }
func (c *Conn) Write(b []byte) (int, error) { return c.st.Write(b) }

// MarkExchange starts a new exchange on the stream: it presents the source agent's credential
// afresh, bound to the tunnel connection and carrying exchangeID, in order with the bytes
// written. The receiving enforcer verifies it before it delivers any byte written after it, and
// audits the exchange under exchangeID. An error means the presentation was not sent: the caller
// must not write the exchange's bytes.
func (c *Conn) MarkExchange(exchangeID string) error {
	p, err := c.present(exchangeID)
	if err != nil {
		return fmt.Errorf("tunnel exchange %s: %w", exchangeID, err)
	}
	if err := c.st.Mark(mux.Fields{{Name: FieldPresentation, Value: p}}); err != nil {
		return fmt.Errorf("tunnel exchange %s: %w", exchangeID, err)
	}
	return nil
}

// CloseWrite half-closes: the destination reads EOF after the bytes written.
func (c *Conn) CloseWrite() error { return c.st.CloseWrite() }

// Close closes as closing a TCP socket does: FIN after the bytes written, then a reset if the
// other side has not finished.
func (c *Conn) Close() error { return c.st.Close() }

// Abort resets the stream: the destination side sees an error, never a clean end.
func (c *Conn) Abort() { c.st.Abort() }

// LocalAddr is this end of the tunnel connection; RemoteAddr is the original destination.
func (c *Conn) LocalAddr() net.Addr  { return c.st.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr { return c.dst }

func (c *Conn) SetDeadline(t time.Time) error      { return c.st.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.st.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.st.SetWriteDeadline(t) }
