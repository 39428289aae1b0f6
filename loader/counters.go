package loader

import "fmt"

// Counters are the datapath's per-CPU counters, summed over CPUs.
type Counters struct {
	Allow, Deny, Redirect uint64
	RingbufDrops          uint64 // flow and close events lost because the ring buffer was full
	OrigStoreFailures     uint64 // REDIRECTs refused because the original destination could not be stored
	TupleStoreFailures    uint64 // established redirected connections whose tuple record could not be stored
	OrigDstAnswered       uint64 // SO_ORIGINAL_DST answers given to the enforcer's sockets
	PeersRestored         uint64 // getpeername() answers rewritten to the original peer
}

// ringbufDropSlot is MW_CNT_RINGBUF_DROP.
const ringbufDropSlot = 3

// Counters reads and sums the per-CPU counters.
func (d *Datapath) Counters() (Counters, error) {
	var c Counters
	slots := []*uint64{&c.Allow, &c.Deny, &c.Redirect, &c.RingbufDrops, &c.OrigStoreFailures,
		&c.TupleStoreFailures, &c.OrigDstAnswered, &c.PeersRestored}
	for i, dst := range slots {
		perCPU, err := d.perCPU(uint32(i))
		if err != nil {
			return c, err
		}
		for _, v := range perCPU {
			*dst += v
		}
	}
	return c, nil
}

// RingbufDropsPerCPU reads the ring-buffer drop counter of every possible CPU, indexed by CPU.
func (d *Datapath) RingbufDropsPerCPU() ([]uint64, error) {
	return d.perCPU(ringbufDropSlot)
}

func (d *Datapath) perCPU(slot uint32) ([]uint64, error) {
	var perCPU []uint64
	if err := d.objs.MwCounters.Lookup(&slot, &perCPU); err != nil {
		return nil, fmt.Errorf("read counter %d: %w", slot, err)
	}
	return perCPU, nil
}
