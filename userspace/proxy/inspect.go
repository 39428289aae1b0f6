package proxy

import (
	"errors"
	"net/http"
	"strings"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// inspect parses the request body, selects its domain, swaps its identifiers, decides on it
// (pep.Decide: no_policy, body limit, credential, role, attestation, classification, then
// scrubbing and the tier) and readies what is forwarded. It returns the reply refusing the
// request, or nil when it may go: then t.payload is the body to forward and t.req.Header the
// headers, scrubbed.
func (t *txn) inspect() *reply {
	req := t.req
	b, err := t.parser.ParseRequest(protocol.Request{Method: req.Method, Target: req.RequestURI, Header: req.Header, Body: t.body}, t.hints)
	if err != nil {
		r := t.unreadable(err)
		return &r
	}
	t.parsed = b
	t.protocolName = protocolLabel(b.Protocol)
	t.describe(b)
	if b.RPC != nil {
		if r := checkRPC(b, req.Header); r != nil {
			return r
		}
	}

	ex := &pep.Exchange{
		Source: t.c.source(t.start), Destination: t.dst,
		HTTPMethod: req.Method, HTTPPath: req.URL.Path,
		Headers: req.Header, Raw: t.body, BodySize: int64(len(t.body)), Now: t.start,
	}
	fillMethods(ex, b)
	dom, ok := t.eng.Select(ex)
	if ok {
		t.domain, t.masking = dom, dom.MetadataMasking
		if pep.NeedsInspection(dom) && opaqueBody(b, req.Header) {
			r := t.policyRefusal(string(pep.ReasonOpaquePayload), "the request body is not one the enforcer understands", http.StatusForbidden)
			return &r
		}
		if err := t.prepareBody(ex, b, pep.Classifies(dom)); err != nil {
			r := t.policyRefusal(reasonPseudonymFailed, err.Error(), http.StatusServiceUnavailable)
			return &r
		}
	}

	var dec pep.Decision
	if b.RPC != nil && b.RPC.Batch {
		dec = t.decideBatch(ex, b)
	} else {
		dec = t.eng.Decide(t.c.ctx, ex)
	}
	t.noteDecision("request", &dec)
	if dec.Verdict != pep.Allow {
		t.c.flow.forgetIDs(t.swap.hidden)
		data := protocol.RefusalData{Reason: string(dec.Reason()), Domain: dec.Domain}
		for _, r := range dec.Reasons[1:] {
			t.reasons = append(t.reasons, string(r))
		}
		r := refusalFor(b, data, dec.HTTPStatus())
		t.auditMessages(b.Messages, verdictDeny, data.Reason)
		return &r
	}
	t.payload = dec.Payload
	t.noteScrub(t.swap.summary)
	if t.masking {
		t.c.flow.revealSessionHeader(req.Header)
	}
	if b.Protocol == protocol.ProtoMCP && !sameBytes(t.payload, t.body) {
		if err := protocol.RewriteMCPHeaders(req.Header, t.payload, protocol.Limits{MaxBodyBytes: int(t.limit) + len(t.payload)}); err != nil {
			r := t.policyRefusal(string(pep.ReasonTierFailed), "keep Mcp-Method and Mcp-Name in step with the body: "+err.Error(), http.StatusServiceUnavailable)
			return &r
		}
	}
	if r := t.sealPayloads(); r != nil {
		return r
	}
	if inspects(dom) {
		req.Header.Del("Accept-Encoding") // answers must come back in a form the enforcer reads
	}
	if dom.AuditBeforeForward {
		if err := t.auditDecisionDurably(b.Messages); err != nil {
			r := t.policyRefusal(reasonAuditUnavailable, "the audit record could not be made durable before forwarding", http.StatusServiceUnavailable)
			return &r
		}
	}
	return nil // the messages' records are queued once the request went (forwardAndRelay)
}

// prepareBody gives the decision what it works on when the domain needs it: the body decoded
// (for classification and metadata scrubbing) with the protocol's identifiers swapped for
// pseudonyms (when the domain masks metadata), or the text of a textual body.
func (t *txn) prepareBody(ex *pep.Exchange, b *protocol.Body, classifies bool) error {
	if !t.masking && !classifies {
		return nil
	}
	if b.Doc == nil {
		if classifies && len(t.body) > 0 && len(b.Messages) > 0 && b.Messages[0].Text != "" {
			ex.Body, ex.Text = string(t.body), true
		}
		return nil
	}
	ex.MetadataPaths = metadataPaths(b)
	if b.Protocol != protocol.ProtoMCP {
		ex.ClientInfoPaths = [][]string{}
	}
	var swapped []pep.Swap
	if t.masking {
		swap, err := t.c.flow.swapIdentifiers(b, nil)
		t.swap = swap
		if err != nil {
			return err
		}
		if swap.changed {
			ex.Raw = b.Doc.Bytes() // the body with its identifiers swapped, everything else as sent
		}
		swapped = swap.swapped
	}
	tree := newLazyTree(b.Doc.Root(), swapped)
	if b.RPC != nil && b.RPC.Batch {
		ex.Body = tree.get() // decided element by element (decideBatch)
	} else {
		ex.Lazy = tree.lazy()
	}
	return nil
}

// decideBatch decides a JSON-RPC batch element by element (each with its own method and tool);
// the batch goes only if every element may, and then as the elements' payloads.
func (t *txn) decideBatch(ex *pep.Exchange, b *protocol.Body) pep.Decision {
	elems, _ := ex.Body.([]any)
	var out pep.Decision
	payload := []byte{'['}
	for i := range b.RPC.Messages {
		m := &b.RPC.Messages[i]
		el := *ex
		el.JSONRPCMethod, el.MCPTool, el.A2AMethod = methodsOf(b.Protocol, m)
		el.Raw, el.Body, el.BodySize = m.Value.Raw(), nil, int64(len(m.Value.Raw()))
		if i > 0 {
			el.Headers = nil // scrubbed once, with the first element
		}
		if i < len(elems) {
			el.Body = elems[i]
			if t.swap.changed {
				el.Raw = nil
			}
		}
		d := t.eng.Decide(t.c.ctx, &el)
		if i == 0 {
			out = d
			out.Findings, out.Reasons = nil, nil
		}
		out.Findings = append(out.Findings, d.Findings...)
		out.Scrubbed.Add(d.Scrubbed)
		if d.Verdict != pep.Allow {
			if out.Verdict == pep.Allow || len(out.Reasons) == 0 {
				out.Verdict, out.Domain = pep.Deny, d.Domain
			}
			out.Reasons = append(out.Reasons, d.Reasons...)
			continue
		}
		if i > 0 {
			payload = append(payload, ',')
		}
		payload = append(payload, d.Payload...)
	}
	if out.Verdict == pep.Allow {
		out.Payload = append(payload, ']')
	}
	return out
}

// checkRPC refuses JSON-RPC bodies that are not valid JSON-RPC, and MCP requests whose
// Mcp-Method / Mcp-Name headers disagree with their body (receivers would disagree about what
// was asked).
func checkRPC(b *protocol.Body, h http.Header) *reply {
	for i := range b.RPC.Messages {
		if m := &b.RPC.Messages[i]; m.Type == protocol.RPCInvalid {
			r := inputError(http.StatusBadRequest, reasonInvalidJSONRPC, redactQuoted(m.Invalid.Error()))
			r.body = protocol.InvalidRequestResponse(m.ID, r.detail)
			return &r
		}
	}
	if b.Protocol != protocol.ProtoMCP {
		return nil
	}
	if err := protocol.CheckMCPHeaders(h, b); err != nil {
		r := inputError(http.StatusBadRequest, reasonHeaderMismatch, err.Error())
		r.body = protocol.HeaderMismatchResponse(b.RPC.Messages[0].ID, err)
		return &r
	}
	return nil
}

// unreadable answers a body the parser refused: over a limit (413), or not what it claims to be
// (400, as a JSON-RPC parse error when the client speaks JSON-RPC).
func (t *txn) unreadable(err error) reply {
	if errors.Is(err, protocol.ErrTooLarge) {
		return inputError(http.StatusRequestEntityTooLarge, reasonBodyTooLarge, err.Error())
	}
	return badBody(err, speaksJSONRPC(t.req, t.body))
}

// speaksJSONRPC guesses whether a client whose body could not be parsed speaks JSON-RPC: it
// sent MCP or A2A headers, or its body starts like a JSON-RPC envelope.
func speaksJSONRPC(req *http.Request, body []byte) bool {
	h := req.Header
	if h.Get(protocol.HeaderMCPSessionID) != "" || h.Get(protocol.HeaderMCPProtocolVersion) != "" || h.Get("A2A-Version") != "" {
		return true
	}
	return strings.Contains(string(body[:min(len(body), 64)]), `"jsonrpc"`)
}

func isInvalidRequest(err error) bool { return errors.Is(err, protocol.ErrInvalidRequest) }

// policyRefusal is a refusal in the client's protocol with a reason the enforcer itself gives.
func (t *txn) policyRefusal(reason, detail string, httpStatus int) reply {
	r := refusalFor(t.parsed, protocol.RefusalData{Reason: reason, Domain: t.domainName()}, httpStatus)
	r.detail = detail
	return r
}

// describe fills the exchange record's protocol facts from the parsed request: the channel,
// method and tool of its first message.
func (t *txn) describe(b *protocol.Body) {
	if len(b.Messages) == 0 {
		return
	}
	m := &b.Messages[0]
	t.channel, t.rpcMethod = string(m.Channel), m.Method
	if m.Kind == protocol.KindToolCall {
		t.tool = m.Name
	}
}

// fillMethods sets what domain matching reads from the body: the JSON-RPC method, the MCP tool
// of a tools/call, the A2A method (as sent; the HTTP+JSON binding's in its 1.0 spelling).
func fillMethods(ex *pep.Exchange, b *protocol.Body) {
	switch {
	case b.RPC != nil && len(b.RPC.Messages) > 0:
		ex.JSONRPCMethod, ex.MCPTool, ex.A2AMethod = methodsOf(b.Protocol, &b.RPC.Messages[0])
	case b.Protocol == protocol.ProtoA2A && len(b.Messages) > 0:
		ex.A2AMethod = b.Messages[0].Method
	}
}

func methodsOf(p protocol.Protocol, m *protocol.RPC) (rpc, tool, a2a string) {
	rpc = m.Method
	switch p {
	case protocol.ProtoMCP:
		if m.Method == protocol.MCPToolsCall {
			tool = m.Params.Get("name").Str()
		}
	case protocol.ProtoA2A:
		a2a = m.Method
	}
	return rpc, tool, a2a
}

// opaqueBody reports whether a request body is bytes the enforcer does not understand: neither
// JSON nor text, or compressed.
func opaqueBody(b *protocol.Body, h http.Header) bool {
	if len(b.Raw) == 0 {
		return false
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return true
	}
	return b.Doc == nil && (len(b.Messages) == 0 || b.Messages[0].Text == "")
}

// metadataPaths are the metadata objects the parser found, as scrub.Walk paths.
func metadataPaths(b *protocol.Body) [][]string {
	out := make([][]string, 0, len(b.Metadata))
	for _, p := range b.Metadata {
		if steps, ok := pathSteps(p); ok {
			out = append(out, steps)
		}
	}
	return out
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0] || string(a) == string(b))
}
