package api

import (
	"net/url"
	"strings"
	"time"
)

// Event is one line of `meshwarden observe`: a kernel flow decision or an enforcer exchange.
// It carries what the audit record says about who, where and what was decided, never payload.
type Event struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`            // flow, request, or lost (events this reader missed)
	Agent     string    `json:"agent,omitempty"` // source agent id
	Role      string    `json:"role,omitempty"`
	Zone      string    `json:"zone,omitempty"` // source zone
	PID       uint32    `json:"pid,omitempty"`
	Comm      string    `json:"comm,omitempty"`
	Target    string    `json:"target,omitempty"` // original destination ip:port
	DstZone   string    `json:"dst_zone,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Protocol  string    `json:"protocol,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Verdict   string    `json:"verdict,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Method    string    `json:"method,omitempty"`
	Path      string    `json:"path,omitempty"`
	Status    int       `json:"status,omitempty"`
	BytesIn   int64     `json:"bytes_in,omitempty"`
	BytesOut  int64     `json:"bytes_out,omitempty"`
	Duration  int64     `json:"duration_ns,omitempty"`
	Lost      uint64    `json:"lost,omitempty"` // kind lost: how many events were dropped for this reader
}

// Filter selects events. Zero fields match everything.
type Filter struct {
	Agent   string    // source agent id
	Verdict string    // ALLOW, DENY or REDIRECT (any case)
	Kind    string    // flow or request
	Domain  string    // data domain the enforcer classified an exchange in
	Channel string    // channel of an exchange (inter_agent, tool_input, ...)
	Since   time.Time // events at or after this time
	Follow  bool      // keep streaming new events
}

// Match reports whether e passes f. Lost markers always pass.
func (f Filter) Match(e Event) bool {
	if e.Kind == KindLost {
		return true
	}
	return (f.Agent == "" || e.Agent == f.Agent) &&
		(f.Verdict == "" || strings.EqualFold(e.Verdict, f.Verdict)) &&
		(f.Kind == "" || e.Kind == f.Kind) &&
		(f.Domain == "" || e.Domain == f.Domain) &&
		(f.Channel == "" || e.Channel == f.Channel) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// KindLost marks an Event that stands for events dropped because the reader was too slow.
const KindLost = "lost"

func (f Filter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("agent", f.Agent)
	set("verdict", f.Verdict)
	set("kind", f.Kind)
	set("domain", f.Domain)
	set("channel", f.Channel)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.Follow {
		q.Set("follow", "1")
	}
	return q
}

func filterFrom(q url.Values) (Filter, error) {
	f := Filter{Agent: q.Get("agent"), Verdict: q.Get("verdict"), Kind: q.Get("kind"),
		Domain: q.Get("domain"), Channel: q.Get("channel"), Follow: q.Get("follow") == "1"}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	return f, nil
}
