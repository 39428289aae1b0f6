package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// exportReceiver is a webhook endpoint keeping the raw lines of the JSON arrays POSTed to it.
type exportReceiver struct {
	mu    sync.Mutex
	lines [][]byte
	auth  map[string]bool
}

func (rc *exportReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var elems []json.RawMessage
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &elems) != nil {
		http.Error(w, "want a POST of a JSON array", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.auth[r.Header.Get("Authorization")] = true
	for _, e := range elems {
		rc.lines = append(rc.lines, e)
	}
}

func (rc *exportReceiver) received() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.lines...)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func containsID(lines [][]byte, id string) bool {
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"id":"`+id+`"`)) {
			return true
		}
	}
	return false
}

func TestDaemonExportsCommittedAuditLinesToWebhookAndStdoutAsAVerifiableChain(t *testing.T) {
	rc := &exportReceiver{auth: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	var stdout lockedBuffer

	w := newObsWorld(t, func(m *lab.Mesh) {
		token := filepath.Join(m.Dir, "webhook.token")
		if err := os.WriteFile(token, []byte("e2e-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		m.DaemonStdout = &stdout
		m.RunArgs = append(m.RunArgs, "--audit-stdout", "--audit-webhook", "http://"+ln.Addr().String()+"/audit",
			"--audit-webhook-flush", "50ms", "--audit-webhook-batch", "16", "--audit-webhook-token-file", token)
	})

	r := w.orchestrator("http", "http://"+w.data+"/memory/1")
	wantOK(t, r, "data GET /memory/1")
	req := w.requestOf(r.PID)
	waitFor(t, "the request record at the webhook", func() bool { return containsID(rc.received(), req.ID) })
	waitFor(t, "the request record on stdout", func() bool {
		return containsID(bytes.Split([]byte(stdout.String()), []byte{'\n'}), req.ID)
	})

	metrics := scrape(t, statusJSON(t, w).MetricsAddr)
	for _, want := range []string{
		`meshwarden_audit_export_records_total{exporter="webhook",result="sent"} `,
		`meshwarden_audit_export_records_total{exporter="stdout",result="sent"} `,
		`meshwarden_audit_export_batches_total{exporter="webhook"} `,
		`meshwarden_audit_fsync_duration_seconds_count `,
	} {
		if v := sampleValue(metrics, want); v <= 0 {
			t.Errorf("%s= %v, want > 0", want, v)
		}
	}
	for _, want := range []string{
		`meshwarden_audit_export_records_total{exporter="webhook",result="queue_full"} `,
		`meshwarden_audit_export_records_total{exporter="webhook",result="given_up"} `,
	} {
		if v := sampleValue(metrics, want); v != 0 {
			t.Errorf("%s= %v, want 0", want, v)
		}
	}

	// At stop the daemon writes its last records and checkpoint and flushes its exporters:
	// both then hold exactly the log's lines, which verify as a signed chain.
	w.Stop()
	file, err := os.ReadFile(w.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	var hooked bytes.Buffer
	for _, l := range rc.received() {
		hooked.Write(append(l, '\n'))
	}
	if !bytes.Equal(hooked.Bytes(), file) {
		t.Errorf("webhook lines differ from the log:\n%s\nlog:\n%s", hooked.Bytes(), file)
	}
	if stdout.String() != string(file) {
		t.Errorf("stdout differs from the log:\n%s\nlog:\n%s", stdout.String(), file)
	}
	pub, err := audit.ReadPublicKey(filepath.Join(w.Dir, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyLines(context.Background(), "webhook", &hooked, audit.VerifyOptions{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil || !rep.FromGenesis || rep.Checkpoints == 0 || rep.SignedSeq != rep.LastSeq {
		t.Errorf("webhook lines do not verify as a signed chain: %+v", rep)
	}
	if len(rc.auth) != 1 || !rc.auth["Bearer e2e-token"] {
		t.Errorf("Authorization headers seen: %v", rc.auth)
	}
}

// sampleValue is the value of the text-format sample whose line starts with prefix (name and
// labels, then a space); -1 when there is none.
func sampleValue(text, prefix string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}
