package protocol

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Channel is what a message is in the life of a multi-agent system: the labels the audit record
// carries and classification rules key on (the AgentLeak benchmark's channels, plus reasoning).
type Channel string

// Channels.
const (
	ChannelInterAgent  Channel = "inter_agent"  // one agent (or model) speaking to another
	ChannelToolInput   Channel = "tool_input"   // what an agent hands a tool
	ChannelToolOutput  Channel = "tool_output"  // what a tool hands back
	ChannelReasoning   Channel = "reasoning"    // a model's chain of thought
	ChannelMemoryWrite Channel = "memory_write" // what an agent stores in memory
	ChannelLog         Channel = "log"          // what is shipped to logs or telemetry
	ChannelArtifact    Channel = "artifact"     // a produced artifact (A2A artifacts, artifact stores)
	ChannelFinalOutput Channel = "final_output" // an agent's answer reaching a user
)

// Channels returns every channel, in a fixed order.
func Channels() []Channel {
	return []Channel{ChannelInterAgent, ChannelToolInput, ChannelToolOutput, ChannelReasoning,
		ChannelMemoryWrite, ChannelLog, ChannelArtifact, ChannelFinalOutput}
}

// Destination is what kind of endpoint one side of an exchange is. The policy knows it (a
// domain's destinations); the parser cannot, so the caller passes it in [Hints].
type Destination string

// Destinations.
const (
	DestUnknown  Destination = ""
	DestAgent    Destination = "agent"       // another agent (A2A peer)
	DestTool     Destination = "tool"        // a tool server (MCP, plain HTTP API)
	DestLLM      Destination = "llm"         // a model API
	DestMemory   Destination = "memory"      // a memory store (a Redis-backed memory service, a memory MCP server)
	DestLog      Destination = "log"         // a log or telemetry sink
	DestArtifact Destination = "artifact"    // an artifact or file store
	DestUser     Destination = "user_facing" // a user-facing frontend: what reaches it, a user reads
)

// ParseDestination parses a destination name as the policy spells it.
func ParseDestination(s string) (Destination, error) {
	switch d := Destination(strings.ToLower(strings.TrimSpace(s))); d {
	case DestUnknown, DestAgent, DestTool, DestLLM, DestMemory, DestLog, DestArtifact, DestUser:
		return d, nil
	case "user", "user-facing":
		return DestUser, nil
	}
	return DestUnknown, fmt.Errorf("unknown destination kind %q", s)
}

// Hints is what the policy tells the parser about an exchange, so that labelling follows policy
// rather than guesses.
type Hints struct {
	// Server is what the request is sent to; request-direction messages go there.
	Server Destination
	// Client is what sent the request; response-direction messages go there (for instance
	// DestUser when the client is the user-facing frontend of the system).
	Client Destination
	// Protocol forces the protocol instead of detecting it ("" detects).
	Protocol Protocol
	// MemoryTools are extra glob patterns ('*' matches any run of characters, case-insensitive)
	// of tool names whose calls write memory.
	MemoryTools []string
}

// to and from return the destination and the origin of a message travelling in direction d.
func (h *Hints) to(d Direction) Destination {
	if d == DirResponse {
		return h.Client
	}
	return h.Server
}

func (h *Hints) from(d Direction) Destination {
	if d == DirResponse {
		return h.Server
	}
	return h.Client
}

// Rule is one row of the labelling table: a message that meets every condition set gets Channel.
// Unset conditions match anything.
type Rule struct {
	ID      string
	Channel Channel
	// Kinds: the message is of one of these kinds.
	Kinds []Kind
	// Direction: the message travels this way.
	Direction Direction
	// To, From: the hinted kind of the message's destination and origin.
	To, From Destination
	// ToUnknown: the message's destination was not hinted.
	ToUnknown bool
	// LogTarget: the exchange's request target is a log-shipping path ([IsLogPath]).
	LogTarget bool
	// MemoryTool: the message calls a tool whose name says it writes memory ([IsMemoryTool]).
	MemoryTool bool
	// NotRoles: the message's speaker is none of these (a user's own words echoed back are not
	// an agent's output).
	NotRoles []string
	// Why is the rule in words, for the documentation and the audit record.
	Why string
}

// payloadKinds are the kinds that carry what an agent means to send somewhere, as opposed to
// protocol control.
func payloadKinds() []Kind {
	return []Kind{KindToolCall, KindBody, KindAgentMessage, KindPrompt, KindCompletion, KindArtifact}
}

// ChannelRules returns the labelling table, first match wins. CHANNELS.md is its copy in prose.
func ChannelRules() []Rule {
	return []Rule{
		{ID: "to-log", Channel: ChannelLog, To: DestLog,
			Why: "anything sent to a destination the policy marks as a log sink"},
		{ID: "log-path", Channel: ChannelLog, Direction: DirRequest, ToUnknown: true, LogTarget: true,
			Why: "a request to a log-shipping path (OTLP /v1/logs, /v1/traces, /v1/metrics; .../logs; Loki push; Splunk HEC) whose destination the policy does not name"},
		{ID: "log-record", Channel: ChannelLog, Kinds: []Kind{KindLogRecord},
			Why: "a log record inside a protocol (MCP notifications/message)"},
		{ID: "to-memory", Channel: ChannelMemoryWrite, To: DestMemory, Kinds: payloadKinds(),
			Why: "payload sent to a destination the policy marks as memory (a Redis-backed memory service, a memory MCP server)"},
		{ID: "memory-tool", Channel: ChannelMemoryWrite, Kinds: []Kind{KindToolCall}, MemoryTool: true,
			Why: "a call of a tool whose name says it writes memory (memory_*, *_memory, remember*, *_store, store_*, or Hints.MemoryTools), unless the name has a read verb (get, read, search, list, query, recall, ...)"},
		{ID: "to-artifact", Channel: ChannelArtifact, To: DestArtifact, Kinds: payloadKinds(),
			Why: "payload sent to a destination the policy marks as an artifact store"},
		{ID: "reasoning", Channel: ChannelReasoning, Kinds: []Kind{KindReasoning},
			Why: "a model's reasoning: reasoning_content / reasoning fields, <think> blocks, Responses reasoning items and reasoning stream events"},
		{ID: "artifact", Channel: ChannelArtifact, Kinds: []Kind{KindArtifact},
			Why: "an A2A artifact, in a task or an artifact-update event"},
		{ID: "tool-call", Channel: ChannelToolInput, Kinds: []Kind{KindToolCall},
			Why: "the arguments of a tool call: MCP tools/call params, OpenAI tool_calls, Responses function_call / mcp_call arguments"},
		{ID: "tool-result", Channel: ChannelToolOutput, Kinds: []Kind{KindToolResult},
			Why: "what a tool returned: MCP tools/call and resources/read results, role:tool messages, function_call_output, mcp_call output"},
		{ID: "tool-control-out", Channel: ChannelToolInput, Kinds: []Kind{KindToolControl}, Direction: DirRequest,
			Why: "other MCP traffic towards the tool server (initialize, tools/list, resources/read, prompts/get, replies to sampling)"},
		{ID: "tool-control-in", Channel: ChannelToolOutput, Kinds: []Kind{KindToolControl}, Direction: DirResponse,
			Why: "other MCP traffic from the tool server (tool lists, prompts, sampling/createMessage and elicitation requests, notifications)"},
		{ID: "to-user", Channel: ChannelFinalOutput, To: DestUser, Kinds: []Kind{KindCompletion, KindAgentMessage, KindAgentTask, KindBody},
			NotRoles: []string{"user", "system", "developer", "tool"},
			Why:      "an agent's or model's answer (not a user's, system's or tool's words echoed back) sent to a destination the policy marks as user-facing"},
		{ID: "agent", Channel: ChannelInterAgent, Kinds: []Kind{KindAgentMessage, KindAgentTask, KindAgentCard},
			Why: "A2A messages, tasks, status updates and agent cards between agents"},
		{ID: "model", Channel: ChannelInterAgent, Kinds: []Kind{KindPrompt, KindCompletion},
			Why: "prompts to a model and its answers that do not reach a user"},
		{ID: "to-tool", Channel: ChannelToolInput, To: DestTool,
			Why: "anything else sent to a tool server"},
		{ID: "from-tool", Channel: ChannelToolOutput, From: DestTool,
			Why: "anything else a tool server sent"},
		{ID: "default", Channel: ChannelInterAgent,
			Why: "everything else: traffic between agents is the channel that leaks most, so it is the default"},
	}
}

// matches reports whether rule r applies to message m of an exchange with request target target.
func (r *Rule) matches(m *Message, h *Hints, target string) bool {
	if len(r.Kinds) > 0 && !containsKind(r.Kinds, m.Kind) {
		return false
	}
	if r.Direction != 0 && r.Direction != m.Direction {
		return false
	}
	if r.To != DestUnknown && r.To != h.to(m.Direction) {
		return false
	}
	if r.From != DestUnknown && r.From != h.from(m.Direction) {
		return false
	}
	if r.ToUnknown && h.to(m.Direction) != DestUnknown {
		return false
	}
	if r.LogTarget && !IsLogPath(target) {
		return false
	}
	if r.MemoryTool && !IsMemoryTool(m.Name, h.MemoryTools) {
		return false
	}
	for _, role := range r.NotRoles {
		if m.Role == role {
			return false
		}
	}
	return true
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Label returns the channel of message m in an exchange whose request target is target, and the
// id of the rule that chose it.
func Label(m *Message, h Hints, target string) (Channel, string) {
	for i := range labelRules {
		if labelRules[i].matches(m, &h, target) { // h by pointer: the table is long, Hints large
			return labelRules[i].Channel, labelRules[i].ID
		}
	}
	return ChannelInterAgent, "default"
}

// labelRules is the table Label reads; it is never modified (ChannelRules hands out copies).
var labelRules = ChannelRules()

// IsLogPath reports whether a request target is a known log-shipping path: OTLP over HTTP
// (/v1/logs, /v1/traces, /v1/metrics), a path whose last segment is "logs" or "log", Loki's push
// API, or Splunk's HTTP event collector.
func IsLogPath(target string) bool {
	p := targetPath(target)
	p = strings.TrimSuffix(strings.ToLower(p), "/")
	last := p[strings.LastIndexByte(p, '/')+1:]
	switch {
	case last == "logs" || last == "log":
		return true
	case strings.HasSuffix(p, "/v1/traces") || strings.HasSuffix(p, "/v1/metrics"):
		return true
	case strings.Contains(p, "/loki/api/v1/push"), strings.HasPrefix(p, "/services/collector"):
		return true
	}
	return false
}

// isReadVerb reports whether a name token makes a memory-named tool a read, not a write. (A
// switch rather than a map: every tool call is labelled, and this spares hashing each word.)
func isReadVerb(tok []byte) bool {
	switch string(tok) {
	case "get", "read", "search", "list", "query", "recall", "retrieve", "fetch", "load", "find",
		"lookup", "describe", "count", "open":
		return true
	}
	return false
}

// IsMemoryTool reports whether a tool name says the tool writes memory: a name token "memory",
// "memories" or "remember", or a first or last token "store" (memory_add, save_memory,
// remember_fact, kv_store, store_note), without a read verb token (memory_search,
// get_memory); or a name matching one of the extra glob patterns. Tokens are split at
// non-letters and at camelCase humps.
func IsMemoryTool(name string, extra []string) bool {
	if name == "" {
		return false
	}
	for _, g := range extra {
		if globMatch(strings.ToLower(g), strings.ToLower(name)) {
			return true
		}
	}
	memory, first, lastStore := false, true, false
	words := nameWords{name: name}
	for t, ok := words.next(); ok; t, ok = words.next() {
		if isReadVerb(t) {
			return false
		}
		switch tok := string(t); {
		case tok == "memory" || tok == "memories" || tok == "remember":
			memory = true
		case tok == "store" && first:
			memory = true
		}
		lastStore, first = string(t) == "store", false
	}
	return memory || lastStore
}

// nameWords splits a tool name into words, lower case, at non-letters and camelCase humps. It is
// an iterator rather than a function calling back, so that the word buffer stays on the
// caller's stack.
type nameWords struct {
	name      string
	i         int // the next byte of name to read
	prevLower bool
	buf       [64]byte
}

// next returns the next word, valid until the following call; ok is false after the last.
func (w *nameWords) next() (word []byte, ok bool) {
	cur := w.buf[:0]
	for w.i < len(w.name) {
		r, size := utf8.DecodeRuneInString(w.name[w.i:])
		if !unicode.IsLetter(r) {
			w.i += size
			w.prevLower = false
			if len(cur) > 0 {
				return cur, true
			}
			continue
		}
		if unicode.IsUpper(r) && w.prevLower && len(cur) > 0 {
			return cur, true // r starts the next word, read by the next call
		}
		cur = utf8.AppendRune(cur, unicode.ToLower(r))
		w.prevLower = unicode.IsLower(r)
		w.i += size
	}
	return cur, len(cur) > 0
}

// globMatch matches s against a pattern in which '*' stands for any run of characters.
func globMatch(pattern, s string) bool {
	star, match := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, match = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			match++
			i = match
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
