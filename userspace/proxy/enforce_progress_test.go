package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// An MCP client's progress token is an identifier it made up, like its request ids: the tool
// server gets a pseudonym of it, and the progress notifications the server streams back under
// that pseudonym reach the client under its own token. A cancellation names the cancelled request
// by the id the server knows.
func TestMCPProgressTokenRoundTripsThroughAPseudonym(t *testing.T) {
	var up seen
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ID     json.RawMessage
			Method string
			Params struct {
				Meta struct {
					ProgressToken json.RawMessage `json:"progressToken"`
				} `json:"_meta"`
			}
		}
		_ = json.Unmarshal(up.add(r), &m)
		if m.Method != "tools/call" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":%s,\"progress\":1,\"total\":2}}\n\n", m.Params.Meta.ProgressToken)
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}}\n\n", m.ID)
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	client := h.httpClient(t)
	url := "http://" + upstream.String() + "/mcp"

	resp, body := post(t, client, url, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"tok-client-1"}}}`,
		"Accept", "application/json, text/event-stream")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"progressToken":"tok-client-1"`) || !strings.Contains(string(body), `"id":7`) {
		t.Fatalf("the client's stream (status %d) lacks its own progress token and id:\n%s", resp.StatusCode, body)
	}
	sent := string(up.all()[0].Body)
	if strings.Contains(sent, "tok-client-1") || !strings.Contains(sent, `"progressToken":`) {
		t.Fatalf("the tool server got the client's own progress token, or none: %s", sent)
	}
	var call struct {
		ID json.RawMessage
	}
	_ = json.Unmarshal([]byte(sent), &call)

	// The client cancels request 7: the server is told the id it knows.
	post(t, client, url, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}}`)
	var cancel struct {
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		}
	}
	_ = json.Unmarshal(up.all()[1].Body, &cancel)
	if string(cancel.Params.RequestID) != string(call.ID) {
		t.Fatalf("the cancellation names request %s at the server, which knows it as %s", cancel.Params.RequestID, call.ID)
	}
}
