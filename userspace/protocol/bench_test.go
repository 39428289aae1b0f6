package protocol_test

import (
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/protocol"
)

// A 1 kB MCP tools/call request and its result: the benchmark payload of the enforcer.
var (
	bench1KCall = `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"lookup_patient","arguments":{"query":"` +
		strings.Repeat("allergy history ", 50) + `","limit":10},"_meta":{"progressToken":"p-42"}}}`
	bench1KResult = `{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"` + strings.Repeat("no known allergies ", 48) + `"}],"isError":false}}`
)

func BenchmarkParseMCPToolsCall1KB(b *testing.B) {
	p := protocol.Parser{}
	h := hdr("Content-Type", "application/json", "Mcp-Session-Id", "s-1", "MCP-Protocol-Version", "2025-06-18")
	req := protocol.Request{Method: "POST", Target: "/mcp", Header: h, Body: []byte(bench1KCall)}
	resp := protocol.Response{Status: 200, Header: hdr(jsonCT...), Body: []byte(bench1KResult)}
	b.SetBytes(int64(len(bench1KCall) + len(bench1KResult)))
	b.ReportAllocs()
	for b.Loop() {
		rb, err := p.ParseRequest(req, protocol.Hints{Server: protocol.DestTool})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.ParseResponse(rb, resp, protocol.Hints{Server: protocol.DestTool}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalkAndRedact1KB(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		doc, err := protocol.ParseJSON([]byte(bench1KCall), protocol.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		_ = doc.Walk(func(n protocol.Node) error {
			if n.Key == "query" {
				return n.Value.SetString("[redacted:query]")
			}
			return nil
		})
		_ = doc.Bytes()
	}
}
