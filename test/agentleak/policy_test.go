package agentleak

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

func testTopology(t *testing.T) Topology {
	t.Helper()
	top, err := NewTopology(netip.MustParseAddr("127.91.0.0"), 18080)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestEveryScenarioPolicyIsValidAndMapsRolesToolsFieldsAndCanaries(t *testing.T) {
	top := testTopology(t)
	for _, s := range loadAll(t) {
		data, err := Policy(&s, top, PolicyOptions{Mesh: "mwtest-x", EnforcerPort: 15999})
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		p, err := policy.Parse(s.ID+".yaml", data)
		if err != nil {
			t.Fatalf("%s: generated policy is invalid: %v\n%s", s.ID, err, data)
		}
		if len(p.Agents) != len(s.Agents) {
			t.Fatalf("%s: %d agents in the policy, %d in the scenario", s.ID, len(p.Agents), len(s.Agents))
		}
		for _, tl := range s.Tools {
			need, _ := clearanceLevel(tl.RequiresClearance)
			d, ok := p.DomainFor(policy.Request{DstAddr: netip.AddrPortFrom(top.Tools[need], top.Port), DstZone: toolZone(need)})
			if !ok {
				t.Fatalf("%s: no domain for tool %s", s.ID, tl.Name)
			}
			for _, a := range s.Agents {
				if got, want := slices.Contains(d.AllowedRoles, meshRole(a)), cleared(a, tl.RequiresClearance); got != want {
					t.Errorf("%s: tool %s (requires %q), agent %s (%s): allowed %v, cleared %v", s.ID, tl.Name, tl.RequiresClearance, a.ID, a.Clearance, got, want)
				}
			}
		}
		for _, d := range p.Domains {
			if len(d.SensitiveFields) != len(s.AllowedSet.Forbidden) {
				t.Errorf("%s: domain %s has %d sensitive fields, the scenario %d forbidden", s.ID, d.Name, len(d.SensitiveFields), len(s.AllowedSet.Forbidden))
			}
			for _, f := range d.SensitiveFields {
				_, weighted := s.Evaluation.FieldWeights[f.Key]
				if (f.Action == policy.ActionBlock) != weighted {
					t.Errorf("%s: field %s action %s, weighted %v", s.ID, f.Key, f.Action, weighted)
				}
			}
			if len(d.Detectors) != 1 || len(d.Detectors[0].Literals) != len(s.Evaluation.Canaries) {
				t.Errorf("%s: domain %s detectors %+v, canaries %v", s.ID, d.Name, d.Detectors, s.Evaluation.Canaries)
			}
		}
	}
}
