package agent

import (
	"context"
	"slices"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/identity/credential"
	"github.com/meshwarden/meshwarden/userspace/identity/spiffeid"
)

type fakeIssuer struct{}

func (fakeIssuer) Issue(context.Context, credential.Spec) (*credential.Credential, error) {
	return &credential.Credential{}, nil
}

func TestIssueCounterTellsFirstIssuesFromRotations(t *testing.T) {
	td, err := spiffeid.TrustDomainFromString("mesh.test")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := spiffeid.NodeID(td, "a")
	b, _ := spiffeid.NodeID(td, "b")
	c := &issueCounter{next: fakeIssuer{}}
	var issued, rotated int
	f := func(r bool) {
		issued++
		if r {
			rotated++
		}
	}
	c.report.Store(&f)
	for _, id := range []spiffeid.ID{a, b, a, a} {
		if _, err := c.Issue(context.Background(), credential.Spec{Agent: id}); err != nil {
			t.Fatal(err)
		}
	}
	if issued != 4 || rotated != 2 {
		t.Errorf("issued %d, rotated %d; want 4, 2", issued, rotated)
	}
}

func TestScopeOfBoundsLabelsToThePolicysDomainsAndNodes(t *testing.T) {
	sc := scopeOf(meshPolicy(t, "a"))
	if !slices.Equal(sc.Domains, []string{"short"}) || sc.Tiers["short"] != "PLAINTEXT" || !slices.Equal(sc.Nodes, []string{"here", "there"}) {
		t.Errorf("scope %+v", sc)
	}
}
