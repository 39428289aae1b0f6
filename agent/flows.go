package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// reasonClosed is the reason of the flow record written when an agent TCP connection closes.
const reasonClosed = "closed"

// flowEvent turns one kernel connect() decision into a flow audit record.
func (d *Daemon) flowEvent(ev loader.FlowEvent) {
	r := d.flowRecord(ev.Flow)
	r.Transport = transport(ev.Proto)
	r.Reason = loader.ReasonString(ev.Reason)
	d.observeFlow(r)
	d.queueFlow(r)
}

// flowClosed turns the close of an agent TCP connection into a flow audit record with the data
// bytes each way and how long it lived. Its cookie is its connect record's, and for a REDIRECT
// the enforcer's records', so the three join.
func (d *Daemon) flowClosed(ev loader.CloseEvent) {
	r := d.flowRecord(ev.Flow)
	r.Transport = "tcp"
	r.Reason = reasonClosed
	r.BytesIn = int64(ev.BytesSent)      // from the agent towards the destination
	r.BytesOut = int64(ev.BytesReceived) // back to the agent
	r.DurationNS = int64(ev.Duration)
	d.obs.metrics.FlowClosed(r.Verdict, ev.BytesSent, ev.BytesReceived, ev.Duration)
	d.obs.hub.Publish(eventOf(r))
	d.queueFlow(r)
}

// flowRecord is what a connection's connect and close records share: who, where, the verdict.
func (d *Daemon) flowRecord(f loader.Flow) audit.Record {
	v := d.cur.Load()
	r := audit.Record{
		Time:        bootToWall(f.BootNS),
		Kind:        audit.KindFlow,
		PID:         f.PID,
		Comm:        f.Comm,
		CgroupID:    f.CgroupID,
		Cookie:      f.Cookie,
		Destination: f.Dst.String(),
		Zone:        v.pol.ZoneName(f.SrcZone),
		DstZone:     v.pol.ZoneName(f.DstZone),
		Verdict:     f.Verdict.String(),
	}
	if a, ok := v.agentOf(f.CgroupID); ok {
		r.AgentID, r.Role = a.ID, a.Role
	}
	return r
}

// queueFlow queues a flow record, never waiting for it: the ring buffer must keep draining. A
// full queue drops the record, which meshwarden_audit_dropped_records_total counts.
func (d *Daemon) queueFlow(r audit.Record) {
	if err := d.submitAudit(r); err != nil && !errors.Is(err, audit.ErrQueueFull) {
		d.log.Error("audit write failed", "err", err)
	}
}

func transport(proto uint8) string {
	if proto == 17 {
		return "udp"
	}
	return "tcp"
}

// bootToWall converts a CLOCK_BOOTTIME stamp from the kernel to wall-clock time.
func bootToWall(bootNS uint64) time.Time {
	now := time.Now()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return now
	}
	return now.Add(-time.Duration(uint64(ts.Nano()) - bootNS))
}

// dropReportInterval is how often the ring-buffer drop counter is read: at most one loss
// record per interval.
const dropReportInterval = time.Second

// watchRingbufDrops reads the kernel's ring-buffer drop counter once, as the baseline, and
// returns the watch whose run writes a system record whenever the counter has grown since.
func (d *Daemon) watchRingbufDrops() *dropWatch {
	w := &dropWatch{read: d.dp.RingbufDropsPerCPU, report: d.system, warn: d.log.Warn}
	w.check()
	return w
}

// dropWatch turns growth of the per-CPU ring-buffer drop counter into reports.
type dropWatch struct {
	read   func() ([]uint64, error) // the counter, one value per CPU
	report func(msg string)
	warn   func(msg string, args ...any)
	last   []uint64 // nil until the first read
}

// run checks every interval, and once more when ctx ends: at most one report per interval.
func (w *dropWatch) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.check()
			return
		case <-t.C:
			w.check()
		}
	}
}

// check reads the counter and reports what it gained since the last read. The first read
// reports what the pinned counter already holds: events lost before this daemon watched.
func (w *dropWatch) check() {
	now, err := w.read()
	if err != nil {
		w.warn("read ring-buffer drop counter", "err", err)
		return
	}
	first := w.last == nil
	lost, detail := dropsSince(w.last, now)
	w.last = slices.Clone(now)
	switch {
	case lost == 0:
	case first:
		w.report(fmt.Sprintf("kernel ring buffer: %d events (connect decisions, connection closes) were lost before this daemon started watching (%s); their verdicts were enforced, their audit records are missing", lost, detail))
	default:
		w.report(fmt.Sprintf("kernel ring buffer full: %d events (connect decisions, connection closes) lost since the last report (%s); their verdicts were enforced, their audit records are missing", lost, detail))
	}
}

// dropsSince returns how many drops the counter gained from before to now, in total and per CPU
// ("cpu0: 12, cpu1: 3"). A CPU whose count went down had its counter recreated: all of it is new.
func dropsSince(before, now []uint64) (uint64, string) {
	var (
		total uint64
		parts []string
	)
	for cpu, v := range now {
		gained := v
		if cpu < len(before) && v >= before[cpu] {
			gained = v - before[cpu]
		}
		if gained > 0 {
			total += gained
			parts = append(parts, fmt.Sprintf("cpu%d: %d", cpu, gained))
		}
	}
	return total, strings.Join(parts, ", ")
}
