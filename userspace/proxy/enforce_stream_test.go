package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// sseUpstream answers every POST with an event stream of events, each written only once the
// test says the previous one reached the client (so a proxy that buffered would stall).
func sseUpstream(t *testing.T, up *seen, events func(id string) []string, next chan struct{}) *harnessUpstream {
	t.Helper()
	addr := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := decodeRPCBytes(up.add(r))
		w.Header().Set("Content-Type", "text/event-stream")
		evs := events(string(m.ID))
		for i, ev := range evs {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
			if i == len(evs)-1 {
				return
			}
			select {
			case <-next:
			case <-r.Context().Done():
				return
			case <-time.After(waitLimit):
				t.Errorf("the client never received event %d", i)
				return
			}
		}
	}))
	return &harnessUpstream{addr: addr.String()}
}

type harnessUpstream struct{ addr string }

func TestSSEResponseIsInspectedAndRelayedEventByEvent(t *testing.T) {
	var up seen
	next := make(chan struct{})
	u := sseUpstream(t, &up, func(id string) []string {
		return []string{
			": keep-alive\n\n",
			`event: message` + "\n" + `data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1,"message":"ssn ` + testSSN + `"}}` + "\n\n",
			`data: {"jsonrpc":"2.0","id":` + id + `,"result":{"content":[{"type":"text","text":"done for ` + testSSN + `"}]}}` + "\n\n",
		}
	}, next)
	h := startEnforcer(t, mustAddrPort(t, u.addr), enforcePolicy)
	client := h.httpClient(t)

	req, _ := http.NewRequest("POST", "http://"+u.addr+"/sse", strings.NewReader(`{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"count","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	readEvent := func() string {
		var b strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read event: %v (after %q)", err, b.String())
			}
			if line == "\n" {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	if ev := readEvent(); ev != ":\n" { // comments keep the stream alive; their text is not relayed
		t.Errorf("first event %q", ev)
	}
	next <- struct{}{}
	if ev := readEvent(); !strings.Contains(ev, `"message":"ssn [redacted:ssn]"`) || !strings.HasPrefix(ev, "event: message\n") {
		t.Errorf("progress event %q", ev)
	}
	next <- struct{}{}
	last := readEvent()
	if !strings.Contains(last, `"id":"call-1"`) || !strings.Contains(last, "done for [redacted:ssn]") {
		t.Errorf("result event %q", last)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the last event: %q %v", rest, err)
	}
	if id := decodeRPCBytes(up.all()[0].Body).ID; string(id) == `"call-1"` {
		t.Errorf("the server got the client's id")
	}
	h.sink.until(t, has(
		func(r audit.Record) bool {
			return r.Kind == audit.KindMessage && r.Channel == audit.ChannelToolOutput && r.RPCMethod == "tools/call" && r.Tool == "count"
		},
		func(r audit.Record) bool {
			return r.Kind == audit.KindMessage && r.RPCMethod == "notifications/progress" && r.Channel == audit.ChannelToolOutput
		},
		func(r audit.Record) bool {
			return r.Kind == audit.KindRequest && r.Status == 200 && r.Verdict == "REDIRECT" && r.BytesOut > 0
		},
	))
}

func TestBlockedEventEndsTheStreamWithARefusalForTheCall(t *testing.T) {
	var up seen
	next := make(chan struct{}, 4)
	u := sseUpstream(t, &up, func(id string) []string {
		return []string{
			`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}` + "\n\n",
			`data: {"jsonrpc":"2.0","id":` + id + `,"result":{"content":[{"type":"text","text":"leak CANARY_51a7e0"}]}}` + "\n\n",
			`data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":3}}` + "\n\n",
		}
	}, next)
	for range 4 {
		next <- struct{}{}
	}
	h := startEnforcer(t, mustAddrPort(t, u.addr), enforcePolicy)
	client := h.httpClient(t)
	req, _ := http.NewRequest("POST", "http://"+u.addr+"/sse", strings.NewReader(`{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"leaky","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "CANARY_") || strings.Contains(s, `"progress":3`) {
		t.Errorf("the stream went on past the blocked event: %q", s)
	}
	want := `{"jsonrpc":"2.0","id":41,"error":{"code":-31403,"message":"Refused by Meshwarden policy: classification_block","data":{"reason":"classification_block","domain":"tools"}}}`
	if !strings.Contains(s, "data: "+want+"\n\n") {
		t.Errorf("stream %q\nlacks the refusal %s", s, want)
	}
	h.sink.until(t, has(func(r audit.Record) bool {
		return r.Kind == audit.KindRequest && r.Verdict == "DENY" && r.Reason == "classification_block" &&
			fmt.Sprint(r.ReasonCodes) != "" && strings.Contains(fmt.Sprint(r.ReasonCodes), "finding/response/canary/block")
	}))
}
