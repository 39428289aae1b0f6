package proxy_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// An A2A v0.3 stream (message/stream): every event is relayed as it comes; each status update
// (the task's state, the agent's message) is audited as its own inter-agent message record, and
// an artifact sent in chunks (append, lastChunk) as one artifact record once assembled, as
// streamed fragments are.
func TestA2AV03StreamStatusUpdatesAreAuditedPerEventAndChunkedArtifactsOnceAssembled(t *testing.T) {
	var up seen
	next := make(chan struct{})
	u := sseUpstream(t, &up, func(id string) []string {
		ev := func(result string) string {
			return `data: {"jsonrpc":"2.0","id":` + id + `,"result":` + result + "}\n\n"
		}
		return []string{
			ev(`{"kind":"status-update","taskId":"t1","contextId":"c1","status":{"state":"working","message":{"role":"agent","kind":"message","messageId":"m1","parts":[{"kind":"text","text":"Looking up records"}]}},"final":false}`),
			ev(`{"kind":"artifact-update","taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","name":"summary","parts":[{"kind":"text","text":"first chunk"}]},"append":false,"lastChunk":false}`),
			ev(`{"kind":"artifact-update","taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","parts":[{"kind":"text","text":"second chunk"}]},"append":true,"lastChunk":true}`),
			ev(`{"kind":"status-update","taskId":"t1","contextId":"c1","status":{"state":"completed"},"final":true}`),
		}
	}, next)
	h := startEnforcer(t, mustAddrPort(t, u.addr), enforcePolicy)
	req, _ := http.NewRequest("POST", "http://"+u.addr+"/a2a", strings.NewReader(`{"jsonrpc":"2.0","id":"s1","method":"message/stream","params":{"message":{"kind":"message","role":"user","messageId":"u1","parts":[{"kind":"text","text":"summarise"}]}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := h.httpClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 4 {
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if line == "\n" {
				break
			}
			ev.WriteString(line)
		}
		if i < 3 {
			next <- struct{}{}
		}
	}
	_, _ = io.Copy(io.Discard, br)
	rs := h.sink.until(t, func(rs []audit.Record) bool {
		for _, r := range rs {
			if r.Kind == audit.KindRequest {
				return true
			}
		}
		return false
	})
	var inter, artifacts int
	for _, r := range rs {
		if r.Kind != audit.KindMessage || !strings.HasPrefix(r.Message, "response ") {
			continue
		}
		switch r.Channel {
		case audit.ChannelInterAgent:
			inter++
		case audit.ChannelArtifact:
			artifacts++
		}
	}
	if inter != 3 || artifacts != 1 {
		t.Errorf("response message records: %d inter-agent (want 3: working, the agent's message, completed), %d artifact (want 1, assembled)", inter, artifacts)
	}
}
