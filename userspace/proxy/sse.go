package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// relaySSE relays an event stream event by event: each event is parsed (MCP messages, A2A
// stream results, OpenAI chunks), classified, scrubbed and its identifiers revealed, then
// written and flushed before the next one is read. The stream is never held whole. An event a
// classification blocks ends the stream with a refusal in the client's protocol in its place.
func (t *txn) relaySSE(resp *http.Response, closeAfter bool) (bool, error) {
	c := t.c
	t.scrubHeaders(resp.Header)
	chunked := t.req.ProtoAtLeast(1, 1)
	if !chunked {
		closeAfter = true // an HTTP/1.0 client reads the stream to the connection's end
	}
	c.writeResponseHead(t.req, resp, resp.Header, -1, chunked, closeAfter)
	if err := c.flushHead(); err != nil {
		return true, err
	}
	out := eventWriter{w: c.cw, chunked: chunked}
	limit := int(t.domain.BodyLimit())
	sr := protocol.NewSSEReader(resp.Body, protocol.Limits{MaxLineBytes: limit, MaxEventBytes: limit})
	sp := t.parser.NewStreamParser(t.parsed, resp.Header, t.hints)
	sp.SetCalls(c.flow.calls)
	partial := false
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return true, fmt.Errorf("event stream: %w", err)
		}
		refusal := t.inspectEvent(sp, &ev, &partial)
		if refusal == nil {
			n, err := out.relay(ev)
			t.bytesOut += int64(n)
			t.flushMessages()
			if err != nil {
				return true, err
			}
			refusal = t.keepRelayedEvent(out.buf[:n])
		}
		if refusal != nil {
			c.dropUpstream()
			t.deny(refusal.reason)
			if err := out.event(refusal.body); err != nil {
				return true, err
			}
			t.bytesOut += int64(len(refusal.body))
			break
		}
	}
	if partial {
		t.auditMessages(sp.Summary(), t.verdict, deniedReason(t))
	}
	if r := t.sealPayloads(); r != nil {
		// The events went out; the stream ends without its last chunk, so the client knows it
		// was cut short.
		t.deny(r.reason)
		return true, errors.New("the event stream could not be sealed to the audit payload key")
	}
	if err := out.end(); err != nil {
		return true, err
	}
	return closeAfter, nil
}

func deniedReason(t *txn) string {
	if t.verdict == verdictDeny {
		return t.reason
	}
	return ""
}

// inspectEvent decides on one event. It changes ev in place when the decision changed its data,
// and returns the refusal to send instead when the decision blocks it.
func (t *txn) inspectEvent(sp *protocol.StreamParser, ev *protocol.Event, partial *bool) *reply {
	if r := t.inspectEventFields(ev); r != nil {
		return r
	}
	b, err := sp.Parse(*ev)
	switch {
	case err != nil && errors.Is(err, protocol.ErrMalformed):
		return t.inspectEventText(ev) // data that is not JSON: text
	case err != nil:
		if pep.NeedsInspection(t.domain) {
			r := t.eventRefusal(nil, nil, string(pep.ReasonOpaquePayload))
			return &r
		}
		return nil
	case b == nil:
		return nil // a comment, a keep-alive, an endpoint announcement, [DONE]
	}
	for i := range b.Messages {
		*partial = *partial || b.Messages[i].Partial
	}
	pr := &pep.Response{Domain: t.domain.Name, Raw: b.Raw, BodySize: int64(len(b.Raw))}
	decoded, refusal := t.prepareResponse(pr, b)
	if refusal != nil {
		return refusal
	}
	dec := t.eng.Respond(pr)
	t.noteDecision("response", &dec)
	if dec.Verdict != pep.Allow {
		reason := string(dec.Reason())
		t.auditMessages(b.Messages, verdictDeny, reason)
		r := t.eventRefusal(b, decoded, reason)
		return &r
	}
	t.auditMessages(b.Messages, verdictRedirect, "")
	if !sameBytes(dec.Payload, b.Raw) {
		ev.Data, ev.Raw = string(dec.Payload), nil
	}
	return nil
}

// inspectEventFields classifies the text a peer chose beside an event's data: its type and id.
func (t *txn) inspectEventFields(ev *protocol.Event) *reply {
	if !pep.Classifies(t.domain) {
		return nil
	}
	for _, f := range []*string{&ev.Type, &ev.ID} {
		if *f == "" {
			continue
		}
		dec := t.eng.Respond(&pep.Response{Domain: t.domain.Name, Body: *f, Raw: []byte(*f), Text: true, BodySize: int64(len(*f))})
		t.noteDecision("response", &dec)
		if dec.Verdict != pep.Allow {
			r := t.eventRefusal(nil, nil, string(dec.Reason()))
			return &r
		}
		*f = string(dec.Payload)
	}
	return nil
}

// inspectEventText decides on an event whose data is text.
func (t *txn) inspectEventText(ev *protocol.Event) *reply {
	if !pep.Classifies(t.domain) {
		return nil
	}
	dec := t.eng.Respond(&pep.Response{Domain: t.domain.Name, Body: ev.Data, Raw: []byte(ev.Data), Text: true, BodySize: int64(len(ev.Data))})
	t.noteDecision("response", &dec)
	if dec.Verdict != pep.Allow {
		r := t.eventRefusal(nil, nil, string(dec.Reason()))
		return &r
	}
	if string(dec.Payload) != ev.Data {
		ev.Data, ev.Raw = string(dec.Payload), nil
	}
	return nil
}

// eventRefusal is the event that takes a blocked event's place: for JSON-RPC, the error answer
// to the blocked answer's id, or to the request's when the blocked event answers nothing; else
// an OpenAI-style {"error":{...}} event.
func (t *txn) eventRefusal(b *protocol.Body, decoded any, reason string) reply {
	data := protocol.RefusalData{Reason: reason, Domain: t.domainName()}
	if b != nil && b.RPC != nil {
		if r := responseRefusal(b, decoded, data); r.status == http.StatusOK {
			return r
		}
	}
	if t.parsed != nil && t.parsed.RPC != nil {
		if r := refusalFor(t.parsed, data, http.StatusForbidden); r.status == http.StatusOK {
			return r
		}
	}
	return reply{status: http.StatusForbidden, body: protocol.HTTPPolicyRefusal(data), reason: reason}
}

// eventWriter writes events to the client, as chunks of a chunked body or as raw bytes, and
// flushes each one.
type eventWriter struct {
	w       *connWriter
	chunked bool
	buf     []byte
}

// relay writes ev encoded afresh from what was understood of it: its type, id, retry and data,
// and its comments emptied. Lines no parser reads (unknown fields, comment text) are a channel
// past inspection, so they are not relayed; an empty comment still keeps the stream alive.
func (e *eventWriter) relay(ev protocol.Event) (int, error) {
	for i := range ev.Comments {
		ev.Comments[i] = ""
	}
	var err error
	if e.buf, err = ev.AppendTo(e.buf[:0]); err != nil {
		return 0, err
	}
	return len(e.buf), e.write(e.buf)
}

// event writes an event whose data is data.
func (e *eventWriter) event(data []byte) error {
	var err error
	if e.buf, err = (protocol.Event{Data: string(data), HasData: true, Retry: -1}).AppendTo(e.buf[:0]); err != nil {
		return err
	}
	return e.write(e.buf)
}

func (e *eventWriter) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if e.chunked {
		var size [16]byte
		_, _ = e.w.Write(strconv.AppendInt(size[:0], int64(len(b)), 16))
		_, _ = e.w.WriteString("\r\n")
	}
	_, _ = e.w.Write(b)
	if e.chunked {
		_, _ = e.w.WriteString("\r\n")
	}
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// end ends the stream: the last chunk of a chunked body.
func (e *eventWriter) end() error {
	if !e.chunked {
		return nil
	}
	_, _ = e.w.WriteString("0\r\n\r\n")
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("end event stream: %w", err)
	}
	return nil
}
