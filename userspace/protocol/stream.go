package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// StreamParser parses the events of one response event stream in order: MCP server messages
// (Streamable HTTP replies and GET streams, the legacy HTTP+SSE stream and its endpoint event),
// A2A streaming results, OpenAI chat chunks and Responses stream events. Each event is parsed and
// labelled on its own, so it can be checked, scrubbed and relayed before the next one arrives;
// fragments that only make sense together (streamed tool-call arguments, text deltas, appended
// artifact chunks) are also accumulated, within [Limits].MaxStreamText, for [StreamParser.Summary].
// A StreamParser is not safe for concurrent use.
type StreamParser struct {
	lim    Limits
	hints  Hints
	req    *Body
	proto  Protocol
	target string
	mcp    *MCPTransport
	calls  CallLookup

	endpoint string
	done     bool
	text     int // bytes accumulated for the summary

	chat      chatStream
	resp      responsesStream
	artifacts a2aArtifacts
}

// NewStreamParser returns a parser for the event stream that answers req (nil when unknown: each
// event's shape then says what it is). respHeader is the response's header (for the MCP session).
func (p Parser) NewStreamParser(req *Body, respHeader http.Header, h Hints) *StreamParser {
	s := &StreamParser{lim: p.Limits.withDefaults(), hints: h, req: req, proto: h.Protocol}
	if req != nil {
		s.target = req.Target
		if s.proto == "" {
			s.proto = req.Protocol
		}
		if req.MCP != nil {
			t := mcpTransportOf(respHeader, "", "")
			s.mcp = &t
			s.mcp.merge(req.MCP)
		}
	}
	return s
}

// SetCalls adds a registry of requests whose replies may arrive on this stream (MCP's legacy
// transport answers POSTs made on other connections here).
func (s *StreamParser) SetCalls(c CallLookup) { s.calls = c }

// Endpoint returns the POST endpoint announced by an MCP legacy HTTP+SSE stream, "" before it.
func (s *StreamParser) Endpoint() string { return s.endpoint }

// Done reports whether the stream said it is complete (OpenAI's "data: [DONE]").
func (s *StreamParser) Done() bool { return s.done }

// Parse parses one event. Events without data (comments, keep-alives), MCP's endpoint event and
// OpenAI's [DONE] yield a nil Body. Data that is not JSON is an error matching [ErrMalformed]: the
// caller decides whether to relay the event as opaque bytes or end the stream.
func (s *StreamParser) Parse(ev Event) (*Body, error) {
	if !ev.HasData {
		return nil, nil
	}
	if ep, ok := LegacyEndpoint(ev); ok {
		s.endpoint = ep
		return nil, nil
	}
	data := strings.TrimSpace(ev.Data)
	if data == "[DONE]" {
		s.done = true
		return nil, nil
	}
	if data == "" {
		return nil, nil
	}
	doc, err := ParseJSON([]byte(ev.Data), s.lim)
	if err != nil {
		return nil, fmt.Errorf("stream event %q: %w", ev.Type, err)
	}
	a := &bodyAlloc{body: Body{Direction: DirResponse, Target: s.target, Doc: doc, Raw: doc.Source(), MCP: s.mcp, Protocol: s.proto}}
	b := &a.body
	root := doc.Root()
	if !knownStreamProtocol(b.Protocol) {
		b.Protocol = detectEventProtocol(root)
	}
	bb := a.builder()
	switch b.Protocol {
	case ProtoMCP, ProtoA2A, ProtoJSONRPC:
		rpc, err := rpcFromDoc(doc, &a.rpc)
		if err != nil {
			return nil, fmt.Errorf("stream event: %w", err)
		}
		b.RPC = rpc
		if b.Protocol == ProtoJSONRPC {
			b.Protocol = detectRPCProtocol(rpc, http.Header{})
		}
		bb.rpcMessages(lookups{s.req, s.calls})
		if b.Protocol == ProtoA2A {
			if err := s.artifacts.add(b.Messages, s); err != nil {
				return nil, err
			}
		}
	case ProtoOpenAIChat:
		if err := s.chatChunk(&bb, root); err != nil {
			return nil, err
		}
	case ProtoOpenAIResponses:
		if err := s.responsesEvent(&bb, root); err != nil {
			return nil, err
		}
	default:
		b.Protocol = ProtoJSON
		bb.add(Message{Kind: KindBody, Value: root})
	}
	bb.label(s.hints)
	return b, nil
}

func knownStreamProtocol(p Protocol) bool {
	switch p {
	case ProtoMCP, ProtoA2A, ProtoJSONRPC, ProtoOpenAIChat, ProtoOpenAIResponses:
		return true
	}
	return false
}

// detectEventProtocol guesses what an event's JSON is when the request did not say.
func detectEventProtocol(root Value) Protocol {
	switch {
	case IsJSONRPC(root):
		return ProtoJSONRPC
	case root.Get("object").Str() == "chat.completion.chunk":
		return ProtoOpenAIChat
	case strings.HasPrefix(root.Get("type").Str(), "response."):
		return ProtoOpenAIResponses
	}
	return ProtoJSON
}

// grow counts n more bytes of accumulated text against the limit.
func (s *StreamParser) grow(n int) error {
	s.text += n
	if s.text > s.lim.MaxStreamText {
		return fmt.Errorf("stream: over %d bytes of accumulated text: %w", s.lim.MaxStreamText, ErrTooLarge)
	}
	return nil
}

// Summary returns the stream's assembled messages, labelled: for chat, each choice's whole
// reasoning, answer and tool calls (arguments joined from their fragments by index and decoded);
// for the Responses API, the final response's items (or, if the stream ended early, the items
// assembled from their deltas); for A2A, appended artifact chunks joined. Assembled messages that
// were never one JSON value carry no Value; their Args, when decoded, belong to a document of
// their own.
func (s *StreamParser) Summary() []Message {
	var ms []Message
	switch {
	case s.chat.choices != nil:
		ms = s.chat.summary(s.lim)
	case s.resp.items != nil || s.resp.final != nil:
		ms = s.resp.summary(s.lim)
	case s.artifacts.byID != nil:
		ms = s.artifacts.summary()
	}
	for i := range ms {
		m := &ms[i]
		if m.Protocol == "" {
			m.Protocol = s.proto
		}
		m.Direction = DirResponse
		m.Channel, m.Rule = Label(m, s.hints, s.target)
	}
	return ms
}

// ParseStream reads a whole event stream and parses every event: for replay and tests. An
// enforcer relays events as they come instead (see [SSEReader], [StreamParser], [SSEWriter]).
func (p Parser) ParseStream(req *Body, respHeader http.Header, r io.Reader, h Hints) ([]*Body, []Message, error) {
	sr := NewSSEReader(r, p.Limits)
	sp := p.NewStreamParser(req, respHeader, h)
	var bodies []*Body
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return bodies, sp.Summary(), nil
		}
		if err != nil {
			return bodies, sp.Summary(), err
		}
		b, err := sp.Parse(ev)
		if err != nil {
			return bodies, sp.Summary(), err
		}
		if b != nil {
			bodies = append(bodies, b)
		}
	}
}

// lookups tries several call lookups in turn.
type lookups []CallLookup

func (ls lookups) LookupCall(id json.RawMessage) (Call, bool) {
	for _, l := range ls {
		if l == nil {
			continue
		}
		if b, ok := l.(*Body); ok && b == nil {
			continue
		}
		if c, ok := l.LookupCall(id); ok {
			return c, true
		}
	}
	return Call{}, false
}

// a2aArtifacts joins artifact chunks streamed as artifact-update events with append set.
type a2aArtifacts struct {
	byID  map[string]*artifactAcc
	order []string
}

type artifactAcc struct {
	name, taskID, contextID string
	text                    strings.Builder
}

func (a *a2aArtifacts) add(ms []Message, s *StreamParser) error {
	for i := range ms {
		m := &ms[i]
		if m.Kind != KindArtifact {
			continue
		}
		id := m.Value.Get("artifactId").Str()
		if a.byID == nil {
			a.byID = make(map[string]*artifactAcc)
		}
		acc, ok := a.byID[id]
		if !ok {
			if len(a.order) >= s.lim.MaxStreamItems {
				return fmt.Errorf("stream: more than %d artifacts: %w", s.lim.MaxStreamItems, ErrTooLarge)
			}
			acc = &artifactAcc{name: m.Name, taskID: m.TaskID, contextID: m.ContextID}
			a.byID[id] = acc
			a.order = append(a.order, id)
		}
		t := joinText(m.Content)
		if err := s.grow(len(t)); err != nil {
			return err
		}
		acc.text.WriteString(t)
	}
	return nil
}

func (a *a2aArtifacts) summary() []Message {
	var ms []Message
	for _, id := range a.order {
		acc := a.byID[id]
		ms = append(ms, Message{Protocol: ProtoA2A, Kind: KindArtifact, Name: acc.name, TaskID: acc.taskID,
			ContextID: acc.contextID, Text: acc.text.String()})
	}
	return ms
}
