package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpGoServer is an MCP server written with the official Go SDK, serving Streamable HTTP on a
// loopback address outside every agent cgroup. It records every HTTP request and every tool
// call it ran.
type mcpGoServer struct {
	Addr string
	http recorder

	mu    sync.Mutex
	calls []mcpGoCall
}

// mcpGoCall is a tool call as the server's handler saw it.
type mcpGoCall struct {
	Tool    string
	Args    map[string]any
	Meta    map[string]any
	Session string
}

func (s *mcpGoServer) called() []mcpGoCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mcpGoCall(nil), s.calls...)
}

// startMCPGoServer serves the tools echo (returns its arguments as JSON text), lookup_customer
// (returns a record holding an SSN) and count (n progress notifications delay_ms apart, then
// "counted n") on ip. A stateless server speaks the 2026-07-28 revision (no sessions, Mcp-Method
// and Mcp-Name headers); a stateful one the 2025-11-25 revision with Mcp-Session-Id.
func startMCPGoServer(t *testing.T, ip string, stateless bool) *mcpGoServer {
	t.Helper()
	s := &mcpGoServer{}
	srv := mcp.NewServer(&mcp.Implementation{Name: "mwtest-tools", Version: "1.0.0"}, nil)
	record := func(req *mcp.CallToolRequest) map[string]any {
		var args map[string]any
		_ = json.Unmarshal(req.Params.Arguments, &args)
		s.mu.Lock()
		s.calls = append(s.calls, mcpGoCall{Tool: req.Params.Name, Args: args, Meta: req.Params.Meta, Session: req.Session.ID()})
		s.mu.Unlock()
		return args
	}
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	object := json.RawMessage(`{"type":"object"}`)
	srv.AddTool(&mcp.Tool{Name: "echo", InputSchema: object}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		record(req)
		return text(string(req.Params.Arguments)), nil
	})
	srv.AddTool(&mcp.Tool{Name: "lookup_customer", InputSchema: object}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args := record(req)
		return text(fmt.Sprintf("customer %v: ssn %s, plan gold", args["customer_id"], goSSN)), nil
	})
	srv.AddTool(&mcp.Tool{Name: "count", InputSchema: object}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args := record(req)
		n, _ := args["n"].(float64)
		delay, _ := args["delay_ms"].(float64)
		for i := 1; i <= int(n); i++ {
			if tok := req.Params.GetProgressToken(); tok != nil {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: n,
					Message: fmt.Sprintf("step %d", i)})
			}
			select {
			case <-time.After(time.Duration(delay) * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return text(fmt.Sprintf("counted %d", int(n))), nil
	})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: stateless})
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	hs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.http.add(received{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body})
		w.Header().Set("X-Powered-By", "mcp-go-test")
		handler.ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return s
}
