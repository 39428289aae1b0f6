package loader

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"

	"github.com/meshwarden/meshwarden/policy"
)

// Endpoint binds one agent cgroup to its agent index and source zone.
type Endpoint struct {
	CgroupID uint64
	Agent    uint32 // index of the agent in the policy
	Zone     uint32 // source zone id (never 0)
}

// Config is the datapath's view of the enforcer.
type Config struct {
	Enforcer4      netip.Addr
	Enforcer6      netip.Addr
	Port           uint16
	EnforcerCgroup uint64
}

// Apply installs a compiled policy and the endpoint set as one atomic switch. Every table
// exists in two generations; the new one is written beside the live one, then mw_state flips
// with a single 4-byte write, so no connect() ever sees half a policy. It returns the new
// live generation.
func (d *Datapath) Apply(t policy.Tables, eps []Endpoint, cfg Config) (uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	live, err := d.LiveGeneration()
	if err != nil {
		return 0, err
	}
	next := 1 - live
	if err := d.clearGeneration(next); err != nil {
		return 0, err
	}
	if err := d.writePrefixes(next, t.Prefixes); err != nil {
		return 0, err
	}
	if err := d.writeRules(next, t.Rules); err != nil {
		return 0, err
	}
	if err := d.writeEndpoints(live, next, eps); err != nil {
		return 0, err
	}
	if err := d.writeConfig(next, t.Default, cfg); err != nil {
		return 0, err
	}
	zero := uint32(0)
	if err := d.objs.MwState.Update(&zero, &mwMwGen{Gen: next}, ebpf.UpdateAny); err != nil {
		return 0, fmt.Errorf("switch datapath to generation %d: %w", next, err)
	}
	return next, nil
}

// LiveGeneration is the generation the datapath reads now (0 or 1).
func (d *Datapath) LiveGeneration() (uint32, error) {
	var st mwMwGen
	zero := uint32(0)
	if err := d.objs.MwState.Lookup(&zero, &st); err != nil {
		return 0, fmt.Errorf("read live generation: %w", err)
	}
	return st.Gen & 1, nil
}

// clearGeneration deletes the stale zone prefixes and rules of generation gen.
func (d *Datapath) clearGeneration(gen uint32) error {
	var k4 mwMwLpm4Key
	if err := deleteWhere(d.objs.MwZones4, &k4, func() bool { return uint32(k4.Gen) == gen }); err != nil {
		return fmt.Errorf("clear IPv4 zones of generation %d: %w", gen, err)
	}
	var k6 mwMwLpm6Key
	if err := deleteWhere(d.objs.MwZones6, &k6, func() bool { return uint32(k6.Gen) == gen }); err != nil {
		return fmt.Errorf("clear IPv6 zones of generation %d: %w", gen, err)
	}
	var kp mwMwPolicyKey
	if err := deleteWhere(d.objs.MwPolicy, &kp, func() bool { return uint32(kp.Gen) == gen }); err != nil {
		return fmt.Errorf("clear rules of generation %d: %w", gen, err)
	}
	return nil
}

// deleteWhere deletes every key of m for which match() is true once the key is read into key.
func deleteWhere[K any](m *ebpf.Map, key *K, match func() bool) error {
	var doomed []K
	it := m.Iterate()
	var discard []byte
	for it.Next(key, &discard) {
		if match() {
			doomed = append(doomed, *key)
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	for i := range doomed {
		if err := m.Delete(&doomed[i]); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	return nil
}

func (d *Datapath) writePrefixes(gen uint32, prefixes []policy.ZonePrefix) error {
	for _, p := range prefixes {
		addr := p.Prefix.Addr()
		var err error
		if addr.Is4() {
			k := mwMwLpm4Key{Prefixlen: 32 + uint32(p.Prefix.Bits()), Gen: uint8(gen), Addr: addr.As4()}
			err = d.objs.MwZones4.Update(&k, &p.Zone, ebpf.UpdateAny)
		} else {
			k := mwMwLpm6Key{Prefixlen: 32 + uint32(p.Prefix.Bits()), Gen: uint8(gen), Addr: addr.As16()}
			err = d.objs.MwZones6.Update(&k, &p.Zone, ebpf.UpdateAny)
		}
		if err != nil {
			return fmt.Errorf("write zone prefix %s: %w", p.Prefix, err)
		}
	}
	return nil
}

func (d *Datapath) writeRules(gen uint32, rules []policy.ZoneRule) error {
	for _, r := range rules {
		k := mwMwPolicyKey{Gen: uint8(gen), Port: r.Port, SrcZone: r.SrcZone, DstZone: r.DstZone}
		v := uint32(r.Verdict)
		if err := d.objs.MwPolicy.Update(&k, &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("write rule %d->%d port %d: %w", r.SrcZone, r.DstZone, r.Port, err)
		}
	}
	return nil
}

// writeEndpoints sets slot next of every endpoint: the new binding, or "no agent" for cgroups
// that left the policy. Entries empty in both generations are deleted.
func (d *Datapath) writeEndpoints(live, next uint32, eps []Endpoint) error {
	want := make(map[uint64]Endpoint, len(eps))
	for _, e := range eps {
		want[e.CgroupID] = e
	}
	var (
		cg  uint64
		cur mwMwEndpoint
	)
	existing := map[uint64]mwMwEndpoint{}
	it := d.objs.MwEndpoints.Iterate()
	for it.Next(&cg, &cur) {
		existing[cg] = cur
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	for id, v := range existing {
		if _, ok := want[id]; ok {
			continue
		}
		if v.Slot[live].Zone == 0 {
			if err := d.objs.MwEndpoints.Delete(&id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return fmt.Errorf("delete endpoint %d: %w", id, err)
			}
			continue
		}
		v.Slot[next] = mwMwEndpointSlot{}
		if err := d.objs.MwEndpoints.Update(&id, &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("retire endpoint %d: %w", id, err)
		}
	}
	for id, e := range want {
		v := existing[id] // zero value for a new endpoint: slot live empty, so it is no agent until the switch
		v.Slot[next] = mwMwEndpointSlot{Agent: e.Agent, Zone: e.Zone}
		if err := d.objs.MwEndpoints.Update(&id, &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("write endpoint %d: %w", id, err)
		}
	}
	return nil
}

func (d *Datapath) writeConfig(gen uint32, def policy.Verdict, cfg Config) error {
	if !cfg.Enforcer4.Is4() || !cfg.Enforcer6.Is6() || cfg.Port == 0 {
		return fmt.Errorf("datapath config: enforcer needs an IPv4 and an IPv6 address and a port, got %s %s %d",
			cfg.Enforcer4, cfg.Enforcer6, cfg.Port)
	}
	a4 := cfg.Enforcer4.As4()
	v := mwMwCfg{
		EnforcerIp4:    nativeU32(a4),
		EnforcerIp6:    cfg.Enforcer6.As16(),
		EnforcerPort:   cfg.Port,
		DefaultVerdict: uint8(def),
		EnforcerCgroup: cfg.EnforcerCgroup,
	}
	if err := d.objs.MwConfig.Update(&gen, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("write datapath config for generation %d: %w", gen, err)
	}
	return nil
}
