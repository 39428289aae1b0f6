package loader

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// MapUsage is how full one map is.
type MapUsage struct {
	Name     string // the pinned name, e.g. mw_endpoints
	Type     string // the kernel map type, e.g. Hash, LRUHash, LPMTrie
	ID       uint32 // the kernel's map id
	Entries  uint32 // entries in use now (a snapshot: the datapath changes the map meanwhile)
	Capacity uint32 // max_entries
}

// MapUsage counts the entries of every map whose fill can run out: the hash, LRU and LPM-trie
// maps. Arrays are always full, the ring buffer and counters have no entries to run out of.
// It walks keys only (no lookups), so LRU maps keep their eviction order; it costs one
// system call per entry.
func (d *Datapath) MapUsage() ([]MapUsage, error) {
	maps := []struct {
		name string
		m    *ebpf.Map
	}{
		{"mw_endpoints", d.objs.MwEndpoints},
		{"mw_zones4", d.objs.MwZones4},
		{"mw_zones6", d.objs.MwZones6},
		{"mw_policy", d.objs.MwPolicy},
		{"mw_orig_by_cookie", d.objs.MwOrigByCookie},
		{"mw_orig_by_tuple", d.objs.MwOrigByTuple},
	}
	out := make([]MapUsage, 0, len(maps))
	for _, e := range maps {
		n, err := countKeys(e.m)
		if err != nil {
			return out, fmt.Errorf("count entries of %s: %w", e.name, err)
		}
		u := MapUsage{Name: e.name, Type: e.m.Type().String(), Entries: n, Capacity: e.m.MaxEntries()}
		if info, err := e.m.Info(); err == nil {
			if id, ok := info.ID(); ok {
				u.ID = uint32(id)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// countKeys walks m's keys. It stops at max_entries: a key deleted under the walk restarts
// the kernel's iteration, which must not make the count run on.
func countKeys(m *ebpf.Map) (uint32, error) {
	cur := make([]byte, m.KeySize())
	next := make([]byte, m.KeySize())
	var n uint32
	err := m.NextKey(nil, next)
	for err == nil && n < m.MaxEntries() {
		n++
		cur, next = next, cur
		err = m.NextKey(cur, next)
	}
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return n, err
	}
	return n, nil
}

// HookState is one attachment as the kernel reports it now.
type HookState struct {
	Hook      string
	Cgroup    string
	CgroupID  uint64
	LinkID    uint32
	ProgramID uint32 // the program the link runs now
	Reused    bool   // the link was pinned before this load and got the new program in place
	Attached  bool   // the link is still attached to its cgroup
}

// Hooks reports every hook of this load with the kernel's current view of its link.
func (d *Datapath) Hooks() []HookState {
	out := make([]HookState, 0, len(d.links))
	for _, a := range d.links {
		h := HookState{Hook: a.Hook, Cgroup: a.Cgroup, CgroupID: a.CgroupID, LinkID: a.LinkID, Reused: a.Reused}
		if info, err := a.link.Info(); err == nil {
			h.ProgramID = uint32(info.Program)
			if cg := info.Cgroup(); cg != nil {
				h.Attached = cg.CgroupId == a.CgroupID
			}
		}
		out = append(out, h)
	}
	return out
}
