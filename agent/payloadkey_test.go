package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

const payloadPolicy = `security_mesh:
  roles: [CODER]
  zones:
    - {name: tools, cidrs: [10.99.0.0/16]}
  domains:
    - name: records
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/records]}
      audit_payloads: %s
`

func writePolicy(t *testing.T, dir string, auditPayloads bool) string {
	t.Helper()
	path := filepath.Join(dir, "policy.yaml")
	src := strings.Replace(payloadPolicy, "%s", map[bool]string{true: "true", false: "false"}[auditPayloads], 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDaemonWithAuditPayloadsAndNoKeyRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	_, err := start(Options{ConfigPath: writePolicy(t, dir, true), StateDir: dir, Logger: quietLogger()})
	if !errors.Is(err, ErrNoPayloadKey) || !strings.Contains(err.Error(), "records") || !strings.Contains(err.Error(), "--audit-payload-key") {
		t.Fatalf("start: %v", err)
	}
}

func TestDaemonRefusesAnUnreadableAuditPayloadKey(t *testing.T) {
	dir := t.TempDir()
	_, err := start(Options{ConfigPath: writePolicy(t, dir, true), StateDir: dir, Logger: quietLogger(),
		AuditPayloadKeyFile: filepath.Join(dir, "missing.pub")})
	if err == nil || !strings.Contains(err.Error(), "--audit-payload-key") {
		t.Fatalf("start: %v", err)
	}
}

func TestPayloadKeyCheckPassesWithAKeyOrWithoutAuditPayloads(t *testing.T) {
	dir := t.TempDir()
	_, pub, err := audit.GeneratePayloadKey(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := loadPayloadSealer(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		audits bool
		sealer *audit.PayloadSealer
	}{{true, sealer}, {false, nil}, {false, sealer}} {
		pol := parsePolicyFile(t, writePolicy(t, dir, c.audits))
		if err := checkPayloadKey(pol, c.sealer); err != nil {
			t.Errorf("audit_payloads %v, key %v: %v", c.audits, c.sealer != nil, err)
		}
	}
}

func TestReloadToAuditPayloadsWithoutAKeyIsRefusedAndTheRunningPolicyStays(t *testing.T) {
	dir := t.TempDir()
	path := writePolicy(t, dir, false)
	old := parsePolicyFile(t, path)
	w, err := audit.Open(context.Background(), audit.Options{Path: filepath.Join(dir, "audit.jsonl"), Node: "n", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{opts: Options{ConfigPath: path}, log: quietLogger(), audit: w}
	d.initObservability()
	d.cur.Store(&view{pol: old})

	writePolicy(t, dir, true)
	if err := d.Reload(true); !errors.Is(err, ErrNoPayloadKey) {
		t.Fatalf("reload: %v", err)
	}
	if d.cur.Load().pol != old {
		t.Fatal("the running policy was replaced")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if !bytes.Contains(log, []byte("policy reload refused")) || !bytes.Contains(log, []byte("audit_payloads")) {
		t.Fatalf("the refusal is not audited:\n%s", log)
	}
}

func parsePolicyFile(t *testing.T, path string) *policy.Policy {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}
