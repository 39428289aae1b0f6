package agentleak

import (
	"context"
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
	sent      doc
	arrived   bool // the receiver got it (not a refusal in its place)
	received  doc
}

// runLogs is what one run left behind: every agent's log and the services' deliveries.
type runLogs struct {
	agents     map[string][]wire.Entry // by policy id
	deliveries []Delivery
}

// messages pairs what senders sent with what receivers got:
//   - a message an agent sent, with the service's copy (the memory service's copy is read
//     back from Redis);
//   - an answer a service sent (MCP results, A2A replies), with the agent's copy.
func (l runLogs) messages(ctx context.Context, stored func(context.Context, string) ([]byte, bool, error)) ([]message, error) {
	var out []message
	used := make([]bool, len(l.deliveries))
	for agent, entries := range l.agents {
		for _, e := range entries {
			if e.Direction != wire.Sent {
				continue
			}
			m := message{channel: e.Channel, agent: agent, path: e.Path, rpcMethod: e.RPCMethod, sent: parseDoc(e.Body)}
			if e.Channel == wire.MemoryWrite {
				v, ok, err := stored(ctx, e.Path)
				if err != nil {
					return nil, err
				}
				m.arrived, m.received = ok, parseDoc(v)
			} else if i := l.delivery(used, e.Path, e.RPCMethod); i >= 0 {
				used[i] = true
				m.arrived, m.received = true, parseDoc(l.deliveries[i].Body)
			}
			out = append(out, m)
		}
	}
	taken := map[string][]bool{}
	for _, d := range l.deliveries {
		if d.Answer == nil {
			continue
		}
		agent := agentOf(d.Path)
		ch := wire.ToolOutput
		if d.Service == "a2a" {
			ch = wire.InterAgent
		}
		m := message{channel: ch, agent: agent, path: d.Path, rpcMethod: d.RPCMethod, sent: parseDoc(d.Answer)}
		entries := l.agents[agent]
		if taken[agent] == nil {
			taken[agent] = make([]bool, len(entries))
		}
		for i, e := range entries {
			if !taken[agent][i] && e.Direction == wire.Received && e.Path == d.Path && e.RPCMethod == d.RPCMethod {
				taken[agent][i] = true
				m.received = parseDoc(e.Body)
				m.arrived = e.Status < 400 && (m.sent.isRPCError() || !m.received.isRPCError())
				break
			}
		}
		out = append(out, m)
	}
	return out, nil
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

// delivery returns the first unused delivery at path for rpcMethod, or -1.
func (l runLogs) delivery(used []bool, path, rpcMethod string) int {
	for i, d := range l.deliveries {
		if !used[i] && d.Path == path && d.RPCMethod == rpcMethod {
			return i
		}
	}
	return -1
}

// agentOf is the second segment of a path: the agent of the run prefix /run/agent/...
func agentOf(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}
