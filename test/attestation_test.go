package test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

const attestPolicy = `security_mesh:
  domains:
    - {name: vault, tier: PLAINTEXT, allowed_roles: [EXECUTOR], attestation_required: true, match: any}
  zones:
    - {name: data, cidrs: ["127.0.0.3/32"]}
    - {name: pods, cidrs: ["127.0.0.5/32"]}
  agents:
    - {id: worker, role: EXECUTOR, zone: pods, cgroup: {{.Name}}/agents/worker, attestation: [%q]}
  segmentation:
    - {from: pods, to: data, action: REDIRECT}
  default_action: DENY
  enforcer:
    address4: 127.0.0.1
    port: {{.Port}}
    cgroup: {{.Name}}/enforcer
`

// An agent attested to one binary reaches an attestation_required domain while it runs that
// binary; once the binary on disk is replaced (same path, new content), its next process is
// refused with attestation_mismatch, and the refusal names the new measurement.
func TestAgentWhoseBinaryChangesAfterAttestationIsRefused(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agent")
	copyFile(t, bins.Client, bin, 0o755)
	good := fileMeasurement(t, bin)

	m := lab.New(t, bins)
	data := lab.Backend(t, "127.0.0.3:0", "data")
	m.WritePolicy(fmt.Sprintf(attestPolicy, good))
	m.Start()

	r := m.Run(m.Cgroup("agents/worker"), bin, "http", "http://"+data+"/records")
	wantOK(t, r, "data GET /records")

	// The same program with bytes appended still runs, and is another binary; it replaces the
	// old one as a package upgrade does (a new file renamed over the path).
	copyFile(t, bins.Client, bin+".new", 0o755)
	f, err := os.OpenFile(bin+".new", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("\x00tampered")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	swapped := fileMeasurement(t, bin)
	r = m.Run(m.Cgroup("agents/worker"), bin, "http", "http://"+data+"/records")
	if strings.HasPrefix(r.Out, "200 ") {
		t.Fatalf("the replaced binary reached the attestation_required domain: %q", r.Out)
	}
	refused := m.WaitRecord(func(rec audit.Record, _ int) bool {
		return int(rec.PID) == r.PID && rec.Verdict == "DENY"
	}, "the refusal of the replaced binary")
	if !slices.Contains(refused.ReasonCodes, "attestation_mismatch") && refused.Reason != "attestation_mismatch" {
		t.Errorf("refusal: reason %q codes %v, want attestation_mismatch", refused.Reason, refused.ReasonCodes)
	}
	if refused.Measurement != swapped {
		t.Errorf("refusal names measurement %q, want the replaced binary's %s", refused.Measurement, swapped)
	}
}
