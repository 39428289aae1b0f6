package api

import "time"

// Status is what `meshwarden status` shows: one snapshot of the daemon.
type Status struct {
	Version     string    `json:"version"`
	Node        string    `json:"node"`
	PID         int       `json:"pid"`
	Started     time.Time `json:"started"`
	MetricsAddr string    `json:"metrics_addr,omitempty"` // where /metrics is served; empty when off
	Socket      string    `json:"socket"`

	Policy   PolicyStatus   `json:"policy"`
	Hooks    []Hook         `json:"hooks"`
	Maps     []Map          `json:"maps"`
	Counters Counters       `json:"counters"`
	Agents   []Agent        `json:"agents"`
	Enforcer EnforcerStatus `json:"enforcer"`
	Audit    AuditStatus    `json:"audit"`
	Errors   []string       `json:"errors,omitempty"` // parts of the snapshot that could not be read
}

// PolicyStatus is the running policy and the last load attempt.
type PolicyStatus struct {
	Source     string    `json:"source"`      // the policy file
	Digest     string    `json:"digest"`      // sha256 prefix of the running policy's file content
	Generation uint32    `json:"generation"`  // the kernel tables' live generation (0 or 1)
	AppliedAt  time.Time `json:"applied_at"`  // when the running policy went live
	Agents     int       `json:"agents"`      // agents it declares
	Zones      int       `json:"zones"`       // zones it declares
	ZoneRules  int       `json:"zone_rules"`  // kernel rules (one per port of a segmentation rule)
	LastReload *Reload   `json:"last_reload"` // nil before the first reload attempt
}

// Reload is one reload attempt.
type Reload struct {
	Time   time.Time `json:"time"`
	Digest string    `json:"digest"`
	Result string    `json:"result"`          // applied or refused
	Error  string    `json:"error,omitempty"` // why it was refused
}

// Hook is one attached program.
type Hook struct {
	Hook      string `json:"hook"`
	LinkID    uint32 `json:"link_id"`
	ProgramID uint32 `json:"program_id"`
	Cgroup    string `json:"cgroup"`
	CgroupID  uint64 `json:"cgroup_id"`
	Attached  bool   `json:"attached"`
	Reused    bool   `json:"reused"` // the pinned link survived a restart and got the new program in place
}

// Map is one datapath map's fill.
type Map struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	ID         uint32 `json:"id"`
	Entries    uint32 `json:"entries"`
	MaxEntries uint32 `json:"max_entries"`
}

// Counters are the kernel's per-CPU counters, summed.
type Counters struct {
	Allow              uint64 `json:"allow"`
	Deny               uint64 `json:"deny"`
	Redirect           uint64 `json:"redirect"`
	RingbufDrops       uint64 `json:"ringbuf_drops"`
	OrigStoreFailures  uint64 `json:"original_destination_store_failures"`
	TupleStoreFailures uint64 `json:"tuple_store_failures"`
}

// Agent is one agent of the running policy.
type Agent struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	Zone      string `json:"zone"`
	Cgroup    string `json:"cgroup"` // absolute path
	CgroupID  uint64 `json:"cgroup_id"`
	Processes int    `json:"processes"` // processes in the agent's cgroup now; -1 when unreadable
}

// EnforcerStatus is the userspace enforcer's state.
type EnforcerStatus struct {
	Listeners []string `json:"listeners"`
	Accepted  int64    `json:"accepted"`
	Refused   int64    `json:"refused"`
	Active    int64    `json:"active"`
	Requests  int64    `json:"requests"` // HTTP requests relayed
}

// AuditStatus is the audit log's state as the daemon sees it.
type AuditStatus struct {
	Path        string    `json:"path"`
	Records     uint64    `json:"records"`      // written by this daemon process
	WriteErrors uint64    `json:"write_errors"` // failed writes by this daemon process
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}
