package agentleak

import (
	"strings"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// exchange is the records of one exchange (one exchange id) in the audit log.
type exchange struct {
	path, rpcMethod string
	digest          string // payload_sha256 of its request record
	recs            []int  // indexes into records.recs, in log order
	taken           bool   // paired with a request message
}

// records holds the audit records of one run, by exchange.
type records struct {
	recs   []audit.Record
	used   []bool
	byPath map[string][]*exchange // in log order
}

// indexRecords keeps the records of run (those whose path, their own or that of their
// exchange, is in the run) and groups them by exchange. A record without an exchange id is
// an exchange of its own.
func indexRecords(run string, all []audit.Record) *records {
	exPath := map[string]string{}
	for _, r := range all {
		if r.ExchangeID != "" && r.Path != "" {
			exPath[r.ExchangeID] = r.Path
		}
	}
	ix := &records{byPath: map[string][]*exchange{}}
	byID := map[string]*exchange{}
	for _, r := range all {
		p := r.Path
		if p == "" && r.ExchangeID != "" {
			p = exPath[r.ExchangeID]
		}
		if p == "" || runOf(p) != run {
			continue
		}
		ex := byID[r.ExchangeID]
		if ex == nil || r.ExchangeID == "" {
			ex = &exchange{path: p}
			ix.byPath[p] = append(ix.byPath[p], ex)
			if r.ExchangeID != "" {
				byID[r.ExchangeID] = ex
			}
		}
		if ex.rpcMethod == "" {
			ex.rpcMethod = r.RPCMethod
		}
		if r.Kind == audit.KindRequest && r.PayloadSHA256 != "" {
			ex.digest = r.PayloadSHA256
		}
		ex.recs = append(ex.recs, len(ix.recs))
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

// matching is what match found for a message.
type matching struct {
	outcome, detail string
	exchange        *exchange // nil when none
}

// pair finds the exchange of every message: a request's is the exchange whose request record
// has the digest of the body the agent sent, else the first unpaired one of its path and
// JSON-RPC method (an agent sends on one path one message after the other); an answer's is
// its request's.
func (ix *records) pair(msgs []message) []*exchange {
	out := make([]*exchange, len(msgs))
	for i, m := range msgs {
		if m.request >= 0 {
			continue
		}
		var first *exchange
		for _, ex := range ix.byPath[m.path] {
			if ex.taken || (ex.rpcMethod != "" && m.rpcMethod != "" && ex.rpcMethod != m.rpcMethod) {
				continue
			}
			if ex.digest != "" && ex.digest == m.digest {
				first = ex
				break
			}
			if first == nil {
				first = ex
			}
		}
		if first != nil {
			first.taken = true
			out[i] = first
		}
	}
	for i, m := range msgs {
		if m.request >= 0 {
			out[i] = out[m.request]
		}
	}
	return out
}

// match looks in the message's exchange for a record with its channel and source agent,
// travelling its way (a request's, or an answer's), and marks it used.
func (ix *records) match(m message, ex *exchange) matching {
	res := matching{outcome: noRecord, exchange: ex}
	if ex == nil {
		return res
	}
	res.outcome = noChannel
	for _, i := range ex.recs {
		r := &ix.recs[i]
		if !directionFits(r, m.request >= 0) {
			continue
		}
		switch {
		case r.Channel == m.channel && r.AgentID == m.agent && !ix.used[i]:
			ix.used[i] = true
			return matching{outcome: recorded, exchange: ex}
		case r.Channel == m.channel && r.AgentID != m.agent:
			res.outcome, res.detail = wrongAgent, r.AgentID
		case r.Channel != "" && r.Channel != m.channel && res.outcome != wrongAgent:
			res.outcome, res.detail = otherLabels, r.Channel
		}
	}
	return res
}

// directionFits reports whether a record may be about a message travelling that way: an
// exchange's request record, and a message record whose message says "request ...", are
// about the request; a response record, and "response ...", about the answer; any other
// about either.
func directionFits(r *audit.Record, answer bool) bool {
	var dir string
	switch {
	case r.Kind == audit.KindRequest:
		dir = "request"
	case r.Kind == audit.KindResponse:
		dir = "response"
	case r.Kind == audit.KindMessage:
		dir, _, _ = strings.Cut(r.Message, " ")
	}
	switch dir {
	case "request":
		return !answer
	case "response":
		return answer
	}
	return true
}

// recordsOf returns the records of an exchange.
func (ix *records) recordsOf(ex *exchange) []*audit.Record {
	if ex == nil {
		return nil
	}
	out := make([]*audit.Record, len(ex.recs))
	for k, i := range ex.recs {
		out[k] = &ix.recs[i]
	}
	return out
}

// denied reports whether a record of the exchange says the mesh refused it.
func denied(ex []*audit.Record) bool {
	for _, r := range ex {
		if r.Verdict == "DENY" {
			return true
		}
	}
	return false
}

// reasonCodes returns the reason codes of an exchange's refusals, each without the JSON path
// a finding code ends with (finding/request/field/block/$.record.<field> →
// finding/request/field/block), so that they count by kind.
func reasonCodes(ex []*audit.Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range ex {
		if r.Verdict != "DENY" {
			continue
		}
		codes := r.ReasonCodes
		if len(codes) == 0 && r.Reason != "" {
			codes = []string{r.Reason}
		}
		for _, c := range codes {
			code, _, _ := strings.Cut(c, "/$")
			if !seen[code] {
				seen[code] = true
				out = append(out, code)
			}
		}
	}
	return out
}
