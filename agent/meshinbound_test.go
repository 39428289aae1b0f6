package agent

import (
	"net/netip"
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
		if got := inboundAllowed(pol, netip.MustParseAddrPort(c.dst), c.role); got != c.want {
			t.Errorf("inboundAllowed(%s, %s) = %v, want %v", c.dst, c.role, got, c.want)
		}
	}
}
