package policy

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a non-empty Errors naming
// the file, and that every policy it accepts keeps the invariants the kernel tables rely on.
func FuzzParse(f *testing.F) {
	for _, path := range []string{templateCopy, "testdata/full.yaml", "testdata/domains.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"security_mesh: {}\n",
		mesh(zoneA + "  agents:\n    - {id: bob, role: EXECUTOR, zone: a, cgroup: x/bob}\n"),
		mesh("  zones:\n    - {name: a, cidrs: ['::ffff:10.0.0.0/104']}\n    - {name: b, cidrs: [10.1.0.0/16]}\n"),
		mesh(zoneA + "  segmentation:\n    - {from: a, to: world, ports: [80], action: ALLOW}\n    - {from: a, to: world, ports: [80], action: DENY}\n"),
		"security_mesh: &a {roles: *a}\n",
		"security_mesh:\n  global: {tls_min_version: 1.3}\n---\nx: 1\n",
		mesh("  domains:\n    - {name: a, tier: FHE, match: any}\n    - {name: b, tier: FHE, match: {mcp_tools: ['x*'], http_paths: [/v1]}}\n  default_domain: b\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a policy with an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			for i, e := range es {
				if e.File != "fuzz.yaml" || e.Line < 0 || e.Msg == "" {
					t.Fatalf("bad FieldError %+v", e)
				}
				if i > 0 && e.Line < es[i-1].Line {
					t.Fatalf("errors out of file order:\n%v", es)
				}
			}
			return
		}
		checkInvariants(t, p)
	})
}

// checkInvariants asserts what every accepted policy guarantees.
func checkInvariants(t *testing.T, p *Policy) {
	t.Helper()
	tables := p.Tables()
	if id, ok := tables.Zones[WorldZone]; !ok || id != 0 || p.ZoneName(0) != WorldZone {
		t.Fatalf("world is not zone 0: %v", tables.Zones)
	}
	if len(tables.Zones) != len(p.Zones)+1 {
		t.Fatalf("%d zone names for %d zones", len(tables.Zones), len(p.Zones))
	}
	for i, z := range p.Zones {
		if z.ID != uint32(i+1) || tables.Zones[z.Name] != z.ID || p.ZoneName(z.ID) != z.Name {
			t.Fatalf("zone %d %+v has inconsistent id", i, z)
		}
		if len(z.CIDRs) == 0 {
			t.Fatalf("zone %q has no cidrs", z.Name)
		}
	}
	zoneOf := map[uint32]bool{0: true}
	for _, z := range p.Zones {
		zoneOf[z.ID] = true
	}
	for _, zp := range tables.Prefixes {
		a := zp.Prefix.Addr()
		if !zp.Prefix.IsValid() || zp.Prefix.Masked() != zp.Prefix || a.Is4In6() || a.Zone() != "" || zp.Zone == 0 || !zoneOf[zp.Zone] {
			t.Fatalf("bad prefix entry %+v", zp)
		}
	}
	for i, a := range tables.Prefixes {
		for _, b := range tables.Prefixes[i+1:] {
			if a.Zone != b.Zone && a.Prefix.Overlaps(b.Prefix) {
				t.Fatalf("%v and %v overlap across zones", a, b)
			}
		}
	}
	verdicts := map[ZoneRule]Verdict{}
	for _, r := range tables.Rules {
		if r.SrcZone == 0 || !zoneOf[r.SrcZone] || !zoneOf[r.DstZone] || r.Verdict == VerdictNone {
			t.Fatalf("bad rule %+v", r)
		}
		key := r
		key.Verdict = VerdictNone
		if _, dup := verdicts[key]; dup {
			t.Fatalf("rule key listed twice: %+v", r)
		}
		verdicts[key] = r.Verdict
	}
	if tables.Default == VerdictNone {
		t.Fatal("no default verdict")
	}
	cgroups := map[string]bool{p.Enforcer.Cgroup: true}
	for _, a := range p.Agents {
		if got, ok := p.Agent(a.ID); !ok || got.ID != a.ID {
			t.Fatalf("Agent(%q) = %+v, %v", a.ID, got, ok)
		}
		if _, ok := tables.Zones[a.Zone]; !ok || a.Zone == WorldZone {
			t.Fatalf("agent %q in zone %q", a.ID, a.Zone)
		}
		if a.Cgroup == "" || a.Cgroup[0] == '/' || cgroups[a.Cgroup] {
			t.Fatalf("agent %q has bad or shared cgroup %q", a.ID, a.Cgroup)
		}
		cgroups[a.Cgroup] = true
	}
	if !p.Enforcer.Address4.Is4() || !p.Enforcer.Address6.Is6() || p.Enforcer.Address6.Is4In6() || p.Enforcer.Port == 0 {
		t.Fatalf("bad enforcer %+v", p.Enforcer)
	}
	checkDomainInvariants(t, p)
}
