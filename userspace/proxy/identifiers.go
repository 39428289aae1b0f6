package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// identifierKind maps the protocol parser's identifier kinds to the pseudonymizer's; ok is false
// for identifiers that are not pseudonymised (A2A artifact ids name content, not parties).
func identifierKind(k string) (scrub.Kind, bool) {
	switch k {
	case "jsonrpc.id":
		return scrub.KindJSONRPCID, true
	case "a2a.taskId", "a2a.referenceTaskId":
		return scrub.KindA2ATask, true
	case "a2a.contextId":
		return scrub.KindA2AContext, true
	case "a2a.messageId":
		return scrub.KindA2AMessage, true
	case "mcp.progressToken":
		return scrub.KindMCPProgress, true
	}
	return "", false
}

// idSwap is what swapIdentifiers did to one body.
type idSwap struct {
	changed bool
	summary scrub.Summary
	// swapped are the values put in place of the body's identifiers, where they were.
	swapped []pep.Swap
	// hidden are the JSON-RPC ids of requests given pseudonyms, with the calls they make, so
	// that a refused request's pseudonyms can be forgotten.
	hidden []any
	// answered are pseudonyms of the exchange's own requests revealed in its response: they
	// are forgotten when the exchange ends (a stream answers one id many times).
	answered []any
}

// swapIdentifiers replaces, in b's document (so that a body nothing else changed is forwarded
// as b.Doc.Bytes(), not encoded again), every identifier the protocol needs and the receiver
// must not learn, and returns the values it put in their places (for the body decoded, should
// the decision need it: see lazyTree): one this flow gave a pseudonym earlier is revealed (an
// answer coming back, or an id the server made coming back from the client), any other is
// replaced by its pseudonym (an id the sender made up). So the client only ever holds its own
// ids and the pseudonyms of the server's, and the server only its own and the pseudonyms of the
// client's. Identifiers are read as the body decoded holds them (toAny); those inside JSON
// embedded in strings are left alone.
// A JSON-RPC id revealed has been answered: its pseudonym is forgotten at once when another
// exchange hid it (MCP's HTTP+SSE transport answers POSTs on its GET stream), and when the
// exchange ends when it hid it itself (own: the pseudonyms its request was given; an A2A stream
// answers its request once per event). The ids of requests hidden here are remembered with
// their calls, for answers that arrive elsewhere.
func (f *flowState) swapIdentifiers(b *protocol.Body, own []any) (idSwap, error) {
	var out idSwap
	var seen map[string]bool // for bodies with many identifiers (see seenBefore)
	// JSON-RPC ids of other exchanges this body answers: forgotten once the whole body is
	// swapped, so that a batch answering one id twice has both revealed.
	var answeredElsewhere []any
	defer func() { f.forgetIDs(answeredElsewhere) }()
	// Requests whose ids were hidden here, and progress tokens hidden here: after the swap,
	// each request's token is remembered with its call (progressOf).
	var requests []hiddenRequest
	var tokens []hiddenValue
	for i, id := range b.Identifiers {
		kind, ok := identifierKind(id.Kind)
		if !ok || seenBefore(b.Identifiers, i, &seen) {
			continue
		}
		at, ok := docAt(b.Doc, id.Path)
		if !ok {
			continue
		}
		v := decodedAt(at)
		if v == nil {
			continue
		}
		if orig, ok := f.pseudo.reveal(kind, v); ok {
			if err := setIdentifier(at, id.Path, orig); err != nil {
				return out, err
			}
			out.changed = true
			out.swapped = append(out.swapped, pep.Swap{At: at, Value: orig})
			out.summary.Revealed = append(out.summary.Revealed, string(kind))
			if kind == scrub.KindJSONRPCID {
				if containsID(own, v) {
					out.answered = append(out.answered, v)
				} else if !containsID(answeredElsewhere, v) {
					answeredElsewhere = append(answeredElsewhere, v)
				}
			}
			continue
		}
		pseudo, err := f.pseudo.hide(kind, v)
		if err != nil {
			return out, fmt.Errorf("pseudonymise %s at %s: %w", kind, id.Path, err)
		}
		if err := setIdentifier(at, id.Path, pseudo); err != nil {
			return out, err
		}
		out.changed = true
		out.swapped = append(out.swapped, pep.Swap{At: at, Value: pseudo})
		out.summary.Pseudonymised = append(out.summary.Pseudonymised, string(kind))
		switch kind {
		case scrub.KindJSONRPCID:
			if m := requestAt(b, at, id.Path); m != nil {
				requests = append(requests, hiddenRequest{msg: m, pseudo: pseudo})
			}
		case scrub.KindMCPProgress:
			tokens = append(tokens, hiddenValue{at: at, path: id.Path, pseudo: pseudo})
		}
	}
	for _, r := range requests {
		f.calls.add(r.pseudo, protocol.Call{Protocol: b.Protocol, Method: r.msg.Method, Name: r.msg.Params.Get("name").Str()}, progressOf(r.msg, tokens))
		out.hidden = append(out.hidden, r.pseudo)
	}
	return out, nil
}

// hiddenRequest is a JSON-RPC request whose id swapIdentifiers gave a pseudonym.
type hiddenRequest struct {
	msg    *protocol.RPC
	pseudo any
}

// hiddenValue is an identifier swapIdentifiers gave a pseudonym: where it was, and the pseudonym.
type hiddenValue struct {
	at     protocol.Value
	path   protocol.Path
	pseudo any
}

// progressOf returns the pseudonym given to m's progress token (params._meta.progressToken),
// nil when it has none or kept its own. MCP ends a token with its request's answer, so the
// pseudonym is forgotten with the request's id (forgetIDs), not left to fill the flow's table.
func progressOf(m *protocol.RPC, tokens []hiddenValue) any {
	v := m.Params.Get("_meta").Get("progressToken")
	if !v.Exists() {
		return nil
	}
	for _, t := range tokens {
		if sameValue(v, t.at, t.path) {
			return t.pseudo
		}
	}
	return nil
}

// seenBefore reports whether an identifier before ids[i] that is pseudonymised lies at the same
// path: each place is swapped once. Few identifiers are compared pairwise; many go through seen.
func seenBefore(ids []protocol.Identifier, i int, seen *map[string]bool) bool {
	const pairwise = 16
	if len(ids) <= pairwise {
		for _, prev := range ids[:i] {
			if _, ok := identifierKind(prev.Kind); ok && prev.Path.Equal(ids[i].Path) {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, len(ids))
	}
	at := ids[i].Path.String()
	if (*seen)[at] {
		return true
	}
	(*seen)[at] = true
	return false
}

// docAt returns the value at p in d, as anyAt finds it in the body decoded: not the root, and
// not inside JSON embedded in a string.
func docAt(d *protocol.Document, p protocol.Path) (protocol.Value, bool) {
	if len(p) == 0 || d == nil {
		return protocol.Value{}, false
	}
	for _, st := range p {
		if st.Decode {
			return protocol.Value{}, false
		}
	}
	v, err := d.At(p)
	if err != nil {
		return protocol.Value{}, false
	}
	return v, true
}

// decodedAt is v as toAny decodes it, reading only what a scalar needs.
func decodedAt(v protocol.Value) any {
	switch v.Type() {
	case protocol.TypeNull:
		return nil
	case protocol.TypeString:
		return v.Str()
	case protocol.TypeNumber:
		return json.Number(v.Raw())
	}
	return v.Any()
}

// setIdentifier sets the identifier at (at p) to v in the document.
func setIdentifier(at protocol.Value, p protocol.Path, v any) error {
	var err error
	switch x := v.(type) {
	case string:
		err = at.SetString(x)
	case json.Number:
		if x == "" || !protocol.ValidNumber(string(x)) {
			return replaceIdentifier(at, p, v)
		}
		err = at.SetNumber(string(x))
	default:
		return replaceIdentifier(at, p, v)
	}
	if err != nil {
		return fmt.Errorf("replace identifier: %w", err)
	}
	return nil
}

// replaceIdentifier sets the identifier at (at p) to v encoded as encoding/json does.
func replaceIdentifier(at protocol.Value, p protocol.Path, v any) error {
	raw := encodeID(v)
	if raw == nil {
		return fmt.Errorf("identifier at %s of type %T", p, v)
	}
	if err := at.Replace(raw); err != nil {
		return fmt.Errorf("replace identifier: %w", err)
	}
	return nil
}

// forgetIDs drops the pseudonyms of JSON-RPC requests, not forwarded or answered, with those
// of their progress tokens.
func (f *flowState) forgetIDs(ids []any) {
	for _, p := range ids {
		f.pseudo.forget(scrub.KindJSONRPCID, p)
		if progress := f.calls.forget(p); progress != nil {
			f.pseudo.forget(scrub.KindMCPProgress, progress)
		}
	}
}

// containsID reports whether ids holds id, comparing as JSON-RPC does.
func containsID(ids []any, id any) bool {
	k, ok := idKey(id)
	if !ok {
		return false
	}
	for _, x := range ids {
		if xk, ok := idKey(x); ok && xk == k {
			return true
		}
	}
	return false
}

// requestAt returns the JSON-RPC request whose id is at (at p), nil when there is none.
func requestAt(b *protocol.Body, at protocol.Value, p protocol.Path) *protocol.RPC {
	if b.RPC == nil {
		return nil
	}
	for i := range b.RPC.Messages {
		m := &b.RPC.Messages[i]
		if m.Type == protocol.RPCRequest && sameValue(m.Value.Get("id"), at, p) {
			return m
		}
	}
	return nil
}

// sameValue reports whether v is the value at (at p): the same node, or one of another
// document at the same path.
func sameValue(v, at protocol.Value, p protocol.Path) bool {
	if v == at {
		return true
	}
	return v.Exists() && v.Document() != at.Document() && v.Path().Equal(p)
}

// revealSessionHeader gives the server its own MCP session id back: the client holds the
// pseudonym it was given. A value that is no pseudonym of this flow is left as it is.
func (f *flowState) revealSessionHeader(h http.Header) bool {
	vs := h.Values(protocol.HeaderMCPSessionID)
	if len(vs) == 0 {
		return false
	}
	out := make([]string, len(vs))
	changed := false
	for i, v := range vs {
		out[i] = v
		if orig, ok := f.pseudo.reveal(scrub.KindMCPSession, v); ok {
			if s, ok := orig.(string); ok {
				out[i], changed = s, true
			}
		}
	}
	if changed {
		h[http.CanonicalHeaderKey(protocol.HeaderMCPSessionID)] = out
	}
	return changed
}

// hideSessionHeader replaces the MCP session id a server hands out by its pseudonym.
func (f *flowState) hideSessionHeader(h http.Header) (bool, error) {
	vs := h.Values(protocol.HeaderMCPSessionID)
	if len(vs) == 0 {
		return false, nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		p, err := f.pseudo.hide(scrub.KindMCPSession, v)
		if err != nil {
			return false, fmt.Errorf("pseudonymise %s: %w", scrub.KindMCPSession, err)
		}
		out[i] = p.(string)
	}
	h[http.CanonicalHeaderKey(protocol.HeaderMCPSessionID)] = out
	return true, nil
}
