package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
)

// Origin is what the kernel recorded when it redirected an agent's connect().
type Origin struct {
	Dst      netip.AddrPort // original destination
	Agent    uint32         // agent index in the policy of that moment
	CgroupID uint64
	Cookie   uint64 // the agent socket's cookie
	PID      uint32
	Comm     string
	SrcZone  uint32
	DstZone  uint32
}

// ErrNoOrigin means the kernel holds no original destination for a peer.
var ErrNoOrigin = errors.New("no original destination recorded for this peer")

// TakeOrigin finds and removes the original destination recorded for an accepted connection
// whose peer (the agent's local address) is peer: one lookup-and-delete on the tuple map.
func (d *Datapath) TakeOrigin(peer netip.AddrPort) (Origin, error) {
	k := tupleKey(peer)
	var o mwMwOrig
	if err := d.objs.MwOrigByTuple.LookupAndDelete(&k, &o); err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return Origin{}, fmt.Errorf("peer %s: %w", peer, ErrNoOrigin)
		}
		return Origin{}, fmt.Errorf("look up original destination of %s: %w", peer, err)
	}
	return originOf(&o), nil
}

func tupleKey(peer netip.AddrPort) mwMwTuple {
	a := peer.Addr().Unmap()
	k := mwMwTuple{Port: peer.Port()}
	if a.Is4() {
		b := a.As4()
		copy(k.Addr[:], b[:])
		k.Family = 4
	} else {
		k.Addr = a.As16()
		k.Family = 6
	}
	return k
}

func originOf(o *mwMwOrig) Origin {
	return Origin{
		Dst:      netip.AddrPortFrom(addrOf(o.Family, o.Daddr), o.Dport),
		Agent:    o.Agent,
		CgroupID: o.CgroupId,
		Cookie:   o.Cookie,
		PID:      o.Pid,
		Comm:     commString(o.Comm),
		SrcZone:  o.SrcZone,
		DstZone:  o.DstZone,
	}
}

func addrOf(family uint8, b [16]uint8) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

func commString(c [16]int8) string {
	b := make([]byte, 0, len(c))
	for _, x := range c {
		if x == 0 {
			break
		}
		b = append(b, byte(x))
	}
	return string(b)
}

// nativeU32 returns the 4 bytes of a as the uint32 whose in-memory (little-endian) layout
// is those bytes: an address in network byte order, as the kernel keeps it.
func nativeU32(a [4]byte) uint32 { return binary.LittleEndian.Uint32(a[:]) }
