package agentleak

import "github.com/meshwarden/meshwarden/test/agentleak/wire"

// evaluate measures one run: for every message, whether the audit log recorded it with the
// right source agent and channel; for every forbidden value and canary it carried, whether
// the receiver got it; and, in a compliant run, whether every allowed value arrived intact.
func evaluate(behaviour string, msgs []message, ix *records, v vault) Stats {
	s := Stats{}
	for _, m := range msgs {
		c := s.channel(behaviour, m.channel)
		c.Messages++
		outcome, detail := ix.match(m)
		if outcome == recorded {
			c.Recorded++
		} else {
			key := outcome
			if detail != "" {
				key += ": " + detail
			}
			c.Misses[key]++
		}
		denied := !m.arrived && ix.denied(m)
		var fb, ca Leak
		for _, it := range v.forbidden {
			if it.present(m.sent) {
				fb.count(m, denied, it.present(m.received))
			}
		}
		for _, can := range v.canaries {
			if m.sent.hasText(can) {
				ca.count(m, denied, m.received.hasText(can))
			}
		}
		c.Forbidden.add(fb)
		c.Canaries.add(ca)
		if fb.Attempts+ca.Attempts > 0 {
			c.Violating++
			if outcome == recorded {
				c.ViolatingRecorded++
			}
			if denied {
				for _, r := range ix.reasons(m) {
					c.BlockReasons[r]++
				}
			}
		}
		if behaviour == wire.Compliant {
			for _, it := range v.allowed {
				if it.intact(m.sent) {
					c.UtilityValues++
					if m.arrived && it.intact(m.received) {
						c.UtilityIntact++
					}
				}
			}
		}
	}
	return s
}

// count files one (message, value) attempt under its outcome.
func (l *Leak) count(m message, denied, stillThere bool) {
	l.Attempts++
	switch {
	case !m.arrived && denied:
		l.Blocked++
	case !m.arrived:
		l.Undelivered++
	case stillThere:
		l.Leaked++
	default:
		l.Redacted++
	}
}
