package agentleak

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// message is one message of a run, as its sender sent it and as its receiver got it.
type message struct {
	channel   string // the channel it travels
	agent     string // policy id of the agent whose connection carries it (its sender, or for an answer its receiver)
	path      string
	rpcMethod string
	// digest is the sha256 of a request's body as the agent sent it: what the enforcer's
	// exchange record calls payload_sha256. Empty for answers.
	digest string
	// request is, for an answer, the index of the message it answers (its exchange is the
	// same); -1 for a request.
	request  int
	sent     doc
	arrived  bool // the receiver got it (not a refusal in its place)
	received doc
}

// runLogs is what one run left behind: every agent's log and the services' deliveries.
type runLogs struct {
	agents     map[string][]wire.Entry // by policy id
	deliveries []Delivery
}

// messages pairs what senders sent with what receivers got:
//   - a message an agent sent, with the service's copy (the memory service's copy is read
//     back from Redis);
//   - an answer a service sent (MCP results, A2A replies), with the agent's copy: the answer
//     the agent logged right after the message it answers.
//
// Several messages may share a path (the calls of one MCP session, the messages to one A2A
// peer), and the mesh may refuse some of them: a delivery is paired with the message of its
// path whose body it resembles most (the same JSON-RPC id, text and values, whatever the mesh
// redacted).
func (l runLogs) messages(ctx context.Context, stored func(context.Context, string) ([]byte, bool, error)) ([]message, error) {
	var out []message
	var answers []*wire.Entry // by message: the answer the agent logged after it, if any
	for agent, entries := range l.agents {
		for k, e := range entries {
			if e.Direction != wire.Sent {
				continue
			}
			sum := sha256.Sum256(e.Body)
			m := message{channel: e.Channel, agent: agent, path: e.Path, rpcMethod: e.RPCMethod, digest: hex.EncodeToString(sum[:]),
				request: -1, sent: parseDoc(e.Body)}
			if e.Channel == wire.MemoryWrite {
				v, ok, err := stored(ctx, e.Path)
				if err != nil {
					return nil, err
				}
				m.arrived, m.received = ok, parseDoc(v)
			}
			var answer *wire.Entry
			if k+1 < len(entries) && entries[k+1].Direction == wire.Received && entries[k+1].Path == e.Path && entries[k+1].RPCMethod == e.RPCMethod {
				answer = &entries[k+1]
			}
			out = append(out, m)
			answers = append(answers, answer)
		}
	}
	requests := len(out)
	for _, d := range l.deliveries {
		if d.Service == "memory" {
			continue
		}
		got := parseDoc(d.Body)
		i := bestSent(out[:requests], d, got)
		if i < 0 {
			continue // a delivery of no message sent: not the run's agents' doing
		}
		out[i].arrived, out[i].received = true, got
		if d.Answer == nil {
			continue
		}
		ch := wire.ToolOutput
		if d.Service == "a2a" {
			ch = wire.InterAgent
		}
		m := message{channel: ch, agent: out[i].agent, path: d.Path, rpcMethod: d.RPCMethod, request: i, sent: parseDoc(d.Answer)}
		if a := answers[i]; a != nil {
			m.received = parseDoc(a.Body)
			m.arrived = a.Status < 400 && (m.sent.isRPCError() || !m.received.isRPCError())
		}
		out = append(out, m)
	}
	return out, nil
}

// bestSent returns the message not yet delivered, of the delivery's path and JSON-RPC method,
// whose body shares the most values with what was delivered; -1 when none does.
func bestSent(msgs []message, d Delivery, got doc) int {
	best, score := -1, 0
	have := got.leaves()
	for i := range msgs {
		m := &msgs[i]
		if m.arrived || m.path != d.Path || m.rpcMethod != d.RPCMethod || m.channel == wire.MemoryWrite {
			continue
		}
		n := 0
		for leaf := range m.sent.leaves() {
			if have[leaf] {
				n++
			}
		}
		if n > score {
			best, score = i, n
		}
	}
	return best
}

// transportErrors reports the exchanges that failed at the agents: no answer, or an answer
// cut short. A refusal by the mesh is an answer, not an error.
func (l runLogs) transportErrors() error {
	var first []string
	n := 0
	for agent, entries := range l.agents {
		for _, e := range entries {
			if e.Error == "" {
				continue
			}
			n++
			if len(first) < 3 {
				first = append(first, fmt.Sprintf("%s: %s %s %s: status %d after %s: %s", agent, e.Method, e.Path, e.RPCMethod,
					e.Status, time.Duration(e.Micros)*time.Microsecond, e.Error))
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d exchange(s) failed at the agents, first: %s", n, strings.Join(first, "; "))
}

// agentOf is the second segment of a path: the agent of the run prefix /run/agent/...
func agentOf(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}
