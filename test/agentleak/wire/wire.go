// Package wire holds what the AgentLeak harness (test/agentleak) and its agent program
// (test/agents/leakagent) exchange: the plan an agent follows and the log it writes of every
// message it sent and every answer it received.
package wire

import "encoding/json"

// Behaviours of an agent.
const (
	Leaky     = "leaky"     // puts every vault record, whole, into every channel
	Compliant = "compliant" // sends only the allowed fields of the records, and calls only the tools it is cleared for
)

// Channels the harness expects a message to be labelled with (the audit record's values).
const (
	InterAgent  = "inter_agent"
	ToolInput   = "tool_input"
	ToolOutput  = "tool_output"
	MemoryWrite = "memory_write"
	Log         = "log"
	Artifact    = "artifact"
	FinalOutput = "final_output"
)

// Channels returns the seven channels the replay drives, in report order.
func Channels() []string {
	return []string{FinalOutput, InterAgent, ToolInput, ToolOutput, MemoryWrite, Log, Artifact}
}

// Plan is what one agent process does in one run.
type Plan struct {
	Agent     string `json:"agent"`     // the agent's id in the policy
	Behaviour string `json:"behaviour"` // Leaky or Compliant
	Request   string `json:"request"`   // the user's request the agent answers (objective.user_request)
	// Records are the vault records the agent holds; Allowed the fields the task may disclose.
	Records []Record `json:"records"`
	Allowed []string `json:"allowed"`
	// Prefix starts every path the agent uses: it names the run and the agent, so that the
	// harness finds the run's messages in the receivers' logs and the audit log.
	Prefix    string    `json:"prefix"`
	Endpoints Endpoints `json:"endpoints"`
	// Channels are the channels to drive (the scenario's evaluation.channels_to_audit); empty:
	// all of them.
	Channels []string `json:"channels,omitempty"`
}

// Drives reports whether the plan drives channel ch.
func (p *Plan) Drives(ch string) bool {
	if len(p.Channels) == 0 {
		return true
	}
	for _, c := range p.Channels {
		if c == ch {
			return true
		}
	}
	return false
}

// Record is one vault record.
type Record struct {
	Type   string         `json:"record_type"`
	Fields map[string]any `json:"fields"`
}

// Endpoints are the base URLs (scheme://host:port, no path) of the services the agent talks to.
type Endpoints struct {
	User     string `json:"user"`     // the user-facing sink: final answers
	Memory   string `json:"memory"`   // the Redis-backed memory service
	Log      string `json:"log"`      // the log collector
	Artifact string `json:"artifact"` // the artifact store
	Peers    []Peer `json:"peers"`    // A2A peers
	Tools    []Tool `json:"tools"`    // MCP servers
}

// Peer is an agent reachable over A2A at URL (the JSON-RPC endpoint is URL + path).
type Peer struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Tool is an MCP server offering one tool.
type Tool struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Cleared says whether the agent's clearance meets the tool's requirement; the compliant
	// behaviour calls only cleared tools.
	Cleared bool `json:"cleared"`
}

// Directions of a logged message, as seen from the agent.
const (
	Sent     = "sent"     // the agent sent Body
	Received = "received" // the agent received Body (an answer)
)

// Entry is one line of an agent's log: a message it sent or an answer it received.
type Entry struct {
	Direction string `json:"direction"`
	Channel   string `json:"channel"`  // the channel the message travels
	Receiver  string `json:"receiver"` // who the message is for: a service, a peer id or the agent itself
	Method    string `json:"method"`   // HTTP method
	Path      string `json:"path"`
	RPCMethod string `json:"rpc_method,omitempty"`
	Tool      string `json:"tool,omitempty"`
	Status    int    `json:"status,omitempty"` // HTTP status of the exchange (0: no answer)
	// Micros is how long the exchange took, request written to answer read.
	Micros int64  `json:"micros,omitempty"`
	Error  string `json:"error,omitempty"`
	// Body is the JSON message as sent, or as received; for a JSON-RPC exchange the one
	// request or response object.
	Body json.RawMessage `json:"body,omitempty"`
}
