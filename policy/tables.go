package policy

import "net/netip"

// Tables compiles the policy for the kernel datapath, in file order:
//   - Zones maps every zone name to its id, and WorldZone to 0;
//   - Prefixes lists every zone CIDR (IPv4 as 4-byte prefixes, IPv6 as 16-byte);
//   - Rules holds one entry per segmentation rule and port (port 0 when the rule lists none);
//   - Default is DefaultAction.
//
// A key the kernel map would hold twice (the same prefix, or the same source zone,
// destination zone and port) is listed once, where it first appears; validation guarantees
// repeats agree. Rules naming a zone the policy does not declare are left out, which only
// happens for a Policy built by hand.
func (p *Policy) Tables() Tables {
	t := Tables{
		Zones:   make(map[string]uint32, len(p.Zones)+1),
		Default: p.DefaultAction,
	}
	t.Zones[WorldZone] = 0
	seenPrefix := map[netip.Prefix]bool{}
	for _, z := range p.Zones {
		t.Zones[z.Name] = z.ID
		for _, c := range z.CIDRs {
			c = unmapPrefix(c.Masked())
			if seenPrefix[c] {
				continue
			}
			seenPrefix[c] = true
			t.Prefixes = append(t.Prefixes, ZonePrefix{Prefix: c, Zone: z.ID})
		}
	}
	seenRule := map[ZoneRule]bool{}
	for _, r := range p.Segmentation {
		src, srcOK := t.Zones[r.From]
		dst, dstOK := t.Zones[r.To]
		if !srcOK || !dstOK {
			continue
		}
		for _, port := range portsOrAny(r.Ports) {
			key := ZoneRule{SrcZone: src, DstZone: dst, Port: port}
			if seenRule[key] {
				continue
			}
			seenRule[key] = true
			key.Verdict = r.Action
			t.Rules = append(t.Rules, key)
		}
	}
	return t
}
