package classify

import (
	"encoding/json"
	"testing"

	"github.com/meshwarden/meshwarden/policy"
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
