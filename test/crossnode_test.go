package test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// fileMeasurement is "sha256:<hex>" of a file: what attestation measures for a process running it.
func fileMeasurement(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// activeCA returns the key and certificate files of the CA a daemon created in its state dir.
func activeCA(t *testing.T, stateDir string) (key, cert string) {
	t.Helper()
	kid, err := os.ReadFile(filepath.Join(stateDir, "ca", "active"))
	if err != nil {
		t.Fatalf("node A's CA: %v", err)
	}
	dir := filepath.Join(stateDir, "ca", strings.TrimSpace(string(kid)))
	return filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.crt")
}

const crossNodePolicy = `security_mesh:
  global: {trust_domain: meshwarden.local}
  domains:
    - {name: remote, tier: PLAINTEXT, allowed_roles: [EXECUTOR], attestation_required: true, match: {destinations: [remote]}}
  zones:
    - {name: pods, cidrs: ["{{.PodIP}}/32"]}
    - {name: remote, cidrs: ["{{.BackendIP}}/32"]}
    - {name: blocal, cidrs: ["{{.BLocal}}/32"]}
  agents:
{{.Agents}}
  segmentation:
    - {from: pods, to: remote, ports: [8080], action: REDIRECT}
  default_action: DENY
  nodes:
    - {name: node-a, address: "{{.AIP}}:{{.Tunnel}}", zones: [pods]}
    - {name: node-b, address: "{{.BIP}}:15008", zones: [remote, blocal]}
  tunnel: {port: {{.Tunnel}}}
  enforcer:
    address4: {{.EnforcerIP}}
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

func crossMesh(t *testing.T, n *lab.CrossNet, ns, node, enforcerIP string, tunnelPort int, agents string) *lab.Mesh {
	m := lab.New(t, bins)
	for k, v := range map[string]any{"PodIP": n.PodIP, "BackendIP": n.BackendIP, "BLocal": n.BLo, "AIP": n.AIP, "BIP": n.BIP,
		"EnforcerIP": enforcerIP, "Tunnel": tunnelPort} {
		m.Set(k, v)
	}
	m.Set("Agents", strings.ReplaceAll(agents, "{{.Name}}", m.Name))
	m.WritePolicy(crossNodePolicy)
	m.Launcher = n.In(ns)
	m.RunArgs = []string{"--node", node}
	return m
}

// An agent on node A calls a backend on node B: the request goes through node A's enforcer,
// the mutual-TLS tunnel to node B's enforcer, and is delivered there; both audit logs hold a
// record of it with the source agent's SPIFFE id and one exchange id. The destination domain
// requires attestation: the agent whose binary is in its accepted list passes, the agent whose
// list holds another binary is refused. A node whose certificate comes from another CA cannot
// reach node B.
func TestCrossNodeRequestThroughTheTunnelIsAttestedAndAuditedOnBothNodes(t *testing.T) {
	n := lab.NewCrossNet(t)
	good := fileMeasurement(t, bins.Client)
	other := "sha256:" + strings.Repeat("0", 64)

	a := crossMesh(t, n, n.A, "node-a", n.APodIP, 15008, fmt.Sprintf(
		"    - {id: good, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/good, attestation: [%q]}\n"+
			"    - {id: bad, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/bad, attestation: [%q]}", good, other))
	a.Start()
	key, cert := activeCA(t, a.Dir)
	b := crossMesh(t, n, n.B, "node-b", n.BLo, 15008,
		"    - {id: local-b, role: EXECUTOR, zone: blocal, cgroup: {{.Name}}/agents/local-b}")
	b.RunArgs = append(b.RunArgs, "--ca-key", key, "--ca-cert", cert)
	b.Start()

	// HTTP/1.1, so that the agent's keep-alive connection carries several requests.
	srv := exec.Command("nsenter", "--net=/run/netns/"+n.B, "--", "python3", "-c",
		"import http.server as h; h.test(HandlerClass=h.SimpleHTTPRequestHandler, protocol='HTTP/1.1', port=8080, bind='"+n.BackendIP+"')")
	srv.Dir = t.TempDir()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitInNetns(t, &netPair{node: n.B}, n.BackendIP+":8080")

	url := "http://" + n.BackendIP + ":8080/"
	argv := n.In(n.Pod, bins.Client, "http", url)
	r := a.Run(a.Cgroup("agents/good"), argv[0], argv[1:]...)
	if r.Err != nil || !strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("attested agent on node A to the backend on node B: %v %q", r.Err, r.Out)
	}
	opened := a.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Reason == "tunnel_opened" && rec.AgentID == "good"
	}, "node A's tunnel record of agent good")
	spiffe := "spiffe://meshwarden.local/ns/local/agent/good"
	if opened.SPIFFEID != spiffe || opened.ExchangeID == "" || opened.Destination != n.BackendIP+":8080" {
		t.Errorf("node A's tunnel record: %+v", opened)
	}
	delivered := b.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Reason == "tunnel_delivered" && rec.ExchangeID == opened.ExchangeID
	}, "node B's record with node A's exchange id")
	if delivered.SPIFFEID != spiffe || delivered.AgentID != "good" || delivered.Role != "EXECUTOR" ||
		delivered.Destination != n.BackendIP+":8080" || delivered.Source != "spiffe://meshwarden.local/node/node-a" {
		t.Errorf("node B's record: %+v", delivered)
	}
	req := a.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Kind == audit.KindRequest && int(rec.PID) == r.PID && rec.Status != 0
	}, "node A's request record of agent good")
	if req.Status != 200 || req.Domain != "remote" || req.SPIFFEID != spiffe || req.Measurement != good {
		t.Errorf("node A's request record (want the agent's SPIFFE id and its process's measurement): %+v", req)
	}
	if opened.Cookie == 0 || opened.Cookie != req.Cookie || int(opened.PID) != r.PID {
		t.Errorf("node A's tunnel record (cookie %d, pid %d) does not name the connection of its request record (cookie %d, pid %d)",
			opened.Cookie, opened.PID, req.Cookie, r.PID)
	}

	// Three requests on one keep-alive connection share one tunnel stream, yet each is verified
	// on node B with its own presentation and audited there under node A's exchange id.
	seq := n.In(n.Pod, bins.Client, "http-seq", "3", url)
	r = a.Run(a.Cgroup("agents/good"), seq[0], seq[1:]...)
	if r.Err != nil || !strings.HasPrefix(r.Out, "ok=3") {
		t.Fatalf("three requests on one connection: %v %q", r.Err, r.Out)
	}
	var exchanges []string
	for deadline := time.Now().Add(10 * time.Second); len(exchanges) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		exchanges = exchanges[:0]
		for _, rec := range a.Records() {
			if rec.Kind == audit.KindRequest && int(rec.PID) == r.PID && rec.Status == 200 && !slices.Contains(exchanges, rec.ExchangeID) {
				exchanges = append(exchanges, rec.ExchangeID)
			}
		}
	}
	if len(exchanges) != 3 {
		t.Fatalf("node A's request records of the keep-alive connection: %d distinct exchange ids, want 3", len(exchanges))
	}
	for _, xid := range exchanges {
		got := b.WaitRecord(func(rec audit.Record, _ int) bool {
			return rec.Reason == "exchange_verified" && rec.ExchangeID == xid
		}, "node B's record of exchange "+xid)
		if got.SPIFFEID != spiffe || got.Role != "EXECUTOR" || got.Destination != n.BackendIP+":8080" || got.Measurement != good {
			t.Errorf("node B's exchange record (want the agent process's measurement %s): %+v", good, got)
		}
	}
	streams := 0
	for _, rec := range a.Records() {
		if rec.Reason == "tunnel_opened" && int(rec.PID) == r.PID {
			streams++
		}
	}
	if streams != 1 {
		t.Errorf("the keep-alive connection opened %d tunnel streams, want 1", streams)
	}

	// The same binary in an agent whose accepted list names another one is refused.
	r = a.Run(a.Cgroup("agents/bad"), argv[0], argv[1:]...)
	if strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("unattested agent reached the attestation_required domain: %q", r.Out)
	}
	refused := a.WaitRecord(func(rec audit.Record, _ int) bool {
		return int(rec.PID) == r.PID && rec.Verdict == "DENY"
	}, "node A's refusal of agent bad")
	if !strings.Contains(refused.Reason, "attestation_mismatch") && !slices.Contains(refused.ReasonCodes, "attestation_mismatch") {
		t.Errorf("refusal of agent bad: reason %q codes %v, want attestation_mismatch", refused.Reason, refused.ReasonCodes)
	}

	// A node with its own CA (another mesh) is refused by node B.
	c := crossMesh(t, n, n.A, "node-c", n.APodIP, 15009,
		fmt.Sprintf("    - {id: intruder, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/intruder, attestation: [%q]}", good))
	c.Start()
	r = c.Run(c.Cgroup("agents/intruder"), argv[0], argv[1:]...)
	if strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("a node of another CA reached node B's backend: %q", r.Out)
	}
	failed := c.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.AgentID == "intruder" && rec.Verdict == "DENY" && rec.Reason == "tunnel_failed"
	}, "node C's failed tunnel record")
	if !strings.Contains(failed.Message, "certificate") {
		t.Errorf("node C's tunnel failure does not name the certificate: %q", failed.Message)
	}
	for _, rec := range b.Records() {
		if rec.AgentID == "intruder" || strings.Contains(rec.SPIFFEID, "intruder") {
			t.Errorf("node B delivered for a node of another CA: %+v", rec)
		}
	}

	// Revoking agent good on node B (the operator socket) refuses its next request there.
	out, err := exec.Command(bins.Meshwarden, "identity", "revoke", "--state-dir", b.Dir, spiffe).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "revoked spiffe://meshwarden.local/ns/local/agent/good") {
		t.Fatalf("identity revoke on node B: %v %q", err, out)
	}
	argv = n.In(n.Pod, bins.Client, "http", url)
	r = a.Run(a.Cgroup("agents/good"), argv[0], argv[1:]...)
	if strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("revoked agent still reached node B: %q", r.Out)
	}
	revoked := b.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Verdict == "DENY" && rec.Reason == "credential_revoked"
	}, "node B's refusal of the revoked agent")
	if !strings.Contains(revoked.Message, spiffe) || revoked.Destination != n.BackendIP+":8080" {
		t.Errorf("node B's revocation record: %+v", revoked)
	}
	a.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.AgentID == "good" && rec.Verdict == "DENY" && rec.Reason == "credential_revoked"
	}, "node A's record of the refused tunnel stream")
}
