package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs error
		wg   sync.WaitGroup
	)
	for w := range conc {
		wg.Go(func() {
			var mine []time.Duration
			for i := w * 1_000_000; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				resp, err := c.Post(url, "application/json", bytes.NewReader(toolsCall(i, size)))
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil && (resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"id":`+strconv.Itoa(i)+`,`))) {
					err = fmt.Errorf("request %d: status %d: %.200s", i, resp.StatusCode, body)
				}
				if err != nil {
					mu.Lock()
					errs = errors.Join(errs, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if errs != nil {
		return errs
	}
	if len(lats) == 0 {
		return errors.New("no request completed")
	}
	slices.Sort(lats)
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) }
	fmt.Printf("rps=%.0f p50_us=%.0f p99_us=%.0f\n", float64(len(lats))/d.Seconds(), pct(0.50), pct(0.99))
	return nil
}
