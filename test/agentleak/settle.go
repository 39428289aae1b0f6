package agentleak

import (
	"context"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// settle waits until the audit log holds a record of every message of the run, or the
// record that ends its exchange, or no record came for Quiet, or SettleTimeout passed; then it
// takes the records read. Records may come after the agents ended: the enforcer writes some of
// them once an exchange is over.
func (h *Harness) settle(ctx context.Context, run string, msgs []message) []audit.Record {
	deadline := time.NewTimer(h.cfg.SettleTimeout)
	defer deadline.Stop()
	for {
		changed := h.feed.Changed()
		complete := false
		h.feed.Peek(func(recs []audit.Record) { complete = settled(run, recs, msgs) })
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

// settled reports whether recs hold, for every message of the run, its own record or the
// `request` record of its exchange, which the enforcer writes last, once the exchange is over:
// at OUTPUT_ONLY most messages get no record of their own, and nothing more comes for them.
func settled(run string, recs []audit.Record, msgs []message) bool {
	ix := indexRecords(run, recs)
	exchanges := ix.pair(msgs)
	for k, m := range msgs {
		if ix.match(m, exchanges[k]).outcome != recorded && !ix.ended(exchanges[k]) {
			return false
		}
	}
	return true
}

// ended reports whether ex holds its request record.
func (ix *records) ended(ex *exchange) bool {
	if ex == nil {
		return false
	}
	for _, i := range ex.recs {
		if ix.recs[i].Kind == audit.KindRequest {
			return true
		}
	}
	return false
}
