package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/classify"
	"github.com/meshwarden/meshwarden/userspace/pep"
	"github.com/meshwarden/meshwarden/userspace/protocol"
	"github.com/meshwarden/meshwarden/userspace/scrub"
)

// maxFindingCodes bounds the findings one exchange record lists (a long stream may have many).
const maxFindingCodes = 64

// record is the exchange's request record: one per HTTP exchange on the enforcing path, written
// when it ends (or is refused). Its message records, one per parsed message, carry the channels.
func (t *txn) record() audit.Record {
	r := t.c.base
	r.Time = time.Now()
	r.Protocol = t.protocolName
	r.ExchangeID = t.id
	r.Domain, r.Tier = t.domainName(), t.tierName()
	r.Channel = t.channel
	r.RPCMethod, r.Tool = t.rpcMethod, t.tool
	r.Method, r.Path = t.req.Method, t.req.URL.Path
	r.Status = t.status
	r.BytesIn, r.BytesOut = int64(len(t.body)), t.bytesOut
	r.DurationNS = time.Since(t.start).Nanoseconds()
	r.Verdict, r.Reason = t.verdict, t.reason
	r.ReasonCodes = append(slices.Clone(t.reasons), t.findings...)
	r.MaskedKeys = sortedUnique(t.masked)
	if len(t.body) > 0 {
		r.PayloadBytes = int64(len(t.body))
		sum := sha256.Sum256(t.body)
		r.PayloadSHA256 = hex.EncodeToString(sum[:])
	}
	t.sealInto(&r)
	return r
}

// messageRecord is the record of one parsed message of the exchange: its channel, the rule that
// chose it, its method and tool, and whether it was relayed (REDIRECT) or refused (DENY).
func (t *txn) messageRecord(m *protocol.Message, verdict, reason string) audit.Record {
	r := t.c.base
	r.Time = time.Now()
	r.Protocol = protocolLabel(m.Protocol)
	r.ExchangeID = t.id
	r.Domain, r.Tier = t.domainName(), t.tierName()
	r.Channel = string(m.Channel)
	r.RPCMethod = m.Method
	if m.Kind == protocol.KindToolCall || m.Kind == protocol.KindToolResult {
		r.Tool = m.Name
	}
	r.Method, r.Path = t.req.Method, t.req.URL.Path
	r.Verdict, r.Reason = verdict, reason
	if reason != "" {
		r.ReasonCodes = []string{reason}
	}
	r.Message = m.Direction.String() + " " + string(m.Kind) + " (rule " + m.Rule + ")"
	return r
}

// auditMessages queues the message records of a body: each message not a streamed fragment
// (those are audited assembled, from the stream's summary). They are written together, with
// the exchange's record (writeRecord) or after each event of a stream (flushMessages), so that
// the audit log is woken once per exchange rather than once per message.
func (t *txn) auditMessages(ms []protocol.Message, verdict, reason string) {
	for i := range ms {
		if ms[i].Partial || !t.recordsMessage(&ms[i], verdict) {
			continue
		}
		t.pending = append(t.pending, t.messageRecord(&ms[i], verdict, reason))
	}
}

// flushMessages writes the queued message records.
func (t *txn) flushMessages() {
	for _, r := range t.pending {
		_ = t.c.srv.auditMessage(r)
	}
	t.pending = t.pending[:0]
}

// writeRecord writes the queued message records, then the exchange's record rec.
func (t *txn) writeRecord(rec audit.Record) {
	t.flushMessages()
	t.c.srv.audit(rec)
}

// outputOnly reports whether the exchange is audited at OUTPUT_ONLY: its domain asks for it
// (audit_level), or global.audit_scope caps every domain at it. Before the decision (no
// domain), the exchange is audited fully.
func (t *txn) outputOnly() bool {
	if t.domain == nil {
		return false
	}
	if t.domain.AuditLevel == policy.AuditOutputOnly {
		return true
	}
	return t.eng != nil && t.eng.Policy().Global.AuditScope == policy.AuditOutputOnly
}

// recordsMessage reports whether a message gets its own record: every message at FULL_MESH; at
// OUTPUT_ONLY only final_output messages and refused ones (refusals are always recorded). The
// exchange's request record, with its verdict and reasons, is written at either level.
func (t *txn) recordsMessage(m *protocol.Message, verdict string) bool {
	return verdict == verdictDeny || m.Channel == protocol.ChannelFinalOutput || !t.outputOnly()
}

// auditDecisionDurably writes, before a request is forwarded, the records of its messages (as
// the audit level keeps them) and its decision record, and returns once the decision record is
// durable: for domains with audit_before_forward. The message records are queued ahead of it
// on the same log, which commits in order, so one commit (one fsync) covers them all. An error
// means the request must not go.
func (t *txn) auditDecisionDurably(ms []protocol.Message) error {
	for i := range ms {
		if ms[i].Partial || !t.recordsMessage(&ms[i], verdictRedirect) {
			continue
		}
		if err := t.c.srv.auditMessage(t.messageRecord(&ms[i], verdictRedirect, "")); err != nil {
			return err
		}
	}
	d := t.record()
	d.Kind, d.Status, d.BytesOut, d.DurationNS = audit.KindDecision, 0, 0, 0
	d.Message = "forward after durable audit (audit_before_forward)"
	return t.c.srv.auditDurable(d)
}

// noteDecision adds what a decision found and scrubbed to the exchange record: findings by
// type, action and path (never values), and the names of what was masked.
func (t *txn) noteDecision(dir string, d *pep.Decision) {
	t.noteFindings(dir, d.Findings)
	t.noteScrub(d.Scrubbed)
}

func (t *txn) noteFindings(dir string, fs []classify.Finding) {
	for _, f := range fs {
		if len(t.findings) >= maxFindingCodes {
			return
		}
		path := f.Path
		if path == "" {
			path = "$text"
		}
		t.findings = append(t.findings, "finding/"+dir+"/"+f.Type+"/"+string(f.Action)+"/"+path)
	}
}

func (t *txn) noteScrub(s scrub.Summary) {
	t.masked = append(t.masked, s.Removed...)
	t.masked = append(t.masked, s.Normalised...)
	t.masked = append(t.masked, s.Pseudonymised...)
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
