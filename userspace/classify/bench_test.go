package classify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// body1k is a 1 kB MCP tools/call request of the kind the benchmark in the issue sends: no
// sensitive data, so every detector runs over every string to the end.
const body1k = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_documents",
"arguments":{"query":"quarterly revenue report for the EMEA region, fiscal year 2024, with the breakdown by product line",
"filters":{"region":"EMEA","year":2024,"quarter":[1,2,3,4],"status":"published","tags":["finance","revenue","board"]},
"limit":25,"offset":0,"sort":{"field":"updated_at","order":"desc"},
"context":"The board asked for figures comparable to last year's report (v2.3, published 2023-11-02) and for the changes since the reorganisation announced at 10:30 on 2024-03-15; include links to documents 7d3f2a1c-9b8e-4c6d-a5f4-3e2d1c0b9a87 and 1f2e3d4c-5b6a-7980-8a9b-0c1d2e3f4a5b.",
"options":{"highlight":true,"include_archived":false,"language":"en","max_snippet_chars":280,"fields":["title","summary","owner","updated_at"]},
"requested_by":"analyst agent of the finance team, on behalf of the quarterly board review"},
"_meta":{"progressToken":"c0ffee-17","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}`

// BenchmarkScan1kJSON measures a scan of a decoded 1 kB JSON-RPC body with every detector and
// three sensitive fields: the classification cost the enforcer adds per request.
func BenchmarkScan1kJSON(b *testing.B) {
	c := benchClassifier(b)
	var v any
	if err := json.Unmarshal([]byte(body1k), &v); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body1k)))
	b.ReportAllocs()
	for b.Loop() {
		if fs := c.Scan(v); len(fs) != 0 {
			b.Fatalf("findings %+v", fs)
		}
	}
}

// BenchmarkRedact1kJSONWithFindings measures Redact of the same body holding an SSN, a card
// and a sensitive field.
func BenchmarkRedact1kJSONWithFindings(b *testing.B) {
	c := benchClassifier(b)
	src := []byte(body1k[:len(body1k)-2] + `,"note":{"ssn":"123-45-6789","card":"4111 1111 1111 1111","password":"x"}}}`)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		var v any
		if err := json.Unmarshal(src, &v); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, fs := c.Redact(v); len(fs) != 3 {
			b.Fatalf("findings %+v", fs)
		}
	}
}

// BenchmarkDecode1kJSON is the baseline: decoding the same body with encoding/json, which
// the enforcer does anyway.
func BenchmarkDecode1kJSON(b *testing.B) {
	b.SetBytes(int64(len(body1k)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal([]byte(body1k), &v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchClassifier(b *testing.B) *Classifier {
	d := &policy.Domain{
		Name:      "bench",
		Detectors: allDetectors(policy.ActionRedact),
		SensitiveFields: []policy.SensitiveField{
			{Key: "password", Action: policy.ActionBlock},
			{Key: "api_key", Action: policy.ActionRedact},
			{Key: "authorization", Action: policy.ActionRedact},
		},
	}
	c, err := New(d)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkQuietToolsCallExchange measures Quiet over a parsed 1 kB tools/call and its 1 kB
// result, as the enforcer checks both before deciding whether to decode them, with the
// detectors and sensitive fields of the proxy benchmark's domain.
func BenchmarkQuietToolsCallExchange(b *testing.B) {
	d := &policy.Domain{
		Name: "bench",
		Detectors: []policy.Detector{
			{Type: policy.DetectorSSN, Action: policy.ActionRedact},
			{Type: policy.DetectorPaymentCard, Action: policy.ActionBlock},
			{Type: policy.DetectorCanary, Action: policy.ActionBlock, Prefixes: []string{"CANARY_"}},
		},
		SensitiveFields: []policy.SensitiveField{
			{Key: "password", Action: policy.ActionBlock},
			{Key: "api_key", Action: policy.ActionRedact},
		},
	}
	c, err := New(d)
	if err != nil {
		b.Fatal(err)
	}
	req := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_documents","arguments":{"query":"quarterly revenue by region","limit":20,"filters":{"year":2026,"tags":["finance","emea"]},"context":"` +
		strings.Repeat("The orchestrator asks the retriever for the documents that match. ", 12) + `"},"_meta":{"progressToken":"p-1"}}}`
	resp := `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"` +
		strings.Repeat("document 17: revenue grew in every region. ", 22) + `"}],"isError":false}}`
	var docs []*protocol.Document
	for _, s := range []string{req, resp} {
		doc, err := protocol.ParseJSON([]byte(s), protocol.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, doc)
	}
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		for _, doc := range docs {
			if !c.Quiet(doc.Root(), nil) {
				b.Fatal("not quiet")
			}
		}
	}
}
