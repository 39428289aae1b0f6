package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint on 127.0.0.1 that keeps the raw elements of the JSON arrays
// it accepts. answer decides each post's status from its 1-based number; hold, when set, is
// called before answering (a stalled server blocks there).
type receiver struct {
	srv    *httptest.Server
	answer func(n int) int
	hold   func(r *http.Request)

	mu       sync.Mutex
	posts    int
	auth     []string
	accepted [][]byte   // lines of accepted posts, in arrival order
	posted   [][][]byte // lines of every post
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var elems []json.RawMessage
	if err != nil || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &elems) != nil {
		http.Error(w, "not a JSON array", http.StatusUnsupportedMediaType)
		return
	}
	rc.mu.Lock()
	rc.posts++
	n := rc.posts
	rc.auth = append(rc.auth, r.Header.Get("Authorization"))
	lines := make([][]byte, len(elems))
	for i, e := range elems {
		lines[i] = e
	}
	rc.posted = append(rc.posted, lines)
	rc.mu.Unlock()
	if rc.hold != nil {
		rc.hold(r)
	}
	code := rc.answer(n)
	if code/100 == 2 && r.Context().Err() == nil { // a post its client gave up on is not accepted
		rc.mu.Lock()
		rc.accepted = append(rc.accepted, lines...)
		rc.mu.Unlock()
	}
	w.WriteHeader(code)
}

func (rc *receiver) snapshot() (posts int, accepted [][]byte, posted [][][]byte, auth []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.posts, append([][]byte(nil), rc.accepted...), append([][][]byte(nil), rc.posted...), append([]string(nil), rc.auth...)
}

func seqOf(t *testing.T, line []byte) uint64 {
	t.Helper()
	h, err := parseLine(line)
	if err != nil {
		t.Fatalf("exported line is no record: %v: %s", err, line)
	}
	return h.Seq
}

// fileLines are the lines of the log file without their newlines.
func fileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, l := range lines(t, path) {
		out = append(out, bytes.TrimSuffix(l, []byte{'\n'}))
	}
	return out
}

func TestWebhookExportRetries503ThenDeliversEveryRecordOnceInOrderAsAVerifiableChain(t *testing.T) {
	const failing = 3
	rc := newReceiver(t, func(n int) int {
		if n <= failing {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exp, err := NewWebhookExporter(WebhookOptions{URL: rc.srv.URL + "/audit", TokenFile: tokenFile,
		Export: ExportOptions{Batch: 10, Flush: 20 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	opts.CheckpointEvery = 7
	opts.Exporters = []*Exporter{exp}
	w := open(t, opts)
	appendN(t, w, 0, 50)
	closeWriter(t, w)

	posts, got, _, auth := rc.snapshot()
	want := fileLines(t, opts.Path)
	if len(got) != len(want) {
		t.Fatalf("received %d lines, the log holds %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d received as\n%s\nwritten as\n%s", i+1, got[i], want[i])
		}
		if seq := seqOf(t, got[i]); seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d: not contiguous", i+1, seq)
		}
	}
	var stream bytes.Buffer
	for _, l := range got {
		stream.Write(append(l, '\n'))
	}
	rep, err := VerifyLines(context.Background(), "webhook", &stream, VerifyOptions{Key: publicKey(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil || !rep.FromGenesis || rep.Checkpoints < 7 || rep.SignedSeq != rep.LastSeq {
		t.Fatalf("received lines do not verify as a signed chain: %+v", rep)
	}
	for i, a := range auth {
		if a != "Bearer s3cret" {
			t.Fatalf("post %d: Authorization %q", i+1, a)
		}
	}
	st := exp.Stats()
	if st.Sent != uint64(len(want)) || st.Failures != failing || st.DroppedFull+st.DroppedGivenUp != 0 || st.Batches != uint64(posts-failing) {
		t.Fatalf("stats %+v after %d posts, %d lines", st, posts, len(want))
	}
}

func TestWebhookStalledServerNeverDelaysAppendAndDropsAreCountedExactly(t *testing.T) {
	release := make(chan struct{})
	stalled := make(chan struct{})
	rc := newReceiver(t, func(int) int { return http.StatusOK })
	var once sync.Once
	rc.hold = func(r *http.Request) {
		rc.mu.Lock()
		n := rc.posts
		rc.mu.Unlock()
		if n == 1 {
			return // the first batch goes through
		}
		once.Do(func() { close(stalled) })
		select { // stuck until the exporter gives up (its shutdown deadline) or the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for handlers

	exp, err := NewWebhookExporter(WebhookOptions{URL: rc.srv.URL, Timeout: time.Minute,
		Export: ExportOptions{Batch: 2, Queue: 5, MinBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.Exporters = []*Exporter{exp}
	opts.ExportShutdown = 200 * time.Millisecond
	w := open(t, opts)

	appendN(t, w, 0, 3) // the first batch is accepted; the next post stalls
	select {
	case <-stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook never got a second post")
	}
	// Every Append returns while the server holds the exporter: none waits for the webhook.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 200 {
		if _, err := w.Append(ctx, sample(i)); err != nil {
			t.Fatalf("append %d while the webhook is stalled: %v", i, err)
		}
	}
	select {
	case <-release:
		t.Fatal("released early")
	default:
	}

	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a stalled webhook past its shutdown deadline")
	}

	total := uint64(len(fileLines(t, opts.Path)))
	st := exp.Stats()
	_, accepted, _, _ := rc.snapshot()
	if st.Sent != uint64(len(accepted)) || st.Sent+st.DroppedFull+st.DroppedGivenUp != total {
		t.Fatalf("stats %+v: sent + dropped != %d lines written (%d accepted)", st, total, len(accepted))
	}
	if st.DroppedFull == 0 || st.DroppedGivenUp == 0 || st.Queued != 0 {
		t.Fatalf("stats %+v: want drops of a full queue and of the stalled batch at shutdown", st)
	}
}

func TestWebhook4xxIsNotRetriedAndCountsTheBatchAsGivenUp(t *testing.T) {
	rc := newReceiver(t, func(int) int { return http.StatusBadRequest })
	exp, err := NewWebhookExporter(WebhookOptions{URL: rc.srv.URL,
		Export: ExportOptions{Batch: 4, Flush: 10 * time.Millisecond, MinBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t.TempDir())
	opts.Exporters = []*Exporter{exp}
	w := open(t, opts)
	appendN(t, w, 0, 10)
	closeWriter(t, w)

	posts, _, posted, _ := rc.snapshot()
	seen := map[uint64]int{}
	for _, p := range posted {
		for _, l := range p {
			seen[seqOf(t, l)]++
		}
	}
	total := len(fileLines(t, opts.Path))
	for seq, n := range seen {
		if n != 1 {
			t.Errorf("seq %d posted %d times: a 400 was retried", seq, n)
		}
	}
	st := exp.Stats()
	if len(seen) != total || st.Failures != uint64(posts) || st.DroppedGivenUp != uint64(total) || st.Sent != 0 {
		t.Fatalf("stats %+v after %d posts of %d seqs, %d lines", st, posts, len(seen), total)
	}
}

func TestLineExporterWritesExactlyTheLinesOfTheLog(t *testing.T) {
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	exp := NewLineExporter(out, ExportOptions{})
	opts := testOptions(dir)
	opts.CheckpointEvery = 5
	opts.Exporters = []*Exporter{exp}
	w := open(t, opts)
	appendParallel(t, w, 40)
	closeWriter(t, w)
	file, err := os.ReadFile(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(exported, file) {
		t.Fatalf("exported lines differ from the log:\n%s\nlog:\n%s", exported, file)
	}
	if st := exp.Stats(); st.Sent != uint64(bytes.Count(file, []byte{'\n'})) || st.Name != "stdout" {
		t.Fatalf("stats %+v", st)
	}
}

func TestExportBackoffHonoursRetryAfterWithinMaxAndGrowsWithJitter(t *testing.T) {
	e := NewExporter(lineSink{io.Discard}, ExportOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second})
	if d := e.backoff(0, 1500*time.Millisecond); d != 1500*time.Millisecond {
		t.Errorf("Retry-After 1.5s gave %v", d)
	}
	if d := e.backoff(0, time.Hour); d != 2*time.Second {
		t.Errorf("Retry-After 1h gave %v, want the 2s cap", d)
	}
	for attempt, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second} {
		if attempt == 3 {
			attempt = 40
		}
		if d := e.backoff(attempt, 0); d < want/2 || d > want {
			t.Errorf("attempt %d: backoff %v outside [%v, %v]", attempt, d, want/2, want)
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, " 3 ": 3 * time.Second, "-4": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

func TestWebhookExporterRefusesBadURLsAndEmptyTokenFiles(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "token")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, o := range []WebhookOptions{
		{URL: "ftp://example.com/x"},
		{URL: "/relative"},
		{URL: "http://127.0.0.1:1/", TokenFile: empty},
		{URL: "http://127.0.0.1:1/", TokenFile: empty + ".missing"},
	} {
		if _, err := NewWebhookExporter(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
