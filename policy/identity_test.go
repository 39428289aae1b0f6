package policy

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const measurementA = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestIdentityKeysAreReadWithTheirDefaults(t *testing.T) {
	src := mesh(`  global: {trust_domain: example.org}
  zones:
    - {name: remote, cidrs: [10.9.0.0/24]}
    - {name: home, cidrs: [10.8.0.0/24]}
  agents:
    - {id: a, role: ANALYST, zone: home, cgroup: mw/a, attestation: ["` + measurementA + `"]}
    - {id: b, role: ANALYST, zone: home, cgroup: mw/b, namespace: team-1}
  nodes:
    - {name: node-b, address: "10.0.0.2:15008", cidrs: [10.7.0.0/24], zones: [remote]}
  tunnel: {port: 16008}
`)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Global.TrustDomain != "example.org" || p.Tunnel.Port != 16008 {
		t.Errorf("trust domain %q, tunnel port %d", p.Global.TrustDomain, p.Tunnel.Port)
	}
	if got := p.Agents[0].SpiffeID(p.Global.TrustDomain); got != "spiffe://example.org/ns/local/agent/a" {
		t.Errorf("agent a SPIFFE id %s", got)
	}
	if got := p.Agents[1].SpiffeID(p.Global.TrustDomain); got != "spiffe://example.org/ns/team-1/agent/b" {
		t.Errorf("agent b SPIFFE id %s", got)
	}
	if !reflect.DeepEqual(p.Agents[0].Attestation, []string{measurementA}) {
		t.Errorf("attestation %v", p.Agents[0].Attestation)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.7.0.0/24"), netip.MustParsePrefix("10.9.0.0/24")}
	if len(p.Nodes) != 1 || p.Nodes[0].Name != "node-b" || p.Nodes[0].Address != "10.0.0.2:15008" ||
		!reflect.DeepEqual(p.NodePrefixes(p.Nodes[0]), want) {
		t.Errorf("nodes %+v, prefixes %v", p.Nodes, p.NodePrefixes(p.Nodes[0]))
	}
}

func TestIdentityKeyProblemsAreReportedAtTheirLine(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		{"bad trust domain", "  global: {trust_domain: Example.ORG}\n", []want{{2, `trust domain "Example.ORG"`}}},
		{"bad measurement", "  zones: [{name: z, cidrs: [10.0.0.0/8]}]\n  agents:\n    - id: a\n      role: ANALYST\n      zone: z\n      cgroup: mw/a\n      attestation: [sha256:abc]\n",
			[]want{{8, "measurement \"sha256:abc\""}}},
		{"bad namespace", "  zones: [{name: z, cidrs: [10.0.0.0/8]}]\n  agents:\n    - {id: a, role: ANALYST, zone: z, cgroup: mw/a, namespace: \"A B\"}\n",
			[]want{{4, "namespace \"A B\""}}},
		{"node without address", "  nodes:\n    - {name: n1}\n", []want{{3, `missing required key "address"`}}},
		{"node bad address", "  nodes:\n    - {name: n1, address: 10.0.0.1}\n", []want{{3, "must be host:port"}}},
		{"node repeated", "  nodes:\n    - {name: n1, address: \"a:1\"}\n    - {name: n1, address: \"b:1\"}\n", []want{{4, `duplicate node "n1"`}}},
		{"node unknown zone", "  nodes:\n    - {name: n1, address: \"a:1\", zones: [nowhere]}\n", []want{{3, `unknown zone "nowhere"`}}},
		{"node bad cidr", "  nodes:\n    - {name: n1, address: \"a:1\", cidrs: [10.0.0.1/8]}\n", []want{{3, "host bits set"}}},
		{"tunnel port range", "  tunnel: {port: 70000}\n", []want{{2, "out of range"}}},
		{"tunnel unknown key", "  tunnel: {prot: 1}\n", []want{{2, `unknown key "prot"`}}},
		{"same SPIFFE id", "  zones: [{name: z, cidrs: [10.0.0.0/8]}]\n  agents:\n    - {id: a, role: ANALYST, zone: z, cgroup: mw/a}\n    - {id: a, role: ANALYST, zone: z, cgroup: mw/b}\n",
			[]want{{5, `duplicate agent id "a"`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkProblems(t, parseProblems(t, mesh(c.src)), c.wants...)
		})
	}
}

func TestMeasurementSpelling(t *testing.T) {
	for s, ok := range map[string]bool{
		measurementA:                        true,
		strings.ToUpper(measurementA):       false,
		"sha256:" + strings.Repeat("a", 63): false,
		"md5:" + strings.Repeat("a", 64):    false,
	} {
		if isMeasurement(s) != ok {
			t.Errorf("isMeasurement(%q) = %v", s, !ok)
		}
	}
}
