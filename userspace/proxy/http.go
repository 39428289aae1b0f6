package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// lingerTimeout bounds how long a closing HTTP connection keeps reading what the client still sends.
const lingerTimeout = 500 * time.Millisecond

// headReadLimit caps the bytes read while parsing one request or response head: net/http's
// server default (1 MiB) plus the reader's buffer, as net/http's server allows.
const headReadLimit = 1<<20 + 4096

// step is what the connection does after one HTTP exchange.
type step uint8

const (
	stepNext   step = iota // read the client's next request
	stepClose              // close the connection
	stepTunnel             // relay the rest opaquely: 101 Switching Protocols, or CONNECT established
)

// serveHTTP relays HTTP/1.x exchanges one at a time, auditing each, for as long as both sides keep
// the connection. With an Engine, each exchange is decided on first (enforcedExchange).
func (c *session) serveHTTP() {
	next := c.exchange
	if c.srv.cfg.Engine != nil {
		next = c.enforcedExchange
	}
	for {
		switch next() {
		case stepNext:
		case stepTunnel:
			c.relayOpaque(time.Now())
			return
		default:
			return
		}
	}
}

// exchange relays one request and its response.
//
// The request is written upstream by a goroutine while this one reads the response, so that an
// upstream that answers before it has the whole body (100 Continue, or an early error) is relayed
// at once instead of deadlocking against a client that waits for that answer.
func (c *session) exchange() step {
	// While the client is between requests, watch the upstream: if it closes the connection,
	// close the client's too, so that it learns before it sends a request into a dead connection.
	// Once the request is forwarded, the same watch tells that the response has begun.
	w := c.watchUpstream()

	c.clientIn.setLimit(headReadLimit)
	req, err := http.ReadRequest(c.cr)
	c.clientIn.setLimit(noLimit)
	if err != nil {
		if !isConnError(err) {
			c.badRequest(err)
			c.startClose()
			c.drainClient()
		}
		return stepClose
	}
	rec := c.record(protocolHTTP1)
	rec.Method, rec.Path = req.Method, req.URL.Path
	return c.relay(req, rec, w)
}

// upstreamWatch is a goroutine peeking at the upstream: ready is closed once the upstream sent
// a byte or failed (err, which closed both connections).
type upstreamWatch struct {
	ready <-chan struct{}
	err   *error
}

func (c *session) watchUpstream() upstreamWatch {
	var upErr error
	ready := c.spawn(func() {
		if _, upErr = c.ur.Peek(1); upErr != nil {
			c.closeBoth()
		}
	})
	return upstreamWatch{ready: ready, err: &upErr}
}

// relay forwards req as it streams in, and its response as it streams back, auditing the
// exchange in rec. w is a watch of the upstream started before req was read.
func (c *session) relay(req *http.Request, rec audit.Record, w upstreamWatch) step {
	upReady := w.ready
	start := time.Now()
	expectContinue := headerHasToken(req.Header, "Expect", "100-continue")

	reqBody := c.prepareRequest(req)
	var forwardErr error
	forwarded := c.spawn(func() { forwardErr = c.forward(req, reqBody) })

	// fail ends the exchange on an error after the request was read: the connection is closed,
	// which is how the client would have learnt of it without the proxy.
	fail := func(err error) step {
		c.closeBoth()
		<-forwarded
		rec.Reason = reasonRelayError + err.Error()
		rec.BytesIn = reqBody.n
		rec.DurationNS = time.Since(start).Nanoseconds()
		c.srv.audit(rec)
		c.srv.log.Debug("proxy: http exchange failed", "source", rec.Source, "destination", rec.Destination, "method", rec.Method, "path", rec.Path, "err", redactQuoted(err.Error()))
		return stepClose
	}

	<-upReady
	if upErr := *w.err; upErr != nil {
		return fail(fmt.Errorf("upstream closed before responding: %w", upErr))
	}
	resp, sent100, err := c.readResponse(req, false)
	if err != nil {
		return fail(err)
	}
	rec.Status = resp.StatusCode

	tunnel := resp.StatusCode == http.StatusSwitchingProtocols ||
		(req.Method == http.MethodConnect && resp.StatusCode/100 == 2)
	var respBody *streamBody
	closeAfter := false
	if tunnel {
		err = c.writeHead(resp, false)
	} else {
		respBody, closeAfter, err = c.writeResponse(req, resp)
	}
	if respBody != nil {
		rec.BytesOut = respBody.n
	}
	if err != nil {
		return fail(err)
	}
	rec.DurationNS = time.Since(start).Nanoseconds()

	// An Expect: 100-continue client that got a final answer without 100 Continue will not send
	// its body: the request cannot be finished, so neither can the connection.
	if expectContinue && !sent100 && !closed(forwarded) {
		closeAfter = true
	}
	if closeAfter {
		c.startClose()
		_ = c.upstream.Close() // done with; this also ends a body still being forwarded
	}
	<-forwarded
	rec.BytesIn = reqBody.n
	rec.Reason = reasonRelayed
	c.srv.requests.Add(1)
	c.srv.audit(rec)

	switch {
	case closeAfter:
		c.drainClient()
		return stepClose
	case forwardErr != nil, !reqBody.done():
		// The upstream did not get the whole request, or the client's body was not read to its
		// end: the two sides no longer agree where the next message starts.
		return stepClose
	case tunnel:
		return stepTunnel
	default:
		return stepNext
	}
}

// prepareRequest readies a request read from the client to be written upstream unchanged as far
// as Request.Write allows, and returns its body wrapper.
func (c *session) prepareRequest(req *http.Request) *streamBody {
	req.RequestURI = "" // Request.Write builds the request line from URL (and Host for CONNECT)
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = []string{""} // an empty value stops Request.Write adding Go's own
	}
	body := &streamBody{rc: req.Body, flush: c.uw.Flush}
	if req.Body != http.NoBody {
		req.Body = body
	}
	return body
}

// forward writes req, head and body, to the upstream. If the request cannot reach the upstream
// whole because of the client (its body broke off) or of the request itself, the session is torn
// down: the upstream will never answer. If writing to the upstream failed, its answer (or its
// closing) is still read: an upstream may refuse a body with a response and close.
func (c *session) forward(req *http.Request, body *streamBody) error {
	err := req.Write(c.uw)
	if err == nil {
		err = c.uw.Flush()
	}
	if err != nil {
		if body.err != nil || !isConnError(err) {
			c.closeBoth()
		}
		return fmt.Errorf("forward request: %w", err)
	}
	return nil
}

// readResponse reads the upstream's answer to req. Interim responses (100 Continue, 103 Early
// Hints) are passed to the client as they come; the final response, or a 101, is returned.
//
// swallow100 drops a 100 Continue instead of passing it on: the enforcing path answers a client's
// Expect: 100-continue itself, before it reads the body it must inspect.
func (c *session) readResponse(req *http.Request, swallow100 bool) (resp *http.Response, sent100 bool, err error) {
	for {
		if resp, ok := fastReadResponse(c.ur, req); ok {
			return resp, sent100, nil
		}
		c.upstreamIn.setLimit(headReadLimit)
		resp, err = http.ReadResponse(c.ur, req)
		c.upstreamIn.setLimit(noLimit)
		if err != nil {
			return nil, sent100, fmt.Errorf("read response: %w", err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, sent100, nil
		}
		if swallow100 && resp.StatusCode == http.StatusContinue {
			continue
		}
		if err := c.writeHead(resp, false); err != nil {
			return nil, sent100, err
		}
		if resp.StatusCode == http.StatusContinue {
			sent100 = true
		}
	}
}

// writeResponse relays a final response to the client, streaming its body, and reports whether
// the connection must be closed after it.
func (c *session) writeResponse(req *http.Request, resp *http.Response) (body *streamBody, closeAfter bool, err error) {
	body = &streamBody{rc: resp.Body, flush: c.cw.Flush}
	closeAfter = req.Close || resp.Close
	if !bodyAllowed(resp.StatusCode) {
		return body, closeAfter, c.writeHead(resp, closeAfter)
	}
	if !req.ProtoAtLeast(1, 1) && chunked(resp.TransferEncoding) {
		// An HTTP/1.0 client does not know chunked coding (the upstream got HTTP/1.1 from
		// Request.Write): send the body as is and end it by closing.
		resp.TransferEncoding = nil
		resp.ContentLength = -1
		resp.Close = true
	}
	if resp.ContentLength < 0 && !chunked(resp.TransferEncoding) {
		closeAfter = true // Response.Write ends such a body, or a HEAD answer about one, by closing
	}
	if !req.ProtoAtLeast(1, 1) && !closeAfter && len(resp.Header["Connection"]) == 0 {
		resp.Header.Set("Connection", "keep-alive") // HTTP/1.0 closes unless told otherwise
	}
	if resp.Body != http.NoBody {
		resp.Body = body
	}
	if err := resp.Write(c.cw); err != nil {
		return body, closeAfter, fmt.Errorf("write response: %w", err)
	}
	if err := c.cw.Flush(); err != nil {
		return body, closeAfter, fmt.Errorf("write response: %w", err)
	}
	return body, closeAfter, nil
}

// writeHead writes a response that has no body here: an interim 1xx, a 204 or 304, or the head
// that starts a tunnel. Response.Write is not used for these: it adds "Content-Length: 0" to a
// 204 answering a POST, and would take the bytes after a CONNECT's 200 for a body.
func (c *session) writeHead(resp *http.Response, closeAfter bool) error {
	text := strings.TrimPrefix(resp.Status, fmt.Sprintf("%03d", resp.StatusCode))
	text = strings.TrimPrefix(text, " ")
	if _, err := fmt.Fprintf(c.cw, "HTTP/%d.%d %03d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.StatusCode, text); err != nil {
		return fmt.Errorf("write %d response head: %w", resp.StatusCode, err)
	}
	exclude := map[string]bool{"Transfer-Encoding": true, "Trailer": true}
	if resp.StatusCode != http.StatusNotModified {
		exclude["Content-Length"] = true // a 304 may state the length of what it did not send
	}
	if err := resp.Header.WriteSubset(c.cw, exclude); err != nil {
		return fmt.Errorf("write %d response head: %w", resp.StatusCode, err)
	}
	end := "\r\n"
	if closeAfter && !headerHasToken(resp.Header, "Connection", "close") {
		end = "Connection: close\r\n\r\n"
	}
	if _, err := io.WriteString(c.cw, end); err != nil {
		return fmt.Errorf("write %d response head: %w", resp.StatusCode, err)
	}
	if err := c.cw.Flush(); err != nil {
		return fmt.Errorf("write %d response head: %w", resp.StatusCode, err)
	}
	return nil
}

// badRequest answers a request that could not be parsed, then the connection closes.
func (c *session) badRequest(err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errHeaderTooLarge) {
		status = http.StatusRequestHeaderFieldsTooLarge
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	_, _ = fmt.Fprintf(c.cw, "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", text, len(text), text)
	_ = c.cw.Flush()

	rec := c.base
	rec.Protocol = protocolHTTP1
	rec.Verdict = verdictDeny
	rec.Reason = reasonBadRequest
	rec.Status = status
	c.srv.audit(rec)
	c.srv.log.Debug("proxy: bad request", "source", rec.Source, "destination", rec.Destination, "err", redactQuoted(err.Error()))
}

// startClose begins an orderly close after the last response: the client gets FIN after it, and
// reading from the client (a body it is still sending, drainClient) stops after lingerTimeout.
func (c *session) startClose() {
	closeWrite(c.client)
	_ = c.client.SetReadDeadline(time.Now().Add(lingerTimeout))
}

// drainClient reads and drops what the client still sends until it closes or the linger time is
// up: closing a socket with unread data sends RST, which can destroy the response the client is
// still receiving.
func (c *session) drainClient() { _, _ = io.Copy(io.Discard, c.cr) }

// isConnError reports whether err is a connection ending or failing, rather than a malformed
// message.
func isConnError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// bodyAllowed reports whether a final response with this status may have a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func chunked(te []string) bool { return len(te) > 0 && te[0] == "chunked" }

// headerHasToken reports whether the comma-separated header field name lists token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
