package policy

import (
	"slices"
	"testing"
)

// checkDomainInvariants asserts what every accepted policy guarantees about the domain keys
// added for the enforcer, and that matching and the unreachable report work on it.
func checkDomainInvariants(t *testing.T, p *Policy) {
	t.Helper()
	if p.DefaultDomain != "" {
		if d, ok := p.Domain(p.DefaultDomain); !ok || d.Name != p.DefaultDomain {
			t.Fatalf("default_domain %q names no domain", p.DefaultDomain)
		}
	}
	for _, d := range p.Domains {
		if d.BodyLimit() <= 0 || d.BodyLimit() > maxMaxBodyBytes {
			t.Fatalf("domain %q body limit %d", d.Name, d.BodyLimit())
		}
		for _, f := range d.SensitiveFields {
			if f.Key == "" || !slices.Contains(actionNames(), string(f.Action)) {
				t.Fatalf("domain %q: bad sensitive field %+v", d.Name, f)
			}
		}
		for _, det := range d.Detectors {
			if !slices.Contains(DetectorTypes(), det.Type) || !slices.Contains(actionNames(), string(det.Action)) {
				t.Fatalf("domain %q: bad detector %+v", d.Name, det)
			}
			if (det.Type == DetectorCanary) != (len(det.Literals)+len(det.Prefixes) > 0) {
				t.Fatalf("domain %q: canary tokens on %+v", d.Name, det)
			}
		}
		checkMatchInvariants(t, d)
	}
	for _, u := range p.Unreachable() {
		if u.Line <= 0 || u.Msg == "" {
			t.Fatalf("bad unreachable report %+v", u)
		}
	}
}

func checkMatchInvariants(t *testing.T, d Domain) {
	t.Helper()
	m := d.Match
	if m == nil {
		return
	}
	if m.Line <= 0 || (m.Any == (len(m.Destinations)+len(m.HTTPPaths)+len(m.JSONRPCMethods)+len(m.MCPTools)+len(m.A2AMethods) > 0)) {
		t.Fatalf("domain %q: bad match %+v", d.Name, m)
	}
	if !matchCovers(m, m) {
		t.Fatalf("domain %q: match does not cover itself", d.Name)
	}
	for _, g := range m.MCPTools {
		if !MatchGlob(g, g) || checkGlob(g) != nil {
			t.Fatalf("domain %q: glob %q", d.Name, g)
		}
	}
	for _, path := range m.HTTPPaths {
		if cleanHTTPPath(path) != path || !anyPathPrefix(m.HTTPPaths, cleanHTTPPath(path)) {
			t.Fatalf("domain %q: http path %q does not match itself", d.Name, path)
		}
	}
	for _, dst := range m.Destinations {
		again, err := parseDestination(dst.String())
		if err != nil || again != dst {
			t.Fatalf("domain %q: destination %+v reads back as %+v, %v", d.Name, dst, again, err)
		}
	}
}
