package proxy

import (
	"bytes"
	"errors"
	"os"
	"time"
)

// wireProtocol is how a connection is relayed.
type wireProtocol uint8

const (
	// protoUndecided: the bytes so far are a strict prefix of an HTTP/1.x request line.
	protoUndecided wireProtocol = iota
	// protoOpaque: relay bytes both ways without looking at them.
	protoOpaque
	// protoHTTP1: relay HTTP/1.x request by request.
	protoHTTP1
)

func (p wireProtocol) String() string {
	switch p {
	case protoOpaque:
		return "opaque"
	case protoHTTP1:
		return "http/1"
	default:
		return "undecided"
	}
}

const (
	// firstByteTimeout is how long the client gets to speak first. Clients of server-speaks-first
	// protocols (SMTP, MySQL, FTP...) wait for a banner: after this, the first side to speak
	// decides (see clientSpeaksFirst).
	firstByteTimeout = 200 * time.Millisecond
	// requestLineTimeout bounds the wait for the rest of a request line once its first bytes
	// looked like HTTP.
	requestLineTimeout = 2 * time.Second
	// sniffBufferSize is the client reader's buffer, and so the longest request line sniff can see
	// whole. A longer line that is still a valid prefix is taken as HTTP.
	sniffBufferSize = 16 << 10
	// maxMethodLen is the length of the longest of standardMethods.
	maxMethodLen = len("OPTIONS")
)

// sniff decides how to relay the session from the client's first bytes, without consuming them.
// It only waits for bytes the client is sending: a start that stalls before the end of a request
// line makes the connection opaque, and so does a client that is still silent after
// firstByteTimeout when the upstream speaks first.
func (c *session) sniff() wireProtocol {
	defer func() { _ = c.client.SetReadDeadline(time.Time{}) }()
	if err := c.client.SetReadDeadline(time.Now().Add(firstByteTimeout)); err != nil {
		return protoOpaque
	}
	if _, err := c.cr.Peek(1); err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) || !c.clientSpeaksFirst() {
			return protoOpaque // a client already gone, or a server-speaks-first protocol
		}
	}
	extended := false
	for {
		b, _ := c.cr.Peek(c.cr.Buffered())
		if p := detectProtocol(b); p != protoUndecided {
			return p
		}
		if len(b) >= c.cr.Size() {
			return protoHTTP1
		}
		if !extended {
			if err := c.client.SetReadDeadline(time.Now().Add(requestLineTimeout)); err != nil {
				return protoOpaque
			}
			extended = true
		}
		if _, err := c.cr.Peek(len(b) + 1); err != nil {
			return protoOpaque
		}
	}
}

// clientSpeaksFirst is asked when the client stayed silent for firstByteTimeout. It waits for
// either side to send something and reports whether the client did while the upstream had not.
// A server-speaks-first protocol (SMTP, MySQL...) is then relayed opaquely, but a client that
// merely connected early, like a connection pool, is still parsed: pausing before the first
// request does not get an agent past HTTP auditing.
func (c *session) clientSpeaksFirst() bool {
	if err := c.client.SetReadDeadline(time.Time{}); err != nil {
		return false
	}
	upstreamDone := c.spawn(func() {
		_, _ = c.ur.Peek(1)
		_ = c.client.SetReadDeadline(time.Now()) // the upstream spoke or closed: stop waiting for the client
	})
	_, clientErr := c.cr.Peek(1)
	_ = c.upstream.SetReadDeadline(time.Now()) // the client spoke or the upstream did: stop waiting for the upstream
	<-upstreamDone
	if err := c.upstream.SetReadDeadline(time.Time{}); err != nil {
		return false
	}
	return clientErr == nil && c.ur.Buffered() == 0
}

// detectProtocol classifies the first bytes a client sent. HTTP/1.x is a request line
// "METHOD SP request-target SP HTTP/1.0|HTTP/1.1" ending in CRLF (or a bare LF, as net/http
// accepts), where METHOD is one of the standard methods in upper case. Anything else, notably the
// HTTP/2 preface "PRI * HTTP/2.0", is opaque. The answer is final unless it is protoUndecided:
// more bytes never change protoOpaque or protoHTTP1.
func detectProtocol(b []byte) wireProtocol {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		if len(b) <= maxMethodLen && isMethodPrefix(b) {
			return protoUndecided
		}
		return protoOpaque
	}
	if !isMethod(b[:sp]) {
		return protoOpaque
	}

	rest := b[sp+1:]
	n := 0
	for n < len(rest) && isTargetByte(rest[n]) {
		n++
	}
	if n == len(rest) {
		return protoUndecided
	}
	if n == 0 || rest[n] != ' ' {
		return protoOpaque
	}

	rest = rest[n+1:]
	for _, v := range [...]string{"HTTP/1.1\r\n", "HTTP/1.1\n", "HTTP/1.0\r\n", "HTTP/1.0\n"} {
		if len(rest) >= len(v) && string(rest[:len(v)]) == v {
			return protoHTTP1
		}
	}
	for _, v := range [...]string{"HTTP/1.1\r\n", "HTTP/1.0\r\n"} {
		if len(rest) < len(v) && string(rest) == v[:len(rest)] {
			return protoUndecided
		}
	}
	return protoOpaque
}

// standardMethods are the methods that make a request line HTTP/1. PRI is not one: it starts the
// HTTP/2 connection preface.
func standardMethods() [9]string {
	return [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
}

// isMethod reports whether m is a standard method.
func isMethod(m []byte) bool {
	for _, s := range standardMethods() {
		if string(m) == s {
			return true
		}
	}
	return false
}

// isMethodPrefix reports whether p is the start of a standard method (the empty string is).
func isMethodPrefix(p []byte) bool {
	for _, m := range standardMethods() {
		if len(p) <= len(m) && string(p) == m[:len(p)] {
			return true
		}
	}
	return false
}

// isTargetByte reports whether c may appear in a request target: visible US-ASCII.
func isTargetByte(c byte) bool { return c > ' ' && c < 0x7f }
