package proxy

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// enforcedExchange is one HTTP exchange on the enforcing path (Config.Engine set):
//
//  1. read the request head (HeaderTimeout once it began; 400, 431, 408 otherwise) and the
//     whole body within the body limit of the domains it may belong to (413 above it);
//  2. parse the body (JSON-RPC, MCP, A2A, OpenAI, plain JSON or text), choose the domain,
//     replace the identifiers it must not learn by the flow's pseudonyms, and decide
//     (pep.Decide); a refusal is answered in the client's protocol and never forwarded;
//  3. forward the request as scrubbed and redacted, on a live upstream connection;
//  4. relay the response, decided on in turn (relayResponse, relaySSE);
//  5. write the exchange's record (the messages' records were written as they were decided).
//
// A client that pipelines (sends its next request before it has the answer) gets the answer to
// the first, then a 400 for the rest, and the connection closes: pipelining is refused.
func (c *session) enforcedExchange() step {
	req, ok := c.readHead()
	if !ok {
		return stepClose
	}
	t := c.newTxn(req)
	defer t.end()
	if t.eng == nil {
		t.rejectInput(reply{status: http.StatusServiceUnavailable, reason: reasonNoEngine, close: true,
			body: protocol.HTTPPolicyRefusal(protocol.RefusalData{Reason: reasonNoEngine, Detail: "no policy is in force"})})
		return stepClose
	}
	if err := c.joinFlow(); err != nil {
		t.rejectInput(reply{status: http.StatusServiceUnavailable, reason: reasonPseudonymFailed, close: true, detail: err.Error(),
			body: protocol.HTTPPolicyRefusal(protocol.RefusalData{Reason: reasonPseudonymFailed})})
		return stepClose
	}
	if req.Method == http.MethodConnect || req.Header.Get("Upgrade") != "" {
		return c.enforceTunnel(t)
	}
	t.limit = t.eng.BodyLimit(t.dst, req.URL.Path)
	t.parser = protocol.Parser{Limits: protocol.Limits{MaxBodyBytes: int(t.limit)}}
	if !t.readBody() {
		return stepClose
	}
	pipelined := c.pipelined()
	if r := t.inspect(); r != nil {
		t.refuse(*r)
		return c.afterExchange(t, pipelined, r.close)
	}
	c.srv.requests.Add(1)
	if err := c.ensureUpstream(c.upstreamStale, t.id); err != nil {
		c.upstreamStale = true
		t.refuse(t.policyRefusal(reasonUpstreamFailed, err.Error(), http.StatusBadGateway))
		return c.afterExchange(t, pipelined, false)
	}
	c.upstreamStale = false
	closeAfter, err := c.forwardAndRelay(t)
	if err != nil {
		t.reason = reasonRelayError + redactQuoted(err.Error())
		t.writeRecord(t.record())
		c.closeBoth()
		return stepClose
	}
	t.writeRecord(t.record())
	return c.afterExchange(t, pipelined, closeAfter)
}

// forwardAndRelay sends the decided request and relays its response. An upstream that fails
// before it answers gets the client a 502; one that fails after is an error (the caller ends the
// connection, which is how the client learns of it).
func (c *session) forwardAndRelay(t *txn) (closeAfter bool, err error) {
	sendErr := c.sendRequest(t)
	if !t.domain.AuditBeforeForward { // else written before the request went
		t.auditMessages(t.parsed.Messages, verdictRedirect, "") // while the upstream works on it
	}
	if sendErr != nil {
		// An upstream may answer before it has the whole request (an early 413, say) and
		// close: its answer is still read. Its connection is not reused either way; the
		// client's is, since the enforcer read the client's whole request.
		c.upstreamStale = true
	}
	resp, _, err := c.readResponse(t.req, true)
	if err != nil && sendErr != nil {
		err = sendErr
	}
	if err != nil {
		c.dropUpstream()
		t.refuse(t.policyRefusal(reasonUpstreamFailed, redactQuoted(err.Error()), http.StatusBadGateway))
		t.verdict, t.reason, t.reasons = verdictRedirect, reasonRelayError+redactQuoted(err.Error()), nil
		return false, nil
	}
	return t.relayResponse(resp)
}

// afterExchange is what follows an exchange: the next request, or the end of the connection.
func (c *session) afterExchange(t *txn, pipelined, closeAfter bool) step {
	switch {
	case pipelined && !closeAfter:
		r := inputError(http.StatusBadRequest, reasonPipelining,
			"pipelined requests are not supported: send each request after the previous answer, or on its own connection")
		c.writeReply(r, nil)
		rec := c.base
		rec.Protocol, rec.Verdict, rec.Reason, rec.Status = protocolHTTP1, verdictDeny, r.reason, r.status
		rec.ReasonCodes, rec.Message = []string{r.reason}, r.detail
		c.srv.audit(rec)
		fallthrough
	case closeAfter:
		c.startClose()
		c.drainClient()
		return stepClose
	}
	return stepNext
}

// joinFlow finds the flow (agent, destination) of the connection, once.
func (c *session) joinFlow() error {
	if c.flow != nil {
		return nil
	}
	f, err := c.srv.flows.get(c.id.AgentID, c.base.Destination)
	if err != nil {
		return err
	}
	c.flow = f
	return nil
}

// dropUpstream closes an upstream connection left with an unread response; the next exchange
// dials a new one.
func (c *session) dropUpstream() {
	c.upMu.Lock()
	_ = c.upstream.Close()
	c.upMu.Unlock()
	c.upstreamStale = true
}

// enforceTunnel decides on a CONNECT or an Upgrade request: what follows it is a stream the
// enforcer does not parse, so it goes only in a domain that does not need inspection, and is
// then relayed as the bare relay does (relay).
func (c *session) enforceTunnel(t *txn) step {
	req := t.req
	ex := &pep.Exchange{Source: c.source(t.start), Destination: t.dst, HTTPMethod: req.Method, HTTPPath: req.URL.Path, Headers: req.Header, Now: t.start}
	dec := t.eng.Decide(c.ctx, ex)
	if dom, ok := t.eng.Select(ex); ok {
		t.domain = dom
	}
	if dec.Verdict != pep.Allow {
		status, body := dec.HTTPRefusal()
		t.refuse(reply{status: status, body: body, reason: string(dec.Reason()), close: true})
		c.startClose()
		c.drainClient()
		return stepClose
	}
	if inspects(t.domain) {
		t.rejectInput(reply{status: http.StatusForbidden, reason: string(pep.ReasonOpaquePayload), close: true,
			detail: "a tunnel's bytes cannot be inspected", body: protocol.HTTPPolicyRefusal(protocol.RefusalData{Reason: string(pep.ReasonOpaquePayload), Domain: dec.Domain})})
		return stepClose
	}
	if err := c.ensureUpstream(c.upstreamStale, t.id); err != nil {
		t.rejectInput(reply{status: http.StatusBadGateway, reason: reasonUpstreamFailed, close: true,
			body: protocol.HTTPPolicyRefusal(protocol.RefusalData{Reason: reasonUpstreamFailed})})
		return stepClose
	}
	c.srv.requests.Add(1)
	c.domain, c.tier = dec.Domain, dec.Tier
	rec := c.record(protocolHTTP1)
	rec.Method, rec.Path, rec.ExchangeID = req.Method, req.URL.Path, t.id
	return c.relay(req, rec, c.watchUpstream())
}

// enforceOpaque decides on a connection that does not speak HTTP/1.x: its bytes are relayed as
// they are only in a domain chosen by destination alone that does not need inspection; else the
// connection is refused (reset) and audited.
func (c *session) enforceOpaque() {
	var eng *pep.Engine
	if c.srv.cfg.Engine != nil {
		eng = c.srv.cfg.Engine()
	}
	rec := c.record(protocolTCP)
	now := time.Now()
	refuse := func(reason, domain string) {
		rec.Verdict, rec.Reason, rec.ReasonCodes, rec.Domain = verdictDeny, reason, []string{reason}, domain
		c.srv.audit(rec)
		c.srv.refuse(c.client)
		c.closeBoth()
	}
	if eng == nil {
		refuse(reasonNoEngine, "")
		return
	}
	ex := &pep.Exchange{Source: c.source(now), Now: now,
		Destination: pep.Destination{Addr: c.origin, Zone: c.base.DstZone}}
	dec := eng.Decide(c.ctx, ex)
	if dec.Verdict != pep.Allow {
		refuse(string(dec.Reason()), dec.Domain)
		return
	}
	if dom, ok := eng.Select(ex); ok && inspects(dom) {
		refuse(string(pep.ReasonOpaquePayload), dec.Domain)
		return
	}
	c.domain, c.tier = dec.Domain, dec.Tier
	c.relayOpaque(now)
}

// encodeID returns the JSON text of an identifier taken from a decoded body.
func encodeID(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
