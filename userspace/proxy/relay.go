package proxy

import (
	"errors"
	"io"
	"net"
	"time"
)

// relayBufferSize is the copy buffer of each relay direction.
const relayBufferSize = 32 << 10

// relayOpaque relays the rest of the session as bytes, both ways, and audits it as one exchange
// that began at start. The client side is read through c.cr and the upstream side through c.ur, so
// bytes already sniffed or read ahead (after an HTTP upgrade) go first.
func (c *session) relayOpaque(start time.Time) {
	var in int64
	done := c.spawn(func() { in = c.pipe(c.upstream, c.cr) })
	out := c.pipe(c.client, c.ur)
	<-done

	r := c.record(protocolTCP)
	r.Reason = reasonRelayed
	r.BytesIn, r.BytesOut = in, out
	r.DurationNS = time.Since(start).Nanoseconds()
	c.srv.audit(r)
}

// pipe copies src to dst until src ends and returns the bytes written to dst. When src ends
// cleanly it half-closes dst, so the peer sees EOF while the other direction goes on; any other
// error ends the whole session, which also ends the other direction.
func (c *session) pipe(dst net.Conn, src io.Reader) int64 {
	buf := make([]byte, relayBufferSize)
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				c.closeBoth()
				return total
			}
		}
		switch {
		case errors.Is(rerr, io.EOF):
			closeWrite(dst)
			return total
		case rerr != nil:
			c.closeBoth()
			return total
		}
	}
}
