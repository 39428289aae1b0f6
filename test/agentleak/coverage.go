package agentleak

import (
	"strings"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// records holds the audit records of one run, by the path of their exchange.
type records struct {
	byPath map[string][]int
	recs   []audit.Record
	used   []bool
}

// indexRecords keeps the records of run: those whose path (their own, or that of another
// record of the same exchange) is in the run.
func indexRecords(run string, all []audit.Record) *records {
	exPath := map[string]string{}
	for _, r := range all {
		if r.ExchangeID != "" && r.Path != "" {
			exPath[r.ExchangeID] = r.Path
		}
	}
	ix := &records{byPath: map[string][]int{}}
	for _, r := range all {
		p := r.Path
		if p == "" && r.ExchangeID != "" {
			p = exPath[r.ExchangeID]
		}
		if p == "" || runOf(p) != run {
			continue
		}
		ix.byPath[p] = append(ix.byPath[p], len(ix.recs))
		ix.recs = append(ix.recs, r)
	}
	ix.used = make([]bool, len(ix.recs))
	return ix
}

// Outcomes of matching a message with the audit log.
const (
	recorded    = "recorded"      // a record with the right source agent and channel
	noRecord    = "no record"     // nothing about the message's exchange
	noChannel   = "no channel"    // records of the exchange, none labelled
	wrongAgent  = "wrong agent"   // the right channel, another source agent
	otherLabels = "other channel" // labelled, with another channel (detail names it)
)

// match finds the message's record and marks it used. It returns the outcome, and for
// otherLabels the channel the records carry.
func (ix *records) match(m message) (outcome, detail string) {
	outcome = noRecord
	for _, i := range ix.byPath[m.path] {
		r := &ix.recs[i]
		if r.RPCMethod != "" && m.rpcMethod != "" && r.RPCMethod != m.rpcMethod {
			continue
		}
		switch {
		case r.Channel == m.channel && r.AgentID == m.agent && !ix.used[i]:
			ix.used[i] = true
			return recorded, ""
		case r.Channel == m.channel && r.AgentID != m.agent:
			outcome, detail = wrongAgent, r.AgentID
		case r.Channel != "" && r.Channel != m.channel && outcome != wrongAgent:
			outcome, detail = otherLabels, r.Channel
		case outcome == noRecord:
			outcome = noChannel
		}
	}
	return outcome, detail
}

// denied reports whether a record of the message's exchange says the mesh refused it.
func (ix *records) denied(m message) bool {
	for _, i := range ix.byPath[m.path] {
		r := &ix.recs[i]
		if (r.RPCMethod == "" || m.rpcMethod == "" || r.RPCMethod == m.rpcMethod) && r.Verdict == "DENY" {
			return true
		}
	}
	return false
}

// reasons returns the reason codes of the message's exchange's records, each without the
// JSON path a finding code ends with (finding/request/field/block/$.records[0].ssn →
// finding/request/field/block), so that they count by kind.
func (ix *records) reasons(m message) []string {
	var out []string
	for _, i := range ix.byPath[m.path] {
		r := &ix.recs[i]
		if r.RPCMethod == "" || m.rpcMethod == "" || r.RPCMethod == m.rpcMethod {
			for _, c := range r.ReasonCodes {
				code, _, _ := strings.Cut(c, "/$")
				out = append(out, code)
			}
			if len(r.ReasonCodes) == 0 && r.Verdict == "DENY" && r.Reason != "" {
				out = append(out, r.Reason)
			}
		}
	}
	return out
}
