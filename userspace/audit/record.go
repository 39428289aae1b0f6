// Package audit holds the audit record and the single writer that appends records as JSON lines.
package audit

import "time"

// Record kinds.
const (
	KindFlow    = "flow"    // a connect() verdict taken by the kernel
	KindRequest = "request" // one exchange (an HTTP request, or a whole opaque TCP stream) relayed by the enforcer
	KindSystem  = "system"  // the daemon itself: start, policy reload, ring-buffer loss
)

// Record is one audit line. Empty fields are omitted.
type Record struct {
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

	Source      string `json:"source,omitempty"`      // client ip:port as the enforcer saw it
	Destination string `json:"destination,omitempty"` // original destination ip:port
	DstZone     string `json:"dst_zone,omitempty"`
	Transport   string `json:"transport,omitempty"` // tcp or udp
	Protocol    string `json:"protocol,omitempty"`  // http/1.1 or tcp (opaque)

	Verdict string `json:"verdict,omitempty"` // ALLOW, DENY, REDIRECT
	Reason  string `json:"reason,omitempty"`

	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	Status     int    `json:"status,omitempty"`
	BytesIn    int64  `json:"bytes_in,omitempty"`  // from the agent towards the destination
	BytesOut   int64  `json:"bytes_out,omitempty"` // from the destination back to the agent
	DurationNS int64  `json:"duration_ns,omitempty"`

	Message string `json:"message,omitempty"` // system records: what happened
}
