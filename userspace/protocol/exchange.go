package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Parser parses the bodies of HTTP exchanges. The zero Parser uses the default [Limits]; a Parser
// holds no state and is safe for concurrent use.
type Parser struct {
	Limits Limits
}

// Request is what the parser needs of an HTTP request.
type Request struct {
	Method string
	// Target is the request target: a path with its query, or an absolute URL.
	Target string
	Header http.Header
	Body   []byte
}

// Response is what the parser needs of an HTTP response. Body is nil for an event stream,
// which goes to a [StreamParser] instead.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ReadBody reads a whole body of at most limit bytes (the default body limit when limit <= 0);
// a longer body is an error matching [ErrTooLarge].
func ReadBody(r io.Reader, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = Limits{}.withDefaults().MaxBodyBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("read body: over %d bytes: %w", limit, ErrTooLarge)
	}
	return b, nil
}

// ParseRequest parses a request body and labels its messages. A body that claims to be JSON and
// is not, or a JSON-RPC body that is not valid JSON-RPC, is an error matching [ErrMalformed] or
// [ErrInvalidRequest] (see [RPCErrorFor]); a body that does not claim to be JSON and is not is a
// ProtoHTTP body, scanned as text when its content type is textual.
func (p Parser) ParseRequest(req Request, h Hints) (*Body, error) {
	lim := p.Limits.withDefaults()
	a := &bodyAlloc{body: Body{Direction: DirRequest, Target: req.Target, Raw: req.Body, Protocol: ProtoHTTP}}
	b := &a.body
	if len(req.Body) > lim.MaxBodyBytes {
		return nil, fmt.Errorf("request body of %d bytes, limit %d: %w", len(req.Body), lim.MaxBodyBytes, ErrTooLarge)
	}
	path := targetPath(req.Target)
	proto := h.Protocol
	switch {
	case proto == ProtoA2A && isAgentCardPath(path), proto == "" && strings.EqualFold(req.Method, http.MethodGet) && isAgentCardPath(path):
		b.Protocol = ProtoA2A
		(&builder{b: b}).label(h)
		return b, nil
	case isMCPStreamOpen(req) && (proto == "" || proto == ProtoMCP):
		b.Protocol = ProtoMCP
		b.MCP = a.mcpTransport(req.Header, req.Method, req.Target)
		(&builder{b: b}).label(h)
		return b, nil
	}
	doc, err := bodyJSON(req.Body, MediaType(req.Header), lim, &a.doc)
	if err != nil {
		return nil, fmt.Errorf("parse request to %s: %w", path, err)
	}
	bb := a.builder()
	if doc == nil {
		p.textBody(&bb, req.Header, h)
		return b, nil
	}
	b.Doc = doc
	if proto == "" {
		proto = detectRequestProtocol(doc.Root(), path, req.Header)
	}
	b.Protocol = proto
	switch {
	case proto == ProtoMCP || proto == ProtoJSONRPC || (proto == ProtoA2A && IsJSONRPC(doc.Root())):
		rpc, err := rpcFromDoc(doc, &a.rpc)
		if err != nil {
			return nil, fmt.Errorf("parse request to %s: %w", path, err)
		}
		b.RPC = rpc
		if proto == ProtoJSONRPC {
			b.Protocol = detectRPCProtocol(rpc, req.Header)
		}
		if b.Protocol == ProtoMCP {
			b.MCP = a.mcpTransport(req.Header, req.Method, req.Target)
		}
		bb.rpcMessages(nil)
	case proto == ProtoOpenAIChat:
		bb.chatRequest(doc.Root())
	case proto == ProtoOpenAIResponses:
		bb.responsesRequest(doc.Root())
	case proto == ProtoA2A:
		// The HTTP+JSON binding: the body is the method's params, the path names the method.
		bb.a2aParams(methodForREST(path), doc.Root())
	default:
		b.Protocol = ProtoJSON
		bb.add(Message{Kind: KindBody, Value: doc.Root()})
	}
	bb.label(h)
	return b, nil
}

// ParseResponse parses a response body and labels its messages. req is the parsed request
// (nil if unknown): it says which protocol to expect and which method each JSON-RPC id answers.
// An event stream (Content-Type text/event-stream) is refused here: pass it to a [StreamParser].
func (p Parser) ParseResponse(req *Body, resp Response, h Hints) (*Body, error) {
	return p.ParseResponseWith(req, nil, resp, h)
}

// ParseResponseWith is ParseResponse with a second registry of calls, tried after req's: an
// enforcer that replaced the request's JSON-RPC ids by pseudonyms finds the calls their answers
// name there.
func (p Parser) ParseResponseWith(req *Body, calls CallLookup, resp Response, h Hints) (*Body, error) {
	lim := p.Limits.withDefaults()
	a := &bodyAlloc{body: Body{Direction: DirResponse, Raw: resp.Body, Protocol: ProtoHTTP}}
	b := &a.body
	if req != nil {
		b.Target = req.Target
		b.Protocol = req.Protocol
	}
	if h.Protocol != "" {
		b.Protocol = h.Protocol
	}
	mt := MediaType(resp.Header)
	if mt == "text/event-stream" {
		return nil, fmt.Errorf("parse response: an event stream: parse it with a StreamParser: %w", ErrMalformed)
	}
	if len(resp.Body) > lim.MaxBodyBytes {
		return nil, fmt.Errorf("response body of %d bytes, limit %d: %w", len(resp.Body), lim.MaxBodyBytes, ErrTooLarge)
	}
	doc, err := bodyJSON(resp.Body, mt, lim, &a.doc)
	if err != nil {
		return nil, fmt.Errorf("parse response from %s: %w", targetPath(b.Target), err)
	}
	bb := a.builder()
	if doc == nil {
		p.textBody(&bb, resp.Header, h)
		return b, nil
	}
	b.Doc = doc
	if req != nil && req.MCP != nil {
		b.MCP = a.mcpTransport(resp.Header, "", "")
		b.MCP.merge(req.MCP)
	}
	root := doc.Root()
	switch {
	case b.Protocol == ProtoA2A && isAgentCardPath(targetPath(b.Target)):
		bb.agentCard(root)
	case IsJSONRPC(root):
		rpc, err := rpcFromDoc(doc, &a.rpc)
		if err != nil {
			return nil, fmt.Errorf("parse response: %w", err)
		}
		b.RPC = rpc
		if b.Protocol != ProtoMCP && b.Protocol != ProtoA2A {
			b.Protocol = detectRPCProtocol(rpc, resp.Header)
		}
		bb.rpcMessages(lookups{req, calls})
	case b.Protocol == ProtoOpenAIChat || (b.Protocol != ProtoOpenAIResponses && root.Get("object").Str() == "chat.completion"):
		b.Protocol = ProtoOpenAIChat
		bb.chatResponse(root)
	case b.Protocol == ProtoOpenAIResponses || root.Get("object").Str() == "response":
		b.Protocol = ProtoOpenAIResponses
		bb.responsesResponse(root)
	case b.Protocol == ProtoA2A:
		// The HTTP+JSON binding: the body is the result itself.
		bb.a2aResult(methodForREST(targetPath(b.Target)), root)
	default:
		b.Protocol = ProtoJSON
		bb.add(Message{Kind: KindBody, Value: root})
	}
	bb.label(h)
	return b, nil
}

// bodyJSON parses a body as JSON when it is one: its content type says JSON, or (no content type
// saying otherwise) it starts like a JSON object or array. It returns nil, nil for a body that is
// not JSON and does not claim to be. mt is the body's MediaType; lim has its defaults filled in;
// the document is made in into (see parseJSON).
func bodyJSON(body []byte, mt string, lim Limits, into *docAlloc) (*Document, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, nil
	}
	claims := strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "+json")
	looks := trimmed[0] == '{' || trimmed[0] == '['
	if !claims && !(looks && (mt == "" || mt == "text/plain" || mt == "application/octet-stream")) {
		return nil, nil
	}
	doc, err := parseJSON(body, lim, into)
	if err != nil {
		if claims || errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, nil // looked like JSON, does not claim to be, is not: plain bytes
	}
	return doc, nil
}

// textBody records a body that is not JSON: one KindBody message, with the text when the content
// type is textual.
func (p Parser) textBody(bb *builder, hdr http.Header, h Hints) {
	b := bb.b
	if len(b.Raw) == 0 {
		bb.label(h)
		return
	}
	m := Message{Kind: defaultKind(b.Protocol, b.Direction)}
	mt := MediaType(hdr)
	if strings.HasPrefix(mt, "text/") || mt == "application/x-www-form-urlencoded" || mt == "application/xml" || mt == "" {
		m.Text = string(b.Raw)
	}
	bb.add(m)
	bb.label(h)
}

// MediaType returns the media type of a message's Content-Type, lower case, without
// parameters; "" when none is given. It is what mime.ParseMediaType returns for a valid type,
// and the same text for an invalid one, without parsing the parameters.
func MediaType(hdr http.Header) string {
	ct := headerValue(hdr["Content-Type"]) // hdr.Get, the name being canonical already
	if ct == "" {
		return ""
	}
	base, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// targetPath returns the path of a request target (origin form or absolute form), without query.
func targetPath(target string) string {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		if u, err := url.Parse(target); err == nil {
			return u.Path
		}
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return target
}

// bodyAlloc is a Body allocated with room for what a body of one JSON-RPC message holds (its
// document when small, its JSON-RPC envelope, a message with one piece of content, a few
// identifiers and their paths, a metadata path, the MCP transport view), so that parsing it
// allocates these together rather than one by one: a small MCP tools/call request or its
// result takes this allocation and the copies of its strings only. A body that holds more
// grows past the room as slices do. The rooms are sized so that the whole stays within the
// 2,304-byte allocation size class.
type bodyAlloc struct {
	body    Body
	rpc     rpcBodyOne
	msgs    [1]Message
	content [1]Content
	ids     [4]Identifier
	metas   [1]Path
	steps   [8]Step
	mcp     MCPTransport
	doc     docAlloc // last: the garbage collector need not scan past its Document
}

// builder returns a builder of the body that draws on the room. Make one per body.
func (a *bodyAlloc) builder() builder {
	return builder{b: &a.body, msgs: a.msgs[:0:len(a.msgs)], content: a.content[:0:len(a.content)],
		ids: a.ids[:0:len(a.ids)], metas: a.metas[:0:len(a.metas)], steps: a.steps[:0]}
}

// mcpTransport returns mcpTransportOf(h, method, target), held in the room.
func (a *bodyAlloc) mcpTransport(h http.Header, method, target string) *MCPTransport {
	a.mcp = mcpTransportOf(h, method, target)
	return &a.mcp
}

// builder collects the messages of one body.
type builder struct {
	b *Body
	// msgs, ids and metas, when not nil, are where the body's Messages, Identifiers and
	// Metadata start (see bodyAlloc): empty, with room. content, when not nil, is room for the
	// first content list of a message (see mcpContentList).
	msgs    []Message
	ids     []Identifier
	metas   []Path
	content []Content
	// steps is where path gives out the paths of the body's messages, identifiers, metadata
	// and content from: a body's few short paths share an allocation or two.
	steps []Step
}

// path returns v.Path(), its steps taken from bb.steps. The path's capacity is its length, so
// that appending to it (Path.Key and the like copy anyway) never writes over another path.
func (bb *builder) path(v Value) Path {
	if v.d == nil {
		return nil
	}
	n := v.pathLen()
	if n == 0 {
		return Path{}
	}
	if cap(bb.steps)-len(bb.steps) < n {
		bb.steps = make([]Step, 0, max(n, 16))
	}
	l := len(bb.steps)
	bb.steps = bb.steps[:l+n]
	p := bb.steps[l : l+n : l+n]
	v.fillPath(p)
	return p
}

// text returns the bytes [start, end) of d's source as a string. A text of at least half the
// document is sliced from a copy of the whole source, made once (d.str) and shared with the
// document's other long texts and its Slicers (see NewSlicer); a shorter one is copied, so
// that no text keeps more than twice its size alive.
func (bb *builder) text(d *Document, start, end int32) string {
	if 2*int(end-start) < len(d.src) {
		return string(d.src[start:end])
	}
	if d.str == "" {
		d.str = string(d.src)
	}
	return d.str[start:end]
}

// rawText returns string(v.Raw()), by way of text.
func (bb *builder) rawText(v Value) string {
	if v.d == nil {
		return ""
	}
	n := v.node()
	return bb.text(v.d, n.start, n.end)
}

// strText returns v.Str(), by way of text for a string without escapes.
func (bb *builder) strText(v Value) string {
	if v.Type() != TypeString || v.node().esc {
		return v.Str()
	}
	n := v.node()
	return bb.text(v.d, n.start+1, n.end-1)
}

// add appends m, filling what the body knows.
func (bb *builder) add(m Message) {
	m.Protocol, m.Direction = bb.b.Protocol, bb.b.Direction
	if m.Value.Exists() && m.Path == nil {
		m.Path = bb.path(m.Value)
	}
	if bb.b.Messages == nil && bb.msgs != nil {
		bb.b.Messages, bb.msgs = bb.msgs, nil
	}
	bb.b.Messages = append(bb.b.Messages, m)
}

// id records an identifier to pseudonymise.
func (bb *builder) id(kind string, v Value) {
	if v.Type() == TypeString || v.Type() == TypeNumber {
		if bb.b.Identifiers == nil {
			if bb.b.Identifiers, bb.ids = bb.ids, nil; bb.b.Identifiers == nil {
				bb.b.Identifiers = make([]Identifier, 0, 4)
			}
		}
		bb.b.Identifiers = append(bb.b.Identifiers, Identifier{Kind: kind, Path: bb.path(v)})
	}
}

// meta records a metadata object.
func (bb *builder) meta(v Value) {
	if v.Type() == TypeObject {
		if bb.b.Metadata == nil && bb.metas != nil {
			bb.b.Metadata, bb.metas = bb.metas, nil
		}
		bb.b.Metadata = append(bb.b.Metadata, bb.path(v))
	}
}

// label labels every message and the body's default.
func (bb *builder) label(h Hints) {
	for i := range bb.b.Messages {
		m := &bb.b.Messages[i]
		m.Channel, m.Rule = Label(m, h, bb.b.Target)
	}
	def := Message{Protocol: bb.b.Protocol, Direction: bb.b.Direction, Kind: defaultKind(bb.b.Protocol, bb.b.Direction)}
	bb.b.Default, bb.b.DefaultRule = Label(&def, h, bb.b.Target)
}

// defaultKind is the kind that stands for the parts of a body no message covers.
func defaultKind(p Protocol, d Direction) Kind {
	switch p {
	case ProtoMCP:
		return KindToolControl
	case ProtoA2A:
		return KindAgentTask
	case ProtoOpenAIChat, ProtoOpenAIResponses:
		if d == DirResponse {
			return KindCompletion
		}
		return KindPrompt
	}
	return KindBody
}
