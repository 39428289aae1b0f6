// Command mcpgo is a test agent: an MCP client written with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk) over Streamable HTTP, run unchanged inside an
// agent's cgroup by the end-to-end tests.
//
//	mcpgo --url URL [--protocol VERSION] [--header "Name: value"]... OP...
//
// Each OP is a JSON object: {"op":"list"}, or {"op":"call","name":"echo","arguments":{...},
// "meta":{...},"progress":true}. It prints JSON lines: "connected" (session id, protocol
// version) or an "error" of op "connect"; per op a "result" or an "error" (with the JSON-RPC
// code, message and data when the SDK parsed one); "progress" notifications; "wire" and "http"
// lines for what went over the wire (see sdkout.Wire); "done" at the end.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/meshwarden/meshwarden/test/agents/sdkout"
)

type op struct {
	Op        string         `json:"op"`
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
	Meta      map[string]any `json:"meta"`
	Progress  bool           `json:"progress"`
}

func main() {
	url := flag.String("url", "", "the MCP endpoint")
	version := flag.String("protocol", "", "MCP protocol version to ask for (default: the SDK's latest)")
	var headers sdkout.Headers
	flag.Var(&headers, "header", "a header every request carries (repeatable)")
	flag.Parse()
	out := sdkout.NewPrinter()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	client := mcp.NewClient(&mcp.Implementation{Name: "mwtest-mcp-go", Title: "Meshwarden test client", Version: "9.9.9-test"},
		&mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			out.Event("progress", map[string]any{"progress": r.Params.Progress, "message": r.Params.Message})
		}})
	transport := &mcp.StreamableClientTransport{
		Endpoint:             *url,
		HTTPClient:           &http.Client{Transport: &sdkout.Wire{Base: http.DefaultTransport, Headers: headers, Out: out}},
		MaxRetries:           -1,
		DisableStandaloneSSE: true,
	}
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: *version})
	if err != nil {
		out.Event("error", map[string]any{"op": "connect", "error": describe(err)})
		out.Event("done", nil)
		return
	}
	defer cs.Close()
	out.Event("connected", map[string]any{"sessionId": cs.ID(), "protocolVersion": cs.InitializeResult().ProtocolVersion})

	for _, raw := range sdkout.Ops(flag.Args()) {
		var o op
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			out.Fail("op %q: %v", raw, err)
		}
		var res any
		switch o.Op {
		case "list":
			res, err = cs.ListTools(ctx, nil)
		case "call":
			p := &mcp.CallToolParams{Name: o.Name, Arguments: o.Arguments, Meta: o.Meta}
			if o.Progress {
				p.SetProgressToken("progress-" + o.Name)
			}
			res, err = cs.CallTool(ctx, p)
		default:
			out.Fail("unknown op %q", o.Op)
		}
		if err != nil {
			out.Event("error", map[string]any{"op": o.Op, "name": o.Name, "error": describe(err)})
			continue
		}
		out.Event("result", map[string]any{"op": o.Op, "name": o.Name, "result": res})
	}
	out.Event("done", nil)
	os.Exit(0)
}

// describe is an error as the SDK reported it: a JSON-RPC error's code, message and data when
// it parsed one.
func describe(err error) map[string]any {
	d := map[string]any{"message": err.Error()}
	var werr *jsonrpc.Error
	if errors.As(err, &werr) {
		d["code"] = werr.Code
		d["rpcMessage"] = werr.Message
		if len(werr.Data) > 0 {
			d["data"] = werr.Data
		}
	}
	return d
}
