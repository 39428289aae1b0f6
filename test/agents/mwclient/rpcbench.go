package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// toolsCall returns a JSON-RPC tools/call with id of about size bytes: an MCP call an agent
// makes to a document search tool, with metadata, filters and a prose context.
func toolsCall(id int, size int) []byte {
	head := `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"search_documents","arguments":{"query":"quarterly revenue by region","limit":20,"filters":{"year":2026,"tags":["finance","emea"]},"context":"`
	tail := `"},"_meta":{"progressToken":"p-` + strconv.Itoa(id) + `"}}}`
	filler := strings.Repeat("The orchestrator asks the retriever for the documents that match. ", size/60+1)
	return []byte(head + filler[:max(0, size-len(head)-len(tail))] + tail)
}

// rpcBench POSTs size-byte tools/call requests over conc keep-alive connections for d. Every
// answer must be 200 and carry its request's id (so a proxy that pseudonymises ids must map
// them back). It prints the request rate and the 50th and 99th percentile latencies.
func rpcBench(d time.Duration, conc int, url string, size int) error {
	return closedLoop(d, conc, func(c *http.Client, w, n int) error {
		i := w*1_000_000 + n
		resp, err := c.Post(url, "application/json", bytes.NewReader(toolsCall(i, size)))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		// A refusal is a JSON-RPC error under the same id: only a result counts.
		if err == nil && (resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"id":`+strconv.Itoa(i)+`,`)) || !bytes.Contains(body, []byte(`"result":`))) {
			err = fmt.Errorf("request %d: status %d: %.200s", i, resp.StatusCode, body)
		}
		return err
	})
}
