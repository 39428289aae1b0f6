// Package sdkout is what the Go SDK test agents share: JSON-line output of events, and an
// http.RoundTripper that adds headers to every request and reports what went over the wire.
// The agents know nothing of Meshwarden: they are unchanged SDK clients.
package sdkout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Printer writes one JSON object per line to stdout, each with the milliseconds since start.
type Printer struct {
	mu    sync.Mutex
	start time.Time
	enc   *json.Encoder
}

// NewPrinter returns a Printer on stdout.
func NewPrinter() *Printer {
	return &Printer{start: time.Now(), enc: json.NewEncoder(os.Stdout)}
}

// Event prints fields plus "event" and "t".
func (p *Printer) Event(event string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["event"] = event
	p.mu.Lock()
	defer p.mu.Unlock()
	fields["t"] = time.Since(p.start).Milliseconds()
	_ = p.enc.Encode(fields)
}

// Headers is a repeatable --header "Name: value" flag.
type Headers [][2]string

func (h *Headers) String() string { return fmt.Sprint(*h) }

// Set adds one header.
func (h *Headers) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("header %q is not Name: value", v)
	}
	*h = append(*h, [2]string{strings.TrimSpace(k), strings.TrimSpace(val)})
	return nil
}

// Wire is an http.RoundTripper that sets Headers on every request and prints, for each
// exchange, the request body as sent ("wire", dir send), the response head ("http") and the
// JSON messages received ("wire", dir recv: a JSON body, or each data line of an event stream).
type Wire struct {
	Base    http.RoundTripper
	Headers Headers
	Out     *Printer
}

// RoundTrip implements http.RoundTripper.
func (w *Wire) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for _, h := range w.Headers {
		r.Header.Set(h[0], h[1])
	}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		if len(b) > 0 {
			w.Out.Event("wire", map[string]any{"dir": "send", "url": r.URL.String(), "message": json.RawMessage(jsonOrString(b))})
		}
	}
	resp, err := w.Base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	hdr := map[string]string{}
	for k := range resp.Header {
		hdr[strings.ToLower(k)] = resp.Header.Get(k)
	}
	w.Out.Event("http", map[string]any{"method": r.Method, "url": r.URL.String(), "status": resp.StatusCode, "headers": hdr})
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/event-stream"):
		resp.Body = &dataLines{rc: resp.Body, out: w.Out}
	case strings.Contains(ct, "json"):
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		w.Out.Event("wire", map[string]any{"dir": "recv", "status": resp.StatusCode, "message": json.RawMessage(jsonOrString(b))})
	}
	return resp, nil
}

// dataLines passes an event stream through, printing each data line as it goes by.
type dataLines struct {
	rc   io.ReadCloser
	out  *Printer
	line []byte
}

func (d *dataLines) Read(p []byte) (int, error) {
	n, err := d.rc.Read(p)
	for _, c := range p[:n] {
		if c != '\n' {
			d.line = append(d.line, c)
			continue
		}
		if data, ok := bytes.CutPrefix(bytes.TrimRight(d.line, "\r"), []byte("data:")); ok {
			d.out.Event("wire", map[string]any{"dir": "recv", "message": json.RawMessage(jsonOrString(bytes.TrimSpace(data)))})
		}
		d.line = d.line[:0]
	}
	return n, err
}

func (d *dataLines) Close() error { return d.rc.Close() }

// jsonOrString returns b when it is JSON, else b as a JSON string.
func jsonOrString(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// Fail prints an error event and exits with status 1.
func (p *Printer) Fail(format string, args ...any) {
	p.Event("fatal", map[string]any{"message": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

// Reader scans ops given as arguments, or one per line on stdin when there are none.
func Ops(args []string) []string {
	if len(args) > 0 {
		return args
	}
	var out []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
