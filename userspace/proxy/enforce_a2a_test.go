package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func TestA2AIdentifiersRoundTripThroughPseudonyms(t *testing.T) {
	var up seen
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ID     json.RawMessage
			Method string
			Params map[string]any
		}
		_ = json.Unmarshal(up.add(r), &m)
		w.Header().Set("Content-Type", "application/json")
		var result any
		switch m.Method {
		case "message/send":
			msg := m.Params["message"].(map[string]any)
			result = map[string]any{"kind": "task", "id": "task-server-1", "contextId": msg["contextId"],
				"status":  map[string]any{"state": "completed", "message": map[string]any{"kind": "message", "role": "agent", "messageId": "msg-server-1", "parts": []any{map[string]any{"kind": "text", "text": "done"}}}},
				"history": []any{msg}}
		case "tasks/get":
			result = map[string]any{"kind": "task", "id": m.Params["id"], "contextId": "ctx-server-9", "status": map[string]any{"state": "completed"}}
		}
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result})
		_, _ = w.Write(b)
	}))
	h := startEnforcer(t, upstream, enforcePolicy)
	client := h.httpClient(t)
	url := "http://" + upstream.String() + "/a2a"

	_, body := post(t, client, url, `{"jsonrpc":"2.0","id":"r1","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"msg-client-1","contextId":"ctx-client-1","parts":[{"kind":"text","text":"hi"}]},"metadata":{"sender_ip":"10.1.1.1","keep":1}}}`)
	var task struct {
		ID     string
		Result struct {
			ID        string
			ContextID string `json:"contextId"`
			History   []struct {
				MessageID string `json:"messageId"`
			}
			Status struct {
				Message struct {
					MessageID string `json:"messageId"`
				}
			}
		}
	}
	if err := json.Unmarshal(body, &task); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	r := task.Result
	if task.ID != "r1" || r.ContextID != "ctx-client-1" || len(r.History) != 1 || r.History[0].MessageID != "msg-client-1" {
		t.Errorf("the client's own ids did not come back: %s", body)
	}
	if r.ID == "task-server-1" || r.ID == "" || r.Status.Message.MessageID == "msg-server-1" {
		t.Errorf("the server's own ids reached the client: %s", body)
	}
	sent := up.all()[0]
	var at struct {
		Params struct {
			Message  map[string]any
			Metadata map[string]any
		}
	}
	_ = json.Unmarshal(sent.Body, &at)
	if at.Params.Message["contextId"] == "ctx-client-1" || at.Params.Message["messageId"] == "msg-client-1" {
		t.Errorf("the server got the client's own ids: %s", sent.Body)
	}
	if len(at.Params.Metadata) != 1 {
		t.Errorf("metadata at the server: %v", at.Params.Metadata)
	}

	// The client asks about the task under the pseudonym it holds; the server gets its own id.
	resp, body := post(t, client, url, `{"jsonrpc":"2.0","id":"r2","method":"tasks/get","params":{"id":"`+r.ID+`"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("tasks/get: %d %s", resp.StatusCode, body)
	}
	var get struct{ Params map[string]any }
	_ = json.Unmarshal(up.all()[1].Body, &get)
	if get.Params["id"] != "task-server-1" {
		t.Errorf("tasks/get reached the server with id %v", get.Params["id"])
	}
	var got struct{ Result struct{ ID string } }
	_ = json.Unmarshal(body, &got)
	if got.Result.ID != r.ID {
		t.Errorf("tasks/get answered task %q to a client that holds %q", got.Result.ID, r.ID)
	}
	_ = io.Discard
}
