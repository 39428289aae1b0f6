package pep

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// body1k is a 1 kB MCP tools/call request without sensitive data, as the benchmark
// sends.
const body1k = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"crm_search","arguments":{"query":"quarterly revenue report for the EMEA region, fiscal year 2024, with the breakdown by product line","filters":{"region":"EMEA","year":2024,"quarter":[1,2,3,4],"status":"published","tags":["finance","revenue","board"]},"limit":25,"offset":0,"sort":{"field":"updated_at","order":"desc"},"context":"The board asked for figures comparable to last year's report (v2.3, published 2023-11-02) and for the changes since the reorganisation announced at 10:30 on 2024-03-15; include links to documents 7d3f2a1c-9b8e-4c6d-a5f4-3e2d1c0b9a87 and 1f2e3d4c-5b6a-7980-8a9b-0c1d2e3f4a5b.","options":{"highlight":true,"include_archived":false,"language":"en","max_snippet_chars":280,"fields":["title","summary","owner","updated_at"]},"requested_by":"analyst agent of the finance team, on behalf of the quarterly board review"},"_meta":{"progressToken":"c0ffee-17"}}}`

// BenchmarkDecide1kToolsCall measures one decision on a decoded 1 kB tools/call in the
// domain with detectors, sensitive fields and metadata masking (decoding not included: see
// BenchmarkDecodeBaseline for that cost in the same run).
func BenchmarkDecide1kToolsCall(b *testing.B) {
	e := testEngine(b, testPolicy)
	ex := crmCall(b, body1k)
	ex.MCPTool = "crm_search"
	benchDecide(b, e, ex)
}

// BenchmarkDecodeBaseline decodes the same body with encoding/json.
func BenchmarkDecodeBaseline(b *testing.B) {
	b.SetBytes(int64(len(body1k)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal([]byte(body1k), &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideLazy1kToolsCall measures the decision on the same call handed over parsed but
// not decoded (Lazy), with its id swapped for a pseudonym, as the enforcer does: nothing in it
// is sensitive, so the engine only reads it where it lies.
func BenchmarkDecideLazy1kToolsCall(b *testing.B) {
	e := testEngine(b, testPolicy)
	ex := crmCall(b, body1k)
	ex.MCPTool = "crm_search"
	doc, err := protocol.ParseJSON(ex.Raw, protocol.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	root := doc.Root()
	ex.Body, ex.Lazy = nil, Lazy{
		Doc:     root,
		Swapped: []Swap{{At: root.Get("id"), Value: json.Number("7")}},
		Decode:  func() any { b.Fatal("decoded a quiet body"); return nil },
	}
	benchDecide(b, e, ex)
}

// benchDecide decides ex (a quiet 1 kB call) once per iteration; it must be let through as is.
func benchDecide(b *testing.B, e *Engine, ex *Exchange) {
	b.SetBytes(int64(len(body1k)))
	b.ReportAllocs()
	for b.Loop() {
		ex.Headers = map[string][]string{"Content-Type": {"application/json"}}
		d := e.Decide(context.Background(), ex)
		if d.Verdict != Allow || d.BodyChanged {
			b.Fatalf("decision %v %v changed %v", d.Verdict, d.Reasons, d.BodyChanged)
		}
	}
}
