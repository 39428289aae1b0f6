package test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// syncBuffer is a bytes.Buffer safe for the daemon's log writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDaemonLogsCarryNoSecretOrPayloadAtDebugLevel(t *testing.T) {
	var logs syncBuffer
	w := newObsWorld(t, func(m *lab.Mesh) {
		m.RunArgs = []string{"--log-level", "debug", "--log-format", "json"}
		m.DaemonLog = &logs
	})

	b := make([]byte, 8)
	rand.Read(b)
	secret := "MWSECRET" + hex.EncodeToString(b)
	closedData := fmt.Sprintf("127.0.0.3:%d", lab.FreePort(t))

	// A request whose header, query and body carry the secret, relayed through the enforcer.
	body := `{"api_key":"` + secret + `"}`
	req := "POST /upload?token=" + secret + " HTTP/1.1\r\nHost: data\r\nAuthorization: Bearer " + secret +
		"\r\nCookie: session=" + secret + "\r\nConnection: close\r\nContent-Length: " + fmt.Sprint(len(body)+2) + "\r\n\r\n" + body
	if r := w.orchestrator("tcp", w.data, req); !strings.HasPrefix(r.Out, "HTTP/1.1 200") {
		t.Fatalf("relayed POST: err=%v out=%q", r.Err, r.Out)
	}
	// Malformed requests carrying the secret: the enforcer answers 400 and logs why.
	if r := w.orchestrator("tcp", w.data, "GET /x HTTP/1.1\r\nX-Api-Key "+secret+"\r\n"); !strings.Contains(r.Out, "400") {
		t.Fatalf("malformed header: err=%v out=%q", r.Err, r.Out)
	}
	if r := w.orchestrator("tcp", w.data, "GET /"+secret+" HTTP/1.1 "+secret+"\r\n"); !strings.Contains(r.Out, "400") {
		t.Fatalf("malformed request line: err=%v out=%q", r.Err, r.Out)
	}
	// An opaque stream, a dial that fails, and a denied connect, each with the secret on the way.
	w.orchestrator("tcp", w.data, "HELLO "+secret)
	w.orchestrator("http", "http://"+closedData+"/p?token="+secret)
	wantEPERM(t, w.orchestrator("http", "http://"+w.blocked+"/p?token="+secret))
	w.WaitRecord(func(r audit.Record, _ int) bool {
		return r.Kind == audit.KindFlow && r.Verdict == "DENY" && r.Destination == w.blocked
	}, "deny flow")

	metrics := scrape(t, statusJSON(t, w).MetricsAddr)
	w.Stop()

	out := logs.String()
	if !strings.Contains(out, `"level":"DEBUG"`) {
		t.Fatalf("no debug lines logged: %s", out)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["msg"] == nil || line["level"] == nil {
			t.Errorf("log line is not a JSON slog record: %v: %s", err, sc.Text())
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, secret) {
			t.Errorf("a log line carries the request's secret: %s", l)
		}
	}
	if strings.Contains(metrics, secret) {
		t.Errorf("the metrics carry the request's secret")
	}
	// Nor the audit log's signing key.
	key, err := os.ReadFile(filepath.Join(w.Dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(key), "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") && strings.Contains(out, l) {
			t.Errorf("the log carries the audit signing key")
		}
	}
}
