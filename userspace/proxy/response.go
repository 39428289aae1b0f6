package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// relayResponse relays the upstream's answer to a decided request: a JSON or text body whole,
// after it was parsed, classified, scrubbed and its identifiers revealed (pep.Respond); an event
// stream event by event, each one so; a body without meaning (binary, compressed) as it streams,
// unless the domain needs inspection. It reports whether the connection must close after it,
// and an error when the exchange broke off (the caller closes both sides).
func (t *txn) relayResponse(resp *http.Response) (closeAfter bool, err error) {
	c := t.c
	t.status = resp.StatusCode
	closeAfter = t.req.Close || resp.Close
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return true, errors.New("upstream switched protocols without being asked to")
	}
	if t.masking {
		hid, err := c.flow.hideSessionHeader(resp.Header)
		if err != nil {
			t.refuseResponse(t.policyRefusal(reasonPseudonymFailed, err.Error(), http.StatusServiceUnavailable))
			return true, nil
		}
		if hid {
			t.masked = append(t.masked, protocol.HeaderMCPSessionID)
		}
	}
	switch {
	case !bodyAllowed(resp.StatusCode) || t.req.Method == http.MethodHead || resp.Body == http.NoBody:
		t.scrubHeaders(resp.Header)
		c.writeResponseHead(t.req, resp, resp.Header, bodilessLength(t.req, resp), false, closeAfter)
		return closeAfter, c.flushHead()
	case mediaType(resp.Header) == "text/event-stream" && identityEncoded(resp.Header):
		return t.relaySSE(resp, closeAfter)
	case inspectable(resp.Header):
		return t.relayBuffered(resp, closeAfter)
	case inspects(t.domain):
		t.refuseResponse(t.policyRefusal(string(pep.ReasonOpaquePayload), "the response body is not one the enforcer understands", http.StatusForbidden))
		return closeAfter, nil
	}
	t.scrubHeaders(resp.Header)
	body, closeAfter, err := c.writeResponse(t.req, resp)
	t.bytesOut = body.n
	if err == nil && !body.done() {
		err = errors.New("response body not read to its end")
	}
	return closeAfter, err
}

// relayBuffered relays a JSON or text response whole, decided on (pep.Respond) — or, in a domain
// that does not inspect responses, relayed first and parsed after, for its audit records.
func (t *txn) relayBuffered(resp *http.Response, closeAfter bool) (bool, error) {
	c := t.c
	limit := t.domain.BodyLimit()
	body, err := readUpTo(c.respBuf[:0], resp.Body, limit, resp.ContentLength)
	if cap(body) <= maxKeptBodyBuffer {
		c.respBuf = body[:0]
	}
	if err != nil {
		return true, fmt.Errorf("read response body: %w", err)
	}
	if int64(len(body)) > limit {
		t.refuseResponse(t.policyRefusal(reasonBodyTooLarge, fmt.Sprintf("the response body is over the limit of %d bytes", limit), http.StatusForbidden))
		return closeAfter, nil
	}
	answer := protocol.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if !inspects(t.domain) {
		// Nothing in this domain reads a response (no classification, masking, tier or sealed
		// payloads: pep.Respond could only refuse it for its size, checked above). It goes to
		// the client first and is parsed after, only to label its messages for the audit.
		t.bytesOut = int64(len(body))
		err := c.writeWhole(t.req, resp, resp.Header, body, closeAfter)
		if rb, perr := t.parser.ParseResponseWith(t.parsed, c.flow.calls, answer, t.hints); perr == nil {
			t.auditMessages(rb.Messages, verdictRedirect, "")
		}
		return closeAfter, err
	}
	rb, perr := t.parser.ParseResponseWith(t.parsed, c.flow.calls, answer, t.hints)
	if perr != nil {
		if pep.NeedsInspection(t.domain) {
			t.refuseResponse(t.policyRefusal(string(pep.ReasonOpaquePayload), "the response body is not what it claims: "+redactQuoted(perr.Error()), http.StatusForbidden))
			return closeAfter, nil
		}
		if r := t.sealResponse(body); r != nil {
			t.refuseResponse(*r)
			return closeAfter, nil
		}
		t.scrubHeaders(resp.Header)
		t.bytesOut = int64(len(body))
		return closeAfter, c.writeWhole(t.req, resp, resp.Header, body, closeAfter)
	}
	pr := &pep.Response{Domain: t.domain.Name, Headers: resp.Header, Raw: body, BodySize: int64(len(body))}
	decoded, refusal := t.prepareResponse(pr, rb)
	if refusal != nil {
		t.refuseResponse(*refusal)
		return closeAfter, nil
	}
	dec := t.eng.Respond(pr)
	t.noteDecision("response", &dec)
	if dec.Verdict != pep.Allow {
		reason := string(dec.Reason())
		t.auditMessages(rb.Messages, verdictDeny, reason)
		t.refuseResponse(responseRefusal(rb, decoded, protocol.RefusalData{Reason: reason, Domain: dec.Domain}))
		return closeAfter, nil
	}
	if r := t.sealResponse(dec.Payload); r != nil {
		t.refuseResponse(*r)
		return closeAfter, nil
	}
	t.bytesOut = int64(len(dec.Payload))
	err = c.writeWhole(t.req, resp, resp.Header, dec.Payload, closeAfter)
	t.auditMessages(rb.Messages, verdictRedirect, "") // once the client has its answer
	return closeAfter, err
}

// bodilessLength is the Content-Length of a response relayed without a body: what the upstream
// stated for a HEAD or a 304 (-1, none, when it stated nothing), none for a 204, else 0 (an
// empty body must still be delimited, or the client would read to the connection's end).
func bodilessLength(req *http.Request, resp *http.Response) int64 {
	switch {
	case req.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified:
		return resp.ContentLength
	case !bodyAllowed(resp.StatusCode):
		return -1
	}
	return 0
}

// readUpTo reads r to its end into buf, but no more than limit+1 bytes (one more than the limit
// tells a body over it); hint, when positive, is the length the body announced.
func readUpTo(buf []byte, r io.Reader, limit, hint int64) ([]byte, error) {
	if hint > 0 && hint <= limit && int64(cap(buf)) < hint+1 {
		buf = make([]byte, 0, hint+1)
	}
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// prepareResponse gives pep.Respond the response parsed, to be decoded if need be, when the
// domain classifies or masks, with its identifiers revealed (or hidden, for ids the server made
// up). It returns the body to decode on demand (a *lazyTree, which anyAt reads; nil when the
// response is not JSON) or, should a pseudonym fail, the refusal to answer with.
func (t *txn) prepareResponse(pr *pep.Response, rb *protocol.Body) (any, *reply) {
	classifies := pep.Classifies(t.domain)
	if !t.masking && !classifies {
		return nil, nil
	}
	if rb.Doc == nil {
		if classifies && len(rb.Raw) > 0 && len(rb.Messages) > 0 && rb.Messages[0].Text != "" {
			pr.Body, pr.Text = string(rb.Raw), true
		}
		return nil, nil
	}
	pr.MetadataPaths = metadataPaths(rb)
	if rb.Protocol != protocol.ProtoMCP {
		pr.ClientInfoPaths = [][]string{}
	}
	tree := newLazyTree(rb.Doc.Root(), nil)
	if t.masking {
		swap, err := t.c.flow.swapIdentifiers(rb, t.swap.hidden)
		tree.swapped = swap.swapped
		if err != nil {
			r := t.policyRefusal(reasonPseudonymFailed, err.Error(), http.StatusServiceUnavailable)
			return tree, &r
		}
		t.answered = append(t.answered, swap.answered...)
		t.noteScrub(swap.summary)
		if swap.changed {
			pr.Raw = rb.Doc.Bytes()
		}
	}
	pr.Lazy = tree.lazy()
	return tree, nil
}

// responseRefusal is the refusal of a response in the client's protocol: a JSON-RPC error for
// each answer (with the client's own id), else an HTTP 403 with the refusal body.
func responseRefusal(rb *protocol.Body, decoded any, data protocol.RefusalData) reply {
	r := reply{status: http.StatusForbidden, body: protocol.HTTPPolicyRefusal(data), reason: data.Reason}
	if rb == nil || rb.RPC == nil {
		return r
	}
	var out []byte
	n := 0
	for i := range rb.RPC.Messages {
		m := &rb.RPC.Messages[i]
		if !m.IsResponse() {
			continue
		}
		id := []byte(m.ID)
		if v, _, ok := anyAt(decoded, m.Value.Get("id").Path()); ok {
			id = encodeID(v)
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, protocol.PolicyRefusal(id, data)...)
	}
	switch {
	case n == 0:
		return r
	case rb.RPC.Batch:
		out = append(append([]byte{'['}, out...), ']')
	}
	r.status, r.body = http.StatusOK, out
	return r
}

// refuseResponse answers the client with r in place of the upstream's response, whose unread
// rest makes the upstream connection unusable.
func (t *txn) refuseResponse(r reply) {
	t.c.dropUpstream()
	t.c.writeReply(r, t.req)
	t.c.srv.refused.Add(1)
	t.deny(r.reason)
	t.status = r.status
	t.bytesOut = int64(len(r.body))
}

// scrubHeaders scrubs response headers the decision did not see, when the domain masks.
func (t *txn) scrubHeaders(h http.Header) {
	if t.masking {
		t.noteScrub(scrub.Headers(h))
	}
}

// writeResponseHead buffers a response head with the headers h (framing headers aside): with
// Content-Length when length >= 0, chunked when asked, Connection: close when closing. The
// caller flushes.
func (c *session) writeResponseHead(req *http.Request, resp *http.Response, h http.Header, length int64, chunked, closeAfter bool) {
	w := c.cw
	_, _ = w.WriteString("HTTP/1.1 ")
	_, _ = w.WriteString(strconv.Itoa(resp.StatusCode))
	_ = w.WriteByte(' ')
	text := strings.TrimPrefix(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)), " ")
	if text == "" {
		text = http.StatusText(resp.StatusCode)
	}
	_, _ = w.WriteString(text)
	_, _ = w.WriteString("\r\n")
	writeHeaders(w, h)
	if length >= 0 && resp.StatusCode != http.StatusNoContent && resp.StatusCode/100 != 1 {
		_, _ = w.WriteString("Content-Length: ")
		_, _ = w.WriteString(strconv.FormatInt(length, 10))
		_, _ = w.WriteString("\r\n")
	}
	if chunked {
		_, _ = w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case closeAfter && !headerHasToken(h, "Connection", "close"):
		_, _ = w.WriteString("Connection: close\r\n")
	case !closeAfter && !req.ProtoAtLeast(1, 1) && len(h["Connection"]) == 0:
		_, _ = w.WriteString("Connection: keep-alive\r\n")
	}
	_, _ = w.WriteString("\r\n")
}

// flushHead writes a buffered head out.
func (c *session) flushHead() error {
	if err := c.cw.Flush(); err != nil {
		return fmt.Errorf("write response head: %w", err)
	}
	return nil
}

// writeWhole writes a response with a whole body.
func (c *session) writeWhole(req *http.Request, resp *http.Response, h http.Header, body []byte, closeAfter bool) error {
	c.writeResponseHead(req, resp, h, int64(len(body)), false, closeAfter)
	_, _ = c.cw.Write(body)
	if err := c.cw.Flush(); err != nil {
		return fmt.Errorf("write response: %w", err)
	}
	return nil
}

// mediaType returns the media type of a message, lower case, "" when none is given.
func mediaType(h http.Header) string { return protocol.MediaType(h) }

// identityEncoded reports whether a body comes without a content coding (gzip, br, ...).
func identityEncoded(h http.Header) bool {
	ce := h.Get("Content-Encoding")
	return ce == "" || strings.EqualFold(ce, "identity")
}

// inspectable reports whether a response body is one the enforcer reads whole and understands:
// JSON or text, not compressed.
func inspectable(h http.Header) bool {
	if !identityEncoded(h) {
		return false
	}
	switch mt := mediaType(h); {
	case mt == "", mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/x-www-form-urlencoded", mt == "application/xml":
		return true
	case strings.HasPrefix(mt, "text/") && mt != "text/event-stream":
		return true
	}
	return false
}
