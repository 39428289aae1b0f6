package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

const payloadPolicy = `security_mesh:
  domains:
    - name: vault
      tier: PLAINTEXT
      allowed_roles: [ORCHESTRATOR]
      audit_payloads: true
      detectors: [{type: ssn, action: redact}]
      match: any
  zones:
    - {name: data, cidrs: ["127.0.0.3/32"]}
    - {name: control, cidrs: ["127.0.0.5/32"]}
  agents:
    - {id: orchestrator, role: ORCHESTRATOR, zone: control, cgroup: {{.Name}}/agents/orchestrator}
  segmentation:
    - {from: control, to: data, action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// A domain with audit_payloads: the daemon, given only the public half of an audit key made by
// `meshwarden audit keygen`, seals each forwarded payload (after redaction) into its record;
// the node's log holds no plaintext of it, and `meshwarden audit decrypt` with the private key
// gives back exactly what was forwarded.
func TestAuditPayloadsAreSealedToTheAuditKeyAndOnlyItsHolderReadsThem(t *testing.T) {
	keys := t.TempDir()
	if out, err := exec.Command(bins.Meshwarden, "audit", "keygen", "--out", keys).CombinedOutput(); err != nil {
		t.Fatalf("audit keygen: %v %s", err, out)
	}
	m := lab.New(t, bins)
	data := lab.Backend(t, "127.0.0.3:0", "data")
	m.WritePolicy(payloadPolicy)
	m.RunArgs = append(m.RunArgs, "--audit-payload-key", filepath.Join(keys, audit.PayloadPublicKeyFile))
	m.Start()

	ssn, secret := "123-45-6789", "the-unredacted-note"
	r := m.Client("agents/orchestrator", "tcp", data, jsonPOSTLine("/store", fmt.Sprintf(`{"note": %q, "ssn": %q}`, secret, ssn)))
	if !strings.Contains(r.Out, "200 OK") {
		t.Fatalf("POST /store: %v %q", r.Err, r.Out)
	}
	rec := m.WaitRecord(func(rec audit.Record, _ int) bool {
		return rec.Kind == audit.KindRequest && int(rec.PID) == r.PID && rec.PayloadSealed != nil
	}, "the request record with its sealed payload")
	if rec.Domain != "vault" || rec.PayloadSHA256 == "" {
		t.Errorf("request record: %+v", rec)
	}
	m.Stop()

	log, err := os.ReadFile(m.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{ssn, secret} {
		if strings.Contains(string(log), plain) {
			t.Errorf("the node's audit log holds %q in plaintext", plain)
		}
	}
	out, err := exec.Command(bins.Meshwarden, "audit", "decrypt", "--key", filepath.Join(keys, audit.PayloadKeyFile), m.AuditLog).CombinedOutput()
	if err != nil {
		t.Fatalf("audit decrypt: %v %s", err, out)
	}
	if !strings.Contains(string(out), rec.ID) || !strings.Contains(string(out), secret) ||
		!strings.Contains(string(out), "[redacted:ssn]") || strings.Contains(string(out), ssn) {
		t.Fatalf("decrypted payloads: want record %s with the note and [redacted:ssn], never the SSN; got\n%s", rec.ID, out)
	}
}
