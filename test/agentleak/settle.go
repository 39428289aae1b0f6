package agentleak

import (
	"context"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// settle waits until the audit log holds a record of every message of the run, or no record
// came for Quiet, or SettleTimeout passed; then it takes the records read. Records may come
// after the agents ended: the enforcer writes some of them once an exchange is over.
func (h *Harness) settle(ctx context.Context, run string, msgs []message) []audit.Record {
	deadline := time.NewTimer(h.cfg.SettleTimeout)
	defer deadline.Stop()
	for {
		changed := h.feed.Changed()
		complete := false
		h.feed.Peek(func(recs []audit.Record) { complete = allRecorded(run, recs, msgs) })
		if complete {
			return h.feed.Take()
		}
		select {
		case <-changed:
			continue
		case <-time.After(h.cfg.Quiet):
		case <-deadline.C:
		case <-ctx.Done():
		}
		return h.feed.Take()
	}
}

// allRecorded reports whether recs hold a record of every message of the run.
func allRecorded(run string, recs []audit.Record, msgs []message) bool {
	ix := indexRecords(run, recs)
	exchanges := ix.pair(msgs)
	for k, m := range msgs {
		if ix.match(m, exchanges[k]).outcome != recorded {
			return false
		}
	}
	return true
}
