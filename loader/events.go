package loader

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/meshwarden/meshwarden/policy"
)

// Reasons a flow event carries (mw_flow_event.reason).
const (
	ReasonRulePort  = 1
	ReasonRuleAny   = 2
	ReasonDefault   = 3
	ReasonNotStream = 4
	ReasonNoRecord  = 5
)

// ReasonString names a flow event reason for the audit log.
func ReasonString(r uint8) string {
	switch r {
	case ReasonRulePort:
		return "zone_rule_port"
	case ReasonRuleAny:
		return "zone_rule_any_port"
	case ReasonDefault:
		return "default_action"
	case ReasonNotStream:
		return "redirect_needs_tcp"
	case ReasonNoRecord:
		return "original_destination_not_stored"
	}
	return fmt.Sprintf("reason_%d", r)
}

// FlowEvent is one connect() decision taken by the kernel.
type FlowEvent struct {
	BootNS   uint64 // CLOCK_BOOTTIME of the decision
	Cookie   uint64
	CgroupID uint64
	PID      uint32
	Comm     string
	Agent    uint32
	SrcZone  uint32
	DstZone  uint32
	Verdict  policy.Verdict
	Reason   uint8
	Proto    uint8 // 6 TCP, 17 UDP
	Dst      netip.AddrPort
}

// pollInterval bounds how long a flow event waits in the ring buffer: programs wake the
// reader only past a fill threshold, so the reader polls on its own.
const pollInterval = 10 * time.Millisecond

// ReadEvents delivers flow events to fn until ctx ends.
func (d *Datapath) ReadEvents(ctx context.Context, fn func(FlowEvent)) error {
	rd, err := ringbuf.NewReader(d.objs.MwEvents)
	if err != nil {
		return fmt.Errorf("open flow-event ring buffer: %w", err)
	}
	defer rd.Close()
	var (
		rec ringbuf.Record
		raw mwMwFlowEvent
	)
	for ctx.Err() == nil {
		rd.SetDeadline(time.Now().Add(pollInterval))
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("read flow event: %w", err)
		}
		if err := binary.Read(bytes.NewReader(rec.RawSample), binary.LittleEndian, &raw); err != nil {
			return fmt.Errorf("decode flow event of %d bytes: %w", len(rec.RawSample), err)
		}
		fn(FlowEvent{
			BootNS:   raw.TsNs,
			Cookie:   raw.Cookie,
			CgroupID: raw.CgroupId,
			PID:      raw.Pid,
			Comm:     commString(raw.Comm),
			Agent:    raw.Agent,
			SrcZone:  raw.SrcZone,
			DstZone:  raw.DstZone,
			Verdict:  policy.Verdict(raw.Verdict),
			Reason:   raw.Reason,
			Proto:    raw.Proto,
			Dst:      netip.AddrPortFrom(addrOf(raw.Family, raw.Daddr), raw.Dport),
		})
	}
	return nil
}
