package proxy

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ensureUpstream makes sure the upstream connection can carry the next exchange, exchangeID: one
// that already carried an exchange is checked, without waiting, for having been closed by its
// server (as servers do with idle keep-alive connections) or for having sent something unasked;
// such a connection, or one left with an unread response, is replaced by a new one. The client
// never sees any of this. An upstream that carries exchanges to another enforcer (an
// ExchangeMarker) then gets the exchange marked; a failed mark is an error, and the exchange must
// not be sent.
func (c *session) ensureUpstream(stale bool, exchangeID string) error {
	switch {
	case !c.upstreamUsed:
		c.upstreamUsed = true
	case stale || c.ur.Buffered() != 0 || !idleOpen(c.upstream):
		if err := c.redial(); err != nil {
			return err
		}
	}
	if m, ok := c.upstream.(ExchangeMarker); ok {
		if err := m.MarkExchange(exchangeID); err != nil {
			return fmt.Errorf("mark exchange for %s: %w", c.base.Destination, err)
		}
	}
	return nil
}

// ExchangeMarker is an upstream connection that carries exchanges to another enforcer (a node
// tunnel stream): each exchange is marked before its bytes are written, so that the receiving
// enforcer verifies the source's credential for that exchange and audits it under the same
// exchange id.
type ExchangeMarker interface {
	MarkExchange(exchangeID string) error
}

// redial replaces the upstream connection by a new one to the same destination.
func (c *session) redial() error {
	conn, err := c.srv.cfg.Dial(c.ctx, "tcp", c.base.Destination)
	if err != nil {
		return fmt.Errorf("redial %s: %w", c.base.Destination, err)
	}
	c.upMu.Lock()
	if c.upClosed {
		c.upMu.Unlock()
		_ = conn.Close()
		return fmt.Errorf("redial %s: %w", c.base.Destination, net.ErrClosed)
	}
	old := c.upstream
	c.upstream = conn
	c.upMu.Unlock()
	_ = old.Close()
	uio := newSockIO(conn)
	c.upstreamIn.r = uio
	c.ur.Reset(c.upstreamIn)
	c.uw.bw.Reset(uio)
	return nil
}

// idleOpen reports whether an idle connection is still open with nothing to read: a peek that
// does not wait finds no byte and no end of stream.
func idleOpen(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		// A raw call, as sockIO's: it never sleeps (MSG_DONTWAIT), and an ordinary one would wake
		// the runtime's monitor thread at the start of every exchange (sockio.go).
		var b [1]byte
		_, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
		open = e == unix.EAGAIN
		return true
	})
	return err == nil && open
}

// sendRequest writes the decided request upstream: its request line as the client sent it, its
// headers as scrubbed, and the payload framed by Content-Length (the enforcer read the whole
// body, so any chunking is undone and Expect was answered already).
func (c *session) sendRequest(t *txn) error {
	req, w := t.req, c.uw
	_, _ = w.WriteString(req.Method)
	_ = w.WriteByte(' ')
	_, _ = w.WriteString(req.RequestURI)
	_, _ = w.WriteString(" HTTP/1.1\r\n")
	if req.Host != "" {
		_, _ = w.WriteString("Host: ")
		_, _ = w.WriteString(req.Host)
		_, _ = w.WriteString("\r\n")
	}
	writeHeaders(w, req.Header)
	if req.Close && !headerHasToken(req.Header, "Connection", "close") {
		_, _ = w.WriteString("Connection: close\r\n")
	}
	if len(t.payload) > 0 || req.Body != http.NoBody || bodyMethod(req.Method) {
		_, _ = w.WriteString("Content-Length: ")
		_, _ = w.WriteString(strconv.Itoa(len(t.payload)))
		_, _ = w.WriteString("\r\n")
	}
	_, _ = w.WriteString("\r\n")
	_, _ = w.Write(t.payload)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("forward request: %w", err)
	}
	return nil
}

// bodyMethod reports whether requests of a method normally carry a body, so an empty one is
// still framed (Content-Length: 0).
func bodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// framingHeaders are the headers the enforcer writes itself when it writes a message head.
func framingHeader(name string) bool {
	switch name {
	case "Content-Length", "Transfer-Encoding", "Trailer", "Host":
		return true
	}
	return false
}

// writeHeaders writes every header of h but the framing ones. Values came from a parsed message
// or from the enforcer, so they hold no line breaks.
func writeHeaders(w *connWriter, h http.Header) {
	for k, vs := range h {
		if framingHeader(k) {
			continue
		}
		for _, v := range vs {
			_, _ = w.WriteString(k)
			_, _ = w.WriteString(": ")
			_, _ = w.WriteString(v)
			_, _ = w.WriteString("\r\n")
		}
	}
}
