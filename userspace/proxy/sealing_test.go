package proxy_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// sealPolicy has a domain whose payloads are audited sealed, one where only their digest is,
// and one that also writes its decision durably before forwarding.
const sealPolicy = `security_mesh:
  roles: [CODER]
  zones:
    - {name: internet, cidrs: [10.99.0.0/16], kind: tool}
  domains:
    - name: sealed
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/sealed, /sealed-sse]}
      detectors:
        - {type: ssn, action: redact}
      audit_payloads: true
    - name: durable
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/durable]}
      detectors:
        - {type: ssn, action: redact}
      audit_payloads: true
      audit_before_forward: true
    - name: digest
      tier: PLAINTEXT
      allowed_roles: [CODER]
      match: {http_paths: [/digest]}
      detectors:
        - {type: ssn, action: redact}
`

// fileSink writes records to a real audit log, durably, and hands them to the test once they
// are in the file.
type fileSink struct {
	w *audit.Writer
	*recordSink
}

func (s fileSink) Write(r audit.Record) error {
	if err := s.w.Write(r); err != nil {
		return err
	}
	return s.recordSink.Write(r)
}

// startSealingEnforcer runs an enforcer under sealPolicy that writes to an audit log file,
// sealing payloads with sealer (none when nil). It returns the harness, the sink and the log.
func startSealingEnforcer(t *testing.T, upstream http.Handler, sealer *audit.PayloadSealer) (*harness, fileSink, string) {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.jsonl")
	w, err := audit.Open(context.Background(), audit.Options{Path: logPath, Node: "node-a", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	sink := fileSink{w: w, recordSink: &recordSink{ch: make(chan audit.Record, 100)}}
	up := startHTTPUpstream(t, nil, upstream)
	h := startEnforcer(t, up, sealPolicy, func(c *proxy.Config) {
		c.Audit = sink
		c.PayloadSealer = sealer
	})
	return h, sink, logPath
}

// payloadKey makes an audit payload key pair.
func payloadKey(t *testing.T) (*audit.PayloadSealer, *audit.PayloadOpener) {
	t.Helper()
	keyPath, pubPath, err := audit.GeneratePayloadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := audit.ReadPayloadSealer(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	opener, err := audit.ReadPayloadOpener(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return sealer, opener
}

// loggedRecords reads the records of an audit log file.
func loggedRecords(t *testing.T, path string) ([]audit.Record, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rs []audit.Record
	for l := range bytes.Lines(data) {
		r, err := audit.ParseRecord(bytes.TrimSuffix(l, []byte{'\n'}))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rs = append(rs, r)
	}
	return rs, data
}

// echoSSN answers every request with a JSON body holding an SSN.
var echoSSN = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"answer":"the record says ssn `+testSSN+`"}`)
})

func isExchange(path string) func(audit.Record) bool {
	return func(r audit.Record) bool { return r.Kind == audit.KindRequest && r.Path == path }
}

func TestAuditPayloadsDomainSealsTheRedactedPayloadsAndTheLogHoldsNoPlaintext(t *testing.T) {
	sealer, opener := payloadKey(t)
	h, sink, logPath := startSealingEnforcer(t, echoSSN, sealer)
	client := h.httpClient(t)
	const body = `{"question":"is my ssn ` + testSSN + ` on file?"}`
	resp, got := post(t, client, "http://10.99.0.1/sealed", body)
	if resp.StatusCode != 200 || !strings.Contains(string(got), "[redacted:ssn]") {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	sink.until(t, has(isExchange("/sealed")))

	recs, raw := loggedRecords(t, logPath)
	rec, ok := find(recs, isExchange("/sealed"))
	if !ok {
		t.Fatal("no exchange record in the log")
	}
	if rec.PayloadSealed == nil || rec.ResponseSealed == nil {
		t.Fatalf("exchange record carries no sealed payloads: %+v", rec)
	}
	if rec.PayloadSealed.KeyID != sealer.KeyID() || rec.PayloadSHA256 == "" {
		t.Errorf("key id %q (want %q), digest %q", rec.PayloadSealed.KeyID, sealer.KeyID(), rec.PayloadSHA256)
	}
	req, res, err := opener.OpenRecord(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(req) != `{"question":"is my ssn [redacted:ssn] on file?"}` {
		t.Errorf("sealed request payload: %s", req)
	}
	if string(res) != `{"answer":"the record says ssn [redacted:ssn]"}` {
		t.Errorf("sealed response payload: %s", res)
	}
	for _, plain := range []string{testSSN, "[redacted:ssn]", "is my ssn", "the record says"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Errorf("the node's audit log holds plaintext %q", plain)
		}
	}
}

func TestDomainWithoutAuditPayloadsLogsOnlyTheDigest(t *testing.T) {
	sealer, _ := payloadKey(t)
	h, sink, logPath := startSealingEnforcer(t, echoSSN, sealer)
	resp, _ := post(t, h.httpClient(t), "http://10.99.0.1/digest", `{"q":"ssn `+testSSN+`"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sink.until(t, has(isExchange("/digest")))
	recs, raw := loggedRecords(t, logPath)
	rec, _ := find(recs, isExchange("/digest"))
	if rec.PayloadSHA256 == "" || rec.PayloadSealed != nil || rec.ResponseSealed != nil {
		t.Fatalf("record: digest %q, sealed %v / %v", rec.PayloadSHA256, rec.PayloadSealed, rec.ResponseSealed)
	}
	if bytes.Contains(raw, []byte("_sealed")) {
		t.Error("the log holds a sealed payload")
	}
}

func TestAuditPayloadsDomainWithoutAKeyRefusesRatherThanRelayUnaudited(t *testing.T) {
	var up seen
	h, sink, _ := startSealingEnforcer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.add(r) }), nil)
	resp, body := post(t, h.httpClient(t), "http://10.99.0.1/sealed", `{"q":"hello"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "payload_seal_failed") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if n := len(up.all()); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	recs := sink.until(t, has(isExchange("/sealed")))
	rec, _ := find(recs, isExchange("/sealed"))
	if rec.Verdict != "DENY" || rec.Reason != "payload_seal_failed" || rec.PayloadSealed != nil {
		t.Fatalf("record: %+v", rec)
	}
}

func TestAuditBeforeForwardDecisionAndExchangeRecordsEachCarryTheirOwnSealedPayload(t *testing.T) {
	sealer, opener := payloadKey(t)
	h, sink, logPath := startSealingEnforcer(t, echoSSN, sealer)
	if resp, _ := post(t, h.httpClient(t), "http://10.99.0.1/durable", `{"q":"ssn `+testSSN+`"}`); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sink.until(t, has(isExchange("/durable")))
	recs, _ := loggedRecords(t, logPath)
	dec, ok := find(recs, func(r audit.Record) bool { return r.Kind == audit.KindDecision })
	rec, _ := find(recs, isExchange("/durable"))
	if !ok || dec.PayloadSealed == nil || rec.PayloadSealed == nil || dec.ID == rec.ID {
		t.Fatalf("decision %+v\nexchange %+v", dec, rec)
	}
	for _, r := range []audit.Record{dec, rec} {
		req, _, err := opener.OpenRecord(&r)
		if err != nil || string(req) != `{"q":"ssn [redacted:ssn]"}` {
			t.Errorf("%s record: %s (%v)", r.Kind, req, err)
		}
	}
	moved := rec
	moved.PayloadSealed = dec.PayloadSealed
	if _, _, err := opener.OpenRecord(&moved); err == nil {
		t.Error("the decision record's sealed payload opened in the exchange record")
	}
}

func TestAuditPayloadsDomainSealsTheEventsOfAStreamAsRelayed(t *testing.T) {
	sealer, opener := payloadKey(t)
	h, sink, logPath := startSealingEnforcer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\ndata: ssn "+testSSN+"\n\n")
	}), sealer)
	resp, body := post(t, h.httpClient(t), "http://10.99.0.1/sealed-sse", `{"q":"stream"}`)
	if resp.StatusCode != 200 || strings.Contains(string(body), testSSN) {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	sink.until(t, has(isExchange("/sealed-sse")))
	recs, _ := loggedRecords(t, logPath)
	rec, _ := find(recs, isExchange("/sealed-sse"))
	_, res, err := opener.OpenRecord(&rec)
	if err != nil || string(res) != string(body) {
		t.Fatalf("sealed stream %q (%v), the client got %q", res, err, body)
	}
}

func TestAuditPayloadsDomainRefusesAResponseItCannotRead(t *testing.T) {
	sealer, _ := payloadKey(t)
	h, _, _ := startSealingEnforcer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0, 1, 2, 3})
	}), sealer)
	resp, body := post(t, h.httpClient(t), "http://10.99.0.1/sealed", `{"q":"bytes"}`)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "opaque_payload") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}
