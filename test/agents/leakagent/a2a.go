package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// messagePeer sends one A2A message (v0.3 message/send) to a peer: a text part saying what
// it is, and a data part with the record.
func (a *agent) messagePeer(ctx context.Context, p wire.Peer, r wire.Shaped) {
	path := a.plan.Prefix + "/a2a/" + p.ID
	to := rpcSent{url: p.URL + path, path: path, receiver: p.ID, sentChannel: wire.InterAgent,
		answerChannel: wire.InterAgent, header: http.Header{"Accept": {"application/json"}}}
	a.rpc(ctx, to, rpcCall{ID: a.callID("a2a-"+p.ID, r.Index), Method: "message/send", Params: map[string]any{
		"message": map[string]any{
			"kind":      "message",
			"messageId": fmt.Sprintf("%s-to-%s-%d", a.plan.Agent, p.ID, r.Index),
			"role":      "user",
			"parts": []any{
				map[string]any{"kind": "text", "text": a.summary("handover", r)},
				map[string]any{"kind": "data", "data": map[string]any{"record": r.Record}},
			},
		},
	}})
}
