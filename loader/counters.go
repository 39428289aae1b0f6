package loader

import "fmt"

// Counters are the datapath's per-CPU counters, summed over CPUs.
type Counters struct {
	Allow, Deny, Redirect uint64
	RingbufDrops          uint64 // flow events lost because the ring buffer was full
	OrigStoreFailures     uint64 // REDIRECTs refused because the original destination could not be stored
	TupleStoreFailures    uint64 // established redirected connections whose tuple record could not be stored
	OrigDstAnswered       uint64 // SO_ORIGINAL_DST answers given to the enforcer's sockets
	PeersRestored         uint64 // getpeername() answers rewritten to the original peer
}

// Counters reads and sums the per-CPU counters.
func (d *Datapath) Counters() (Counters, error) {
	var c Counters
	slots := []*uint64{&c.Allow, &c.Deny, &c.Redirect, &c.RingbufDrops, &c.OrigStoreFailures,
		&c.TupleStoreFailures, &c.OrigDstAnswered, &c.PeersRestored}
	for i, dst := range slots {
		var perCPU []uint64
		key := uint32(i)
		if err := d.objs.MwCounters.Lookup(&key, &perCPU); err != nil {
			return c, fmt.Errorf("read counter %d: %w", i, err)
		}
		for _, v := range perCPU {
			*dst += v
		}
	}
	return c, nil
}
