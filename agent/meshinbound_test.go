package agent

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
)

func TestInboundRefusesARoleNoDomainOfTheDestinationAllows(t *testing.T) {
	pol, err := policy.Parse("p.yaml", []byte(`security_mesh:
  domains:
    - {name: db, tier: PLAINTEXT, allowed_roles: [RETRIEVER], match: {destinations: [data]}}
    - {name: tools, tier: PLAINTEXT, allowed_roles: [EXECUTOR], match: {destinations: [10.9.1.0/24]}}
  zones:
    - {name: data, cidrs: [10.9.0.0/16]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dst, role string
		want      bool
	}{
		{"10.9.2.1:80", "RETRIEVER", true},
		{"10.9.2.1:80", "EXECUTOR", false},
		{"10.9.1.1:80", "EXECUTOR", true}, // a CIDR of the zone named by another domain
		{"10.8.0.1:80", "EXECUTOR", true}, // no domain names it: the sender decided
	} {
		if got := inboundRefusal(pol, netip.MustParseAddrPort(c.dst), "a", c.role, "") == ""; got != c.want {
			t.Errorf("inboundRefusal(%s, %s) admits: %v, want %v", c.dst, c.role, got, c.want)
		}
	}
}

// A domain of the destination that requires attestation admits a source only with a measurement
// in its credential, and only one this node's policy accepts for the agent when it lists any; an
// agent this node does not know is admitted on the issuing node's measurement.
func TestInboundChecksTheMeasurementOfAttestationRequiredDomains(t *testing.T) {
	good, other := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	pol, err := policy.Parse("p.yaml", []byte(`security_mesh:
  domains:
    - {name: db, tier: PLAINTEXT, allowed_roles: [RETRIEVER], attestation_required: true, match: {destinations: [data]}}
  zones:
    - {name: data, cidrs: [10.9.0.0/16]}
    - {name: pods, cidrs: [10.1.0.0/16]}
  agents:
    - {id: pinned, role: RETRIEVER, zone: pods, cgroup: a/pinned, attestation: ["`+good+`"]}
    - {id: unpinned, role: RETRIEVER, zone: pods, cgroup: a/unpinned}
`))
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort("10.9.0.1:80")
	for _, c := range []struct {
		agent, role, measurement, want string
	}{
		{"pinned", "RETRIEVER", good, ""},
		{"pinned", "RETRIEVER", other, reasonInboundMeasurement},
		{"pinned", "RETRIEVER", "", reasonInboundNoMeasure},
		{"unpinned", "RETRIEVER", other, ""},
		{"stranger", "RETRIEVER", other, ""},
		{"stranger", "RETRIEVER", "", reasonInboundNoMeasure},
		{"pinned", "EXECUTOR", good, reasonInboundRole},
	} {
		if got := inboundRefusal(pol, dst, c.agent, c.role, c.measurement); got != c.want {
			t.Errorf("inboundRefusal(%s, %s, %q) = %q, want %q", c.agent, c.role, c.measurement, got, c.want)
		}
	}
}
