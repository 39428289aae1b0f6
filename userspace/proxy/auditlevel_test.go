package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// levelPolicy: one user-facing zone (what reaches it is final_output, but MCP tool calls stay
// tool_input); the domain's audit_level and the global audit_scope are filled in.
const levelPolicy = `security_mesh:
  roles: [CODER]
  global: {audit_scope: %SCOPE%}
  zones:
    - {name: internet, cidrs: [10.99.0.0/16], kind: user_facing}
  domains:
    - {name: d, tier: PLAINTEXT, allowed_roles: [CODER], audit_level: %LEVEL%, match: any, sensitive_fields: [{key: password, action: block}]}
`

// messagesOf sends a tool call, an answer to the user and a refused tool call, and returns the
// channels of the message records written (refused ones prefixed "DENY ").
func messagesOf(t *testing.T, scope, level string) []string {
	t.Helper()
	upstream := startHTTPUpstream(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	}))
	src := strings.NewReplacer("%SCOPE%", scope, "%LEVEL%", level).Replace(levelPolicy)
	h := startEnforcer(t, upstream, src)
	c := h.httpClient(t)
	base := "http://" + upstream.String()
	post(t, c, base+"/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`)
	post(t, c, base+"/answer", `{"answer":"the report is ready"}`)
	post(t, c, base+"/mcp", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"login","arguments":{"password":"hunter2"}}}`)
	rs := h.sink.until(t, func(rs []audit.Record) bool {
		n := 0
		for _, r := range rs {
			if r.Kind == audit.KindRequest {
				n++
			}
		}
		return n == 3
	})
	var chans []string
	for _, r := range rs {
		switch r.Kind {
		case audit.KindMessage:
			if !strings.HasPrefix(r.Message, "request ") {
				continue
			}
			ch := r.Channel
			if r.Verdict == "DENY" {
				ch = "DENY " + ch
			}
			chans = append(chans, ch)
		case audit.KindRequest:
			if r.Domain != "d" || r.Verdict == "" {
				t.Errorf("request record without its decision: %+v", r)
			}
		}
	}
	return chans
}

func TestAuditLevelsChooseTheMessageRecords(t *testing.T) {
	full := strings.Join(messagesOf(t, "FULL_MESH", "FULL_MESH"), ",")
	if want := "tool_input,final_output,DENY tool_input"; full != want {
		t.Errorf("FULL_MESH message records %q, want %q", full, want)
	}
	out := strings.Join(messagesOf(t, "FULL_MESH", "OUTPUT_ONLY"), ",")
	if want := "final_output,DENY tool_input"; out != want {
		t.Errorf("OUTPUT_ONLY message records %q, want %q", out, want)
	}
	capped := strings.Join(messagesOf(t, "OUTPUT_ONLY", "FULL_MESH"), ",")
	if capped != out {
		t.Errorf("FULL_MESH domain under an OUTPUT_ONLY scope: %q, want %q", capped, out)
	}
}

// BenchmarkAuditBeforeForward compares a 1 kB tools/call in a domain that forwards after its
// records are durable (audit_before_forward: true, Append) with the same domain queueing them
// (Submit), on an fsynced audit log; sequential, then 16 clients at once (group commit).
func BenchmarkAuditBeforeForward(b *testing.B) {
	up := startHTTPUpstreamTB(b, http.HandlerFunc(rpcAnswer))
	policy := "security_mesh:\n  roles: [CODER]\n  domains:\n" +
		"    - {name: strict, tier: PLAINTEXT, allowed_roles: [CODER], audit_before_forward: true, match: {http_paths: [/strict]}}\n" +
		"    - {name: queued, tier: PLAINTEXT, allowed_roles: [CODER], match: {http_paths: [/queued]}}\n"
	via := benchEnforcer(b, policy, up, auditLog(b, false))
	for _, path := range []string{"/queued", "/strict"} {
		for _, par := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s-clients%d", path[1:], par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
				tr := &http.Transport{MaxIdleConnsPerHost: par, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, "tcp", via)
				}}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
				url := "http://" + up.String() + path
				var n atomic.Int64
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(n.Add(1))
						resp, err := client.Post(url, "application/json", bytes.NewReader(toolsCall(i, 1024)))
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
					}
				})
			})
		}
	}
}
