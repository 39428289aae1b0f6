// Package audit writes and checks the node's audit log: JSON lines chained by sha256, signed
// checkpoints, group-committed with fsync, rotated by size and age, sealed after torn writes.
// README.md beside this file documents the record schema and the integrity scheme.
package audit

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// SchemaVersion is the value of every record's "v" field. schema/audit-record-v1.schema.json
// describes the records of this version.
const SchemaVersion = 1

// Record kinds.
const (
	KindFlow       = "flow"       // a connect() verdict taken by the kernel, or a flow's close
	KindRequest    = "request"    // one exchange (an HTTP request, or a whole opaque TCP stream) relayed by the enforcer
	KindResponse   = "response"   // the answer to a request, audited on its way back
	KindMessage    = "message"    // one message inside an exchange (an A2A message, an MCP tools/call, an SSE event)
	KindDecision   = "decision"   // a policy decision taken without a relayed exchange
	KindSystem     = "system"     // the daemon itself: start, policy reload, ring-buffer loss, log sealing
	KindCheckpoint = "checkpoint" // a signed statement of the chain head, written by the Writer itself
)

// Channels: where in a multi-agent system a message travels.
const (
	ChannelInterAgent  = "inter_agent"
	ChannelToolInput   = "tool_input"
	ChannelToolOutput  = "tool_output"
	ChannelReasoning   = "reasoning"
	ChannelMemoryWrite = "memory_write"
	ChannelLog         = "log"
	ChannelArtifact    = "artifact"
	ChannelFinalOutput = "final_output"
)

// Record is one audit line. Empty fields are omitted.
//
// V, Seq and Prev are the Writer's: whatever a caller puts there is replaced. ID is filled in
// when empty. Time and Node are filled in when empty.
type Record struct {
	V    int    `json:"v,omitempty"`    // schema version (SchemaVersion)
	Seq  uint64 `json:"seq,omitempty"`  // position in the node's chain, from 1, never reused, continuing across files
	Prev string `json:"prev,omitempty"` // hex sha256 of the previous line's bytes (without its newline); 64 zeros before seq 1
	ID   string `json:"id,omitempty"`   // unique record id (a UUIDv7)

	Time     time.Time `json:"time"`
	Node     string    `json:"node"`
	Kind     string    `json:"kind"`
	AgentID  string    `json:"agent_id,omitempty"`
	Role     string    `json:"role,omitempty"`
	Zone     string    `json:"zone,omitempty"`
	PID      uint32    `json:"pid,omitempty"`
	Comm     string    `json:"comm,omitempty"`
	CgroupID uint64    `json:"cgroup_id,omitempty"`
	Cookie   uint64    `json:"cookie,omitempty"`

	SPIFFEID    string `json:"spiffe_id,omitempty"`   // the source agent's SPIFFE id
	Measurement string `json:"measurement,omitempty"` // the source agent's attestation measurement

	Source        string `json:"source,omitempty"`      // client ip:port as the enforcer saw it
	Destination   string `json:"destination,omitempty"` // original destination ip:port
	DstZone       string `json:"dst_zone,omitempty"`
	TargetAgent   string `json:"target_agent,omitempty"`   // the agent the destination belongs to, when it is one
	TargetService string `json:"target_service,omitempty"` // the service the destination belongs to, when it is one
	Transport     string `json:"transport,omitempty"`      // tcp or udp
	Protocol      string `json:"protocol,omitempty"`       // http/1.1 or tcp (opaque), mcp, a2a, openai

	ExchangeID string `json:"exchange_id,omitempty"` // shared by both enforcers of an exchange and by its request and response
	Domain     string `json:"domain,omitempty"`      // data domain of the policy
	Tier       string `json:"tier,omitempty"`        // protection tier applied
	Channel    string `json:"channel,omitempty"`     // one of the Channel constants

	Verdict     string   `json:"verdict,omitempty"` // ALLOW, DENY, REDIRECT
	Reason      string   `json:"reason,omitempty"`
	ReasonCodes []string `json:"reason_codes,omitempty"` // machine-readable reasons, most important first
	MaskedKeys  []string `json:"masked_keys,omitempty"`  // metadata keys scrubbed (names, never values)

	Method        string `json:"method,omitempty"` // HTTP method
	Path          string `json:"path,omitempty"`
	RPCMethod     string `json:"rpc_method,omitempty"` // JSON-RPC method: tools/call, message/send, ...
	Tool          string `json:"tool,omitempty"`       // MCP tool name
	Status        int    `json:"status,omitempty"`
	BytesIn       int64  `json:"bytes_in,omitempty"`  // from the agent towards the destination
	BytesOut      int64  `json:"bytes_out,omitempty"` // from the destination back to the agent
	PayloadBytes  int64  `json:"payload_bytes,omitempty"`
	PayloadSHA256 string `json:"payload_sha256,omitempty"` // hex sha256 of the payload as received
	DurationNS    int64  `json:"duration_ns,omitempty"`

	// Domains with audit_payloads: the payloads as they went on, after redaction and scrubbing,
	// sealed to the audit payload key (see Sealed), bound to this record's id and exchange id.
	PayloadSealed  *Sealed `json:"payload_sealed,omitempty"`  // the request payload as forwarded
	ResponseSealed *Sealed `json:"response_sealed,omitempty"` // the response payload as relayed to the client

	Message string `json:"message,omitempty"` // system records: what happened

	Checkpoint *Checkpoint `json:"checkpoint,omitempty"` // checkpoint records only
	Torn       *Torn       `json:"torn,omitempty"`       // system records that seal a torn write
}

// Checkpoint is the signed part of a checkpoint record: the chain head it covers, which is the
// line just before it (HeadSeq = Seq-1, HeadHash = Prev).
type Checkpoint struct {
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	KeyID    string `json:"key_id"` // KeyID of the signing public key
	Sig      string `json:"sig"`    // base64 Ed25519 signature of checkpointMessage
}

// Torn describes bytes of a log file that are not records (a write cut short by a crash or a
// full disk). The system record carrying it chains from the last record before those bytes.
type Torn struct {
	Offset int64  `json:"offset"` // where the bytes start in the file
	Bytes  int64  `json:"bytes"`  // how many, including the newline that ends them
	SHA256 string `json:"sha256"` // hex sha256 of exactly those bytes
}

var errLogOnly = errors.New("checkpoint and seal records are written by the audit log itself")

// check refuses what a caller may not append: values outside the schema's enumerations, and
// the records only the log writes.
func (r *Record) check() error {
	switch {
	case r.Kind == KindCheckpoint || r.Checkpoint != nil || r.Torn != nil:
		return errLogOnly
	case !slices.Contains([]string{KindFlow, KindRequest, KindResponse, KindMessage, KindDecision, KindSystem}, r.Kind):
		return fmt.Errorf("audit record kind %q is not one of the schema's", r.Kind)
	case r.Channel != "" && !slices.Contains([]string{ChannelInterAgent, ChannelToolInput, ChannelToolOutput, ChannelReasoning,
		ChannelMemoryWrite, ChannelLog, ChannelArtifact, ChannelFinalOutput}, r.Channel):
		return fmt.Errorf("audit record channel %q is not one of the schema's", r.Channel)
	case r.Transport != "" && r.Transport != "tcp" && r.Transport != "udp":
		return fmt.Errorf("audit record transport %q is not tcp or udp", r.Transport)
	}
	return nil
}
