package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/pep"
)

func meshPolicy(t *testing.T, agents ...string) *policy.Policy {
	t.Helper()
	src := `security_mesh:
  global: {credential_rotation_interval_ms: 60000}
  domains:
    - {name: short, tier: PLAINTEXT, allowed_roles: [EXECUTOR], max_token_age_ms: 30000}
  zones:
    - {name: z, cidrs: [10.1.0.0/16]}
    - {name: far, cidrs: [10.2.0.0/16]}
  nodes:
    - {name: here, address: "10.0.0.1:15008"}
    - {name: there, address: "10.0.0.2:15008", zones: [far]}
  agents:
`
	for _, a := range agents {
		src += "    - {id: " + a + ", role: EXECUTOR, zone: z, cgroup: mw/agents/" + a + "}\n"
	}
	p, err := policy.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMeshIssuesCredentialsAndRevokesAgentsRemovedFromThePolicyOrByTheOperator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pol := meshPolicy(t, "a", "b")
	m, err := openMesh(ctx, Options{StateDir: t.TempDir(), Node: "here"}, pol, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if err := m.syncAgents(ctx, pol); err != nil {
		t.Fatal(err)
	}
	if rt, ok := m.router.Lookup(pol.Zones[1].CIDRs[0].Addr()); !ok || rt.Node.String() != "spiffe://meshwarden.local/node/there" {
		t.Errorf("route to the far zone: %+v %v", rt, ok)
	}
	if _, ok := m.router.Lookup(pol.Zones[0].CIDRs[0].Addr()); ok {
		t.Errorf("a destination no other node hosts is routed through the tunnel")
	}
	a, b := pol.Agents[0], pol.Agents[1]
	pepIdentity := func(ag policy.Agent, measurement string) pep.Identity {
		sid, err := m.agentID(ag)
		return m.pepIdentity(ag, sid, err, measurement)
	}
	id := pepIdentity(a, "sha256:x")
	if id.CredentialRefused != "" || id.CredentialExpiry.IsZero() {
		t.Fatalf("agent a has no credential: %+v", id)
	}
	if life := id.CredentialExpiry.Sub(id.CredentialIssued); life != 30*time.Second {
		t.Errorf("credential lifetime %v, want the domain's max_token_age 30s", life)
	}
	if id.Measurement != "sha256:x" {
		t.Errorf("measurement %q", id.Measurement)
	}

	// b leaves the policy: its credential stops and it is revoked here.
	if err := m.reload(meshPolicy(t, "a"), "here"); err != nil {
		t.Fatal(err)
	}
	if got := pepIdentity(b, ""); got.CredentialRefused != "credential_revoked" {
		t.Errorf("agent removed from the policy: %+v", got)
	}
	// The operator revokes a; a reload does not bring it back.
	sid, err := m.revoke(pol, "a")
	if err != nil || !strings.HasSuffix(sid.String(), "/ns/local/agent/a") {
		t.Fatalf("revoke a: %v %v", sid, err)
	}
	if err := m.reload(meshPolicy(t, "a", "b"), "here"); err != nil {
		t.Fatal(err)
	}
	if got := pepIdentity(a, ""); got.CredentialRefused != "credential_revoked" {
		t.Errorf("operator-revoked agent after a reload: %+v", got)
	}
	// b, put back into the policy, is trusted again.
	if got := pepIdentity(b, ""); got.CredentialRefused != "" || got.CredentialExpiry.IsZero() {
		t.Errorf("agent put back into the policy: %+v", got)
	}
	if _, err := m.revoke(pol, "nobody"); err == nil {
		t.Errorf("revoking an unknown agent succeeded")
	}
}
