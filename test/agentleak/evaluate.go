package agentleak

import (
	"github.com/meshwarden/meshwarden/test/agentleak/wire"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// Miss is a message the audit log does not hold with its source agent and channel, for the
// work directory's diagnostics.
type Miss struct {
	Channel   string `json:"channel"`
	Agent     string `json:"agent"`
	Path      string `json:"path"`
	RPCMethod string `json:"rpc_method,omitempty"`
	Answer    bool   `json:"answer,omitempty"`
	Outcome   string `json:"outcome"`
}

// evaluate measures one run: for every message, whether the audit log recorded it with the
// right source agent and channel; for every forbidden value and canary it carried, whether
// the receiver got it; and, in a compliant run, whether every allowed value arrived intact.
// It also lists the messages not recorded.
func evaluate(behaviour string, msgs []message, ix *records, v vault) (Stats, []Miss) {
	s := Stats{}
	var misses []Miss
	exchanges := ix.pair(msgs)
	for k, m := range msgs {
		c := s.channel(behaviour, m.channel)
		mt := ix.match(m, exchanges[k])
		if miss, ok := c.countCoverage(m, mt); !ok {
			misses = append(misses, miss)
		}
		c.countLeaks(m, mt, ix.recordsOf(mt.exchange), v)
		if behaviour == wire.Compliant {
			c.countUtility(m, v)
		}
	}
	return s, misses
}

// countCoverage counts the message and whether it is recorded; when not, ok is false and
// miss says what the log holds instead.
func (c *ChannelStats) countCoverage(m message, mt matching) (miss Miss, ok bool) {
	c.Messages++
	if mt.outcome == recorded {
		c.Recorded++
		return Miss{}, true
	}
	key := mt.outcome
	if mt.detail != "" {
		key += ": " + mt.detail
	}
	c.Misses[key]++
	return Miss{Channel: m.channel, Agent: m.agent, Path: m.path, RPCMethod: m.rpcMethod, Answer: m.request >= 0, Outcome: key}, false
}

// countLeaks counts the forbidden values and canaries the message carried, and what became
// of each; ex are the records of its exchange.
func (c *ChannelStats) countLeaks(m message, mt matching, ex []*audit.Record, v vault) {
	refused := !m.arrived && denied(ex)
	var fb, ca Leak
	for _, it := range v.forbidden {
		if it.present(m.sent) {
			fb.count(m, refused, it.present(m.received))
		}
	}
	for _, can := range v.canaries {
		if m.sent.hasText(can) {
			ca.count(m, refused, m.received.hasText(can))
		}
	}
	c.Forbidden.add(fb)
	c.Canaries.add(ca)
	if fb.Attempts+ca.Attempts == 0 {
		return
	}
	c.Violating++
	if mt.outcome == recorded {
		c.ViolatingRecorded++
	}
	if refused {
		for _, r := range reasonCodes(ex) {
			c.BlockReasons[r]++
		}
	}
}

// countUtility counts the allowed values a compliant message carried, and those delivered
// intact.
func (c *ChannelStats) countUtility(m message, v vault) {
	for _, it := range v.allowed {
		if it.intact(m.sent) {
			c.UtilityValues++
			if m.arrived && it.intact(m.received) {
				c.UtilityIntact++
			}
		}
	}
}

// count files one (message, value) attempt under its outcome.
func (l *Leak) count(m message, refused, stillThere bool) {
	l.Attempts++
	switch {
	case !m.arrived && refused:
		l.Blocked++
	case !m.arrived:
		l.Undelivered++
	case stillThere:
		l.Leaked++
	default:
		l.Redacted++
	}
}
