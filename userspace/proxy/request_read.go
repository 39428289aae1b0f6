package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// readHead reads the next request head on the enforcing path. A client may idle between
// requests (the idle timeout ends that), but once it sent the first byte of a head it has
// HeaderTimeout to send the rest. A head that arrived whole and plain is read on the fast path
// (fasthead.go), with nothing left to wait for; any other is read by net/http. ok is false when
// there is no request: the connection ended, or the head was refused (answered and audited here).
func (c *session) readHead() (req *http.Request, ok bool) {
	if _, err := c.cr.Peek(1); err != nil {
		return nil, false
	}
	if req, ok := fastReadRequest(c.cr); ok {
		return req, true
	}
	_ = c.client.SetReadDeadline(time.Now().Add(c.srv.cfg.HeaderTimeout))
	c.clientIn.setLimit(headReadLimit)
	req, err := http.ReadRequest(c.cr)
	c.clientIn.setLimit(noLimit)
	_ = c.client.SetReadDeadline(time.Time{})
	if err == nil {
		return req, true
	}
	var r reply
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		r = inputError(http.StatusRequestTimeout, reasonHeaderTimeout,
			fmt.Sprintf("the request head did not arrive within %s", c.srv.cfg.HeaderTimeout))
	case errors.Is(err, errHeaderTooLarge):
		r = inputError(http.StatusRequestHeaderFieldsTooLarge, reasonHeaderTooLarge,
			fmt.Sprintf("the request head is over %d bytes", headReadLimit))
	case isConnError(err):
		return nil, false
	default:
		r = inputError(http.StatusBadRequest, reasonBadRequest, "malformed request: "+redactQuoted(err.Error()))
	}
	c.rejectHead(r, err)
	c.startClose()
	c.drainClient()
	return nil, false
}

// readBody reads the request body whole, within t.limit: the enforcer decides on a body only
// once it has all of it. A client that asked for 100 Continue gets it from the enforcer (the
// upstream never sees the Expect header). ok is false when the exchange is over: the body was
// refused (answered and audited) or the client went away.
func (t *txn) readBody() (ok bool) {
	c, req := t.c, t.req
	if req.Body == http.NoBody {
		return true
	}
	if req.ContentLength > t.limit {
		t.rejectInput(inputError(http.StatusRequestEntityTooLarge, reasonBodyTooLarge,
			fmt.Sprintf("the request body of %d bytes is over the limit of %d", req.ContentLength, t.limit)))
		return false
	}
	if headerHasToken(req.Header, "Expect", "100-continue") {
		req.Header.Del("Expect")
		if req.ProtoAtLeast(1, 1) {
			if _, err := c.cw.WriteString("HTTP/1.1 100 Continue\r\n\r\n"); err != nil || c.cw.Flush() != nil {
				return false
			}
		}
	}
	buf := c.bodyBuf[:0]
	if req.ContentLength > 0 && int64(cap(buf)) < req.ContentLength {
		buf = make([]byte, 0, req.ContentLength)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := req.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > t.limit {
			t.rejectInput(inputError(http.StatusRequestEntityTooLarge, reasonBodyTooLarge,
				fmt.Sprintf("the request body is over the limit of %d bytes", t.limit)))
			return false
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if isConnError(err) {
				t.verdict, t.reason = verdictDeny, reasonIncompleteBody
				t.writeRecord(t.record())
				return false
			}
			t.rejectInput(inputError(http.StatusBadRequest, reasonBadRequest, "malformed request body: "+redactQuoted(err.Error())))
			return false
		}
	}
	t.body = buf
	if cap(buf) <= maxKeptBodyBuffer {
		c.bodyBuf = buf[:0]
	}
	return true
}

// maxKeptBodyBuffer is the largest request body buffer a connection keeps for its next request.
const maxKeptBodyBuffer = 16 << 10

// pipelined reports whether the client sent bytes beyond the current request before it had the
// answer: HTTP/1.1 pipelining, which the enforcing path refuses (see enforcedExchange). Blank
// lines, which some clients send after a body, are dropped.
func (c *session) pipelined() bool {
	for c.cr.Buffered() > 0 {
		b, _ := c.cr.Peek(1)
		if b[0] != '\r' && b[0] != '\n' {
			return true
		}
		_, _ = c.cr.Discard(1)
	}
	return false
}
