package protocol

import (
	"encoding/json"
	"strings"
)

// Protocol is what a body was understood as.
type Protocol string

// Protocols.
const (
	ProtoHTTP            Protocol = "http"             // not JSON: relayed as bytes (text bodies are still scanned)
	ProtoJSON            Protocol = "json"             // JSON of no known protocol
	ProtoJSONRPC         Protocol = "jsonrpc"          // JSON-RPC 2.0 of no known protocol
	ProtoMCP             Protocol = "mcp"              // Model Context Protocol
	ProtoA2A             Protocol = "a2a"              // Agent2Agent
	ProtoOpenAIChat      Protocol = "openai.chat"      // OpenAI-style chat completions
	ProtoOpenAIResponses Protocol = "openai.responses" // OpenAI Responses API
)

// Direction is the way a message travels in an exchange.
type Direction uint8

// Directions. The zero Direction is unspecified (in a [Rule]: either way).
const (
	DirRequest  Direction = 1 // client to server: in a request body
	DirResponse Direction = 2 // server to client: in a response body or response event stream
)

func (d Direction) String() string {
	switch d {
	case DirRequest:
		return "request"
	case DirResponse:
		return "response"
	}
	return "unspecified"
}

// Kind is what a message is, protocol aside; the labelling rules key on it.
type Kind string

// Kinds.
const (
	KindBody         Kind = "body"          // a body, or a JSON-RPC message, of no known meaning
	KindPrompt       Kind = "prompt"        // input to a model: system, developer, user messages, instructions, assistant history
	KindCompletion   Kind = "completion"    // a model's answer text
	KindReasoning    Kind = "reasoning"     // a model's reasoning
	KindToolCall     Kind = "tool_call"     // a tool call with its arguments
	KindToolResult   Kind = "tool_result"   // what a tool call returned
	KindToolControl  Kind = "tool_control"  // other MCP traffic: lifecycle, listings, prompts, sampling, errors
	KindLogRecord    Kind = "log_record"    // a log record carried by a protocol (MCP notifications/message)
	KindAgentMessage Kind = "agent_message" // an A2A message
	KindAgentTask    Kind = "agent_task"    // an A2A task, status update, task operation or A2A error
	KindArtifact     Kind = "artifact"      // an A2A artifact
	KindAgentCard    Kind = "agent_card"    // an A2A agent card
)

// Message is one labelled unit of meaning in a body: a tool call, a tool result, a chat message,
// an A2A part of a task, a reasoning block. Several messages may share a body (a chat request
// holds its whole conversation; a JSON-RPC batch holds many calls) and even a value (an
// assistant's content holds both its answer and its <think> block).
type Message struct {
	Protocol  Protocol
	Direction Direction
	Kind      Kind
	// Channel is the label; Rule the id of the [Rule] that chose it.
	Channel Channel
	Rule    string
	// Method is the JSON-RPC method as sent (for a response, the request's, when known); for
	// A2A's HTTP+JSON binding, the method in its 1.0 spelling; for a Responses stream event,
	// the event type.
	Method string
	// ID is the JSON-RPC id of the envelope, exactly as sent.
	ID json.RawMessage
	// Role is the speaker, normalised: system, developer, user, assistant, tool, agent.
	Role string
	// Name is the tool, function, prompt or artifact name.
	Name string
	// URI is a resource URI (MCP resources/read).
	URI string
	// CallID links a tool call and its result (OpenAI tool_call_id, Responses call_id).
	CallID string
	// TaskID, ContextID, MessageID are A2A's identifiers.
	TaskID, ContextID, MessageID string
	// State is an A2A task state in v0.3 spelling (submitted, working, input-required,
	// completed, canceled, failed, rejected, auth-required, unknown).
	State string
	// IsError marks an MCP result with isError, a JSON-RPC error, a failed call.
	IsError bool
	// Partial marks a streamed fragment; the stream parser's Summary holds the whole.
	Partial bool
	// Path is where the message is in its body's Doc; Value the value there (zero for
	// non-JSON bodies and assembled stream summaries without a document).
	Path  Path
	Value Value
	// Args are a tool call's arguments: MCP arguments, or the JSON decoded from OpenAI's
	// arguments string (embedded, so walks and edits reach inside).
	Args Value
	// Content is the message's content, normalised (MCP content items, A2A parts, chat
	// content parts).
	Content []Content
	// Text is the message's readable text: its text content joined with newlines, a reasoning
	// text, a streamed fragment, a tool call's raw arguments.
	Text string
}

// Walk visits every value of the message (see [Document.Walk]): its Value, or, for an assembled
// stream message that has none, its decoded Args. A message without either has only its Text.
func (m *Message) Walk(visit func(Node) error) error {
	if m.Value.Exists() {
		return m.Value.Walk(visit)
	}
	return m.Args.Walk(visit)
}

// Content is one piece of a message's content.
type Content struct {
	// Type is the piece's type as the protocol names it: text, image, audio, resource,
	// resource_link (MCP); text, file, data (A2A); text, image_url, input_audio, file, refusal,
	// input_text, output_text, ... (OpenAI); "structured" for MCP structuredContent.
	Type string
	Path Path
	// Text is text content (a text part, a resource's text, a refusal).
	Text     string
	MIMEType string
	// URI is a file or resource URI or an image URL.
	URI string
	// Name is a file name or resource name.
	Name string
	// Data is structured content: an A2A data part, MCP structuredContent.
	Data Value
}

// Identifier is an identifier a scrubber may pseudonymise.
type Identifier struct {
	// Kind names it: jsonrpc.id, a2a.taskId, a2a.contextId, a2a.messageId, a2a.artifactId,
	// a2a.referenceTaskId. (MCP's session id travels in a header: see MCPTransport.)
	Kind string
	Path Path
}

// Body is one parsed body (or one event of a stream) with its messages.
type Body struct {
	Protocol  Protocol
	Direction Direction
	// Target is the exchange's request target (path and query).
	Target string
	// Doc is the parsed JSON (nil for a body that is not JSON); Raw the bytes as received.
	Doc *Document
	Raw []byte
	// RPC is the JSON-RPC envelope(s), for JSON-RPC bodies.
	RPC *RPCBody
	// MCP is the MCP transport's view of the exchange, for MCP.
	MCP *MCPTransport
	// Card is the agent card, for an A2A agent card response.
	Card *AgentCard
	// Messages are the labelled messages, in body order.
	Messages []Message
	// Default is the channel of values of the body that no message covers (top-level
	// parameters such as an LLM request's tool definitions), and DefaultRule its rule.
	Default     Channel
	DefaultRule string
	// Identifiers and Metadata are what a metadata scrubber works on: identifiers to
	// pseudonymise, and metadata objects (A2A metadata, MCP _meta, initialize clientInfo) whose
	// topology-revealing keys it removes.
	Identifiers []Identifier
	Metadata    []Path

	// The body's JSON-RPC requests by id key, for LookupCall: the first in call1 (key1 its
	// key; has1 set), all of them in calls once there are two keys.
	calls map[string]Call
	key1  string
	call1 Call
	has1  bool
}

// MessagesAt returns the messages whose value holds the value at p, deepest first: the messages
// a classifier's finding at p belongs to.
func (b *Body) MessagesAt(p Path) []*Message {
	var out []*Message
	best := -1
	for i := range b.Messages {
		m := &b.Messages[i]
		if m.Path == nil && m.Value.d == nil {
			continue
		}
		if !p.HasPrefix(m.Path) {
			continue
		}
		switch {
		case len(m.Path) > best:
			best, out = len(m.Path), append(out[:0], m)
		case len(m.Path) == best:
			out = append(out, m)
		}
	}
	return out
}

// ChannelAt returns the channel of the value at p: that of the deepest message holding it (the
// first, should several share it), else the body's default.
func (b *Body) ChannelAt(p Path) Channel {
	if ms := b.MessagesAt(p); len(ms) > 0 {
		return ms[0].Channel
	}
	return b.Default
}

// Channels returns the distinct channels of the body's messages, in first-seen order.
func (b *Body) Channels() []Channel {
	var out []Channel
	for _, m := range b.Messages {
		dup := false
		for _, c := range out {
			dup = dup || c == m.Channel
		}
		if !dup {
			out = append(out, m.Channel)
		}
	}
	return out
}

// Bytes returns the body with the edits made to its document, or as received.
func (b *Body) Bytes() []byte {
	if b.Doc != nil {
		return b.Doc.Bytes()
	}
	return b.Raw
}

// joinText joins the text of content pieces with newlines.
func joinText(cs []Content) string {
	var parts []string
	for _, c := range cs {
		if c.Text != "" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}
