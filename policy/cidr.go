package policy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"go.yaml.in/yaml/v3"
)

// parsePrefix reads one zone CIDR. The prefix must be masked (no host bits set); a v4-mapped
// IPv6 prefix (::ffff:a.b.c.d/N, N >= 96) becomes the IPv4 prefix it covers.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil && a.Zone() == "" {
			return netip.Prefix{}, fmt.Errorf("invalid cidr %q: no prefix length; did you mean %s/%d?", s, s, a.BitLen())
		}
		return netip.Prefix{}, fmt.Errorf("invalid cidr %q: %w", s, err)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("cidr %q has host bits set; did you mean %s?", s, m)
	}
	return unmapPrefix(p), nil
}

// unmapPrefix turns a v4-mapped IPv6 prefix of at least 96 bits into its IPv4 prefix.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// zonePrefix is one parsed zone CIDR and where it was written.
type zonePrefix struct {
	prefix netip.Prefix
	zone   string
	node   *yaml.Node
}

// checkOverlaps reports every pair of prefixes of different zones where one contains the
// other (equal prefixes included): such a destination would belong to two zones. Each pair is
// reported once, at the prefix that comes later in the file, naming the earlier one.
//
// Every prefix looks up each of its ancestors (at most 129) in an index, so the work grows
// with the number of prefixes and conflicts, not with its square.
func checkOverlaps(p *problems, prefixes []zonePrefix) {
	byPrefix := make(map[netip.Prefix][]int, len(prefixes))
	for i, zp := range prefixes {
		byPrefix[zp.prefix] = append(byPrefix[zp.prefix], i)
	}
	type pair struct{ later, earlier int } // indexes into prefixes, which are in file order
	var pairs []pair
	for i, zp := range prefixes {
		for bits := 0; bits <= zp.prefix.Bits(); bits++ {
			ancestor, err := zp.prefix.Addr().Prefix(bits)
			if err != nil {
				continue
			}
			for _, j := range byPrefix[ancestor] {
				switch {
				case prefixes[j].zone == zp.zone:
					// a zone may overlap itself
				case j < i:
					pairs = append(pairs, pair{later: i, earlier: j})
				case bits < zp.prefix.Bits():
					pairs = append(pairs, pair{later: j, earlier: i}) // equal prefixes are met from both sides; count them once
				}
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.later, b.later), cmp.Compare(a.earlier, b.earlier))
	})
	for _, pr := range pairs {
		later, earlier := prefixes[pr.later], prefixes[pr.earlier]
		p.node(later.node, "cidr %s of zone %q overlaps cidr %s of zone %q (line %d); a destination belongs to one zone",
			later.prefix, later.zone, earlier.prefix, earlier.zone, earlier.node.Line)
	}
}
