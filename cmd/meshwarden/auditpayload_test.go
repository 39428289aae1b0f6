package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// keygen runs meshwarden audit keygen --out dir.
func keygen(t *testing.T, dir string) (keyPath, pubPath string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "keygen", "--out", dir}, &out, &errOut); code != exitOK {
		t.Fatalf("keygen: exit %d: %s", code, errOut.String())
	}
	keyPath, pubPath = filepath.Join(dir, audit.PayloadKeyFile), filepath.Join(dir, audit.PayloadPublicKeyFile)
	if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v (%v)", st, err)
	}
	if !strings.Contains(out.String(), pubPath) {
		t.Errorf("keygen output does not name the public key:\n%s", out.String())
	}
	return keyPath, pubPath
}

// sealedLog writes an audit log with a record carrying sealed payloads (sealed to pubPath) and
// one without, and returns its path and the sealed record's id.
func sealedLog(t *testing.T, pubPath string) (string, string) {
	t.Helper()
	sealer, err := audit.ReadPayloadSealer(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := audit.Open(context.Background(), audit.Options{Path: path, Node: "node-a", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := audit.Record{Kind: audit.KindRequest, ID: audit.NewID(), ExchangeID: "ex-1", Domain: "records", Verdict: "REDIRECT"}
	if r.PayloadSealed, err = sealer.Seal([]byte(`{"q":"[redacted:ssn]"}`), r.ID, r.ExchangeID, audit.PartRequest); err != nil {
		t.Fatal(err)
	}
	if r.ResponseSealed, err = sealer.Seal([]byte(`{"a":"ok"}`), r.ID, r.ExchangeID, audit.PartResponse); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []audit.Record{{Kind: audit.KindSystem, Message: "started"}, r} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, r.ID
}

func TestAuditKeygenThenDecryptPrintsEachSealedRecordsPayloads(t *testing.T) {
	keyPath, pubPath := keygen(t, filepath.Join(t.TempDir(), "keys"))
	logPath, id := sealedLog(t, pubPath)
	if raw, _ := os.ReadFile(logPath); bytes.Contains(raw, []byte("redacted")) {
		t.Fatal("the log holds the payload in the clear")
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "decrypt", "--key", keyPath, logPath}, &out, &errOut); code != exitOK {
		t.Fatalf("decrypt: exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"record " + id, "request (22 bytes):\n" + `{"q":"[redacted:ssn]"}`, "response (10 bytes):\n" + `{"a":"ok"}`} {
		if !strings.Contains(text, want) {
			t.Errorf("decrypt output lacks %q:\n%s", want, text)
		}
	}

	out.Reset()
	if code := run([]string{"audit", "decrypt", "-o", "json", "--key", keyPath, logPath}, &out, &errOut); code != exitOK {
		t.Fatalf("decrypt -o json: exit %d: %s", code, errOut.String())
	}
	var got openedRecord
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.ID != id || got.Request == nil || *got.Request != `{"q":"[redacted:ssn]"}` || got.Response == nil || *got.Response != `{"a":"ok"}` {
		t.Errorf("decrypt -o json: %s", out.String())
	}
}

func TestAuditDecryptWithTheWrongKeyFails(t *testing.T) {
	_, pubPath := keygen(t, filepath.Join(t.TempDir(), "keys"))
	otherKey, _ := keygen(t, filepath.Join(t.TempDir(), "other"))
	logPath, id := sealedLog(t, pubPath)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "decrypt", "--key", otherKey, logPath}, &out, &errOut); code != exitFailure {
		t.Fatalf("decrypt with another key: exit %d", code)
	}
	if msg := errOut.String(); !strings.Contains(msg, "another audit payload key") || !strings.Contains(msg, logPath+":2") {
		t.Errorf("error: %s", msg)
	}
	if strings.Contains(out.String(), "redacted") || strings.Contains(out.String(), id) {
		t.Errorf("printed something: %s", out.String())
	}
}

func TestAuditKeygenRefusesToOverwriteAKey(t *testing.T) {
	dir := t.TempDir()
	keygen(t, dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "keygen", "--out", dir}, &out, &errOut); code != exitFailure || !strings.Contains(errOut.String(), "refusing to overwrite") {
		t.Fatalf("second keygen: exit %d: %s", code, errOut.String())
	}
}

func TestRunRefusesAPolicyWithAuditPayloadsAndNoKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mesh.yaml")
	src := `security_mesh:
  roles: [CODER]
  domains:
    - {name: records, tier: PLAINTEXT, allowed_roles: [CODER], match: any, audit_payloads: true}
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"run", "--config", cfg, "--state-dir", dir, "--metrics-addr", ""}, &out, &errOut)
	if code != exitFailure || !strings.Contains(errOut.String(), "--audit-payload-key") {
		t.Fatalf("run: exit %d: %s", code, errOut.String())
	}
}
