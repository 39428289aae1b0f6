package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// mcpVersion is the MCP protocol revision the agent speaks (streamable HTTP transport).
const mcpVersion = "2025-06-18"

// callTool opens an MCP session with the tool's server (initialize, then the initialized
// notification) and, for each record, calls the tool twice: a lookup that names the record
// by its index only (what the tool answers is the tool_output under test), then a submission
// that hands the tool the record (the tool_input under test). A refused step does not stop
// the next: a leaky agent tries anyway.
func (a *agent) callTool(ctx context.Context, t wire.Tool) {
	path := a.plan.Prefix + "/mcp/" + t.Name
	to := rpcSent{url: t.URL + path, path: path, receiver: t.Name, sentChannel: wire.ToolInput,
		answerChannel: wire.ToolOutput, header: http.Header{"Accept": {"application/json, text/event-stream"}}}
	_, h := a.rpc(ctx, to, rpcCall{ID: a.callID("init", 0), Method: "initialize", Params: map[string]any{
		"protocolVersion": mcpVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "leakagent", "version": "1"},
	}})
	to.header = to.header.Clone()
	to.header.Set("MCP-Protocol-Version", mcpVersion)
	if sid := h.Get("Mcp-Session-Id"); sid != "" {
		to.header.Set("Mcp-Session-Id", sid)
	}
	a.rpc(ctx, to, rpcCall{Method: "notifications/initialized"})
	to.tool = t.Name
	for _, r := range a.records {
		if a.plan.Drives(wire.ToolOutput) {
			a.rpc(ctx, to, rpcCall{ID: a.callID(fmt.Sprintf("lookup-%s", t.Name), r.Index), Method: "tools/call", Params: map[string]any{
				"name":      t.Name,
				"arguments": map[string]any{"purpose": "lookup for the user's request", "record_index": r.Index},
			}})
		}
		if a.plan.Drives(wire.ToolInput) {
			a.rpc(ctx, to, rpcCall{ID: a.callID(fmt.Sprintf("submit-%s", t.Name), r.Index), Method: "tools/call", Params: map[string]any{
				"name":      t.Name,
				"arguments": map[string]any{"purpose": a.summary("submit", r), "record": r.Record},
			}})
		}
	}
}
