package agentleak

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/meshwarden/meshwarden/agent"
	"github.com/meshwarden/meshwarden/test/agentleak/wire"
	"github.com/meshwarden/meshwarden/test/lab"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// Run replays one scenario: its policy, with every domain at the audit level, goes live (the
// daemon starts with the first one and reloads for every later one), then a leaky run and a
// compliant run, each with every agent of the scenario as a process in its cgroup, are
// measured.
func (h *Harness) Run(ctx context.Context, s *Scenario, level string) ScenarioResult {
	start := time.Now()
	res := ScenarioResult{ID: s.ID, Vertical: s.Vertical, Agents: len(s.Agents), Stats: Stats{}}
	res.Err = h.run(ctx, s, level, &res)
	res.Duration = time.Since(start)
	return res
}

func (h *Harness) run(ctx context.Context, s *Scenario, level string, res *ScenarioResult) error {
	if err := h.applyPolicy(ctx, s, level); err != nil {
		return fmt.Errorf("%s: %w", s.ID, err)
	}
	v := newVault(s, h.cfg.Policy.withDefaults().CanaryPrefix)
	res.AllowedCanaries = v.allowedCanaries
	for _, b := range []string{wire.Leaky, wire.Compliant} {
		st, err := h.runOnce(ctx, s, b, level, v)
		if err != nil {
			return fmt.Errorf("%s: %s run: %w", s.ID, b, err)
		}
		res.Stats.Add(st)
	}
	return nil
}

// applyPolicy writes the scenario's policy and makes it live.
func (h *Harness) applyPolicy(ctx context.Context, s *Scenario, level string) error {
	o := h.cfg.Policy
	o.Mesh, o.EnforcerPort, o.AuditLevel = h.mesh.Name, uint16(h.mesh.Port), level
	data, err := Policy(s, h.top, o)
	if err != nil {
		return err
	}
	for _, a := range s.Agents {
		if err := os.MkdirAll(h.mesh.Cgroup(AgentCgroup(a.ID)), 0o755); err != nil {
			return fmt.Errorf("create cgroup of agent %s: %w", a.ID, err)
		}
	}
	if h.feed == nil {
		if err := os.WriteFile(h.mesh.Config, data, 0o600); err != nil {
			return fmt.Errorf("write policy: %w", err)
		}
		return h.startDaemon()
	}
	mark := h.feed.Mark()
	if err := os.WriteFile(h.mesh.Config, data, 0o600); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	h.mesh.HUP()
	wctx, cancel := context.WithTimeout(ctx, h.cfg.ReloadTimeout)
	defer cancel()
	return h.feed.WaitReload(wctx, mark, agent.PolicyDigest(data))
}

// runOnce runs every agent of s with one behaviour and measures the run. Exchanges that
// failed at the agent (a timeout, a reset) fail the run: the agents could not do their task.
func (h *Harness) runOnce(ctx context.Context, s *Scenario, behaviour, level string, v vault) (Stats, error) {
	run, err := newRunID(behaviour)
	if err != nil {
		return nil, err
	}
	h.services.Inbox.Arm(run, RunConfig{Behaviour: behaviour, Records: s.Vault.Records, Allowed: s.AllowedSet.Fields})
	h.feed.Take()
	logs := runLogs{agents: map[string][]wire.Entry{}}
	waits := map[string]func() lab.Result{}
	for _, a := range s.Agents {
		p := plan(s, a, h.top, run, behaviour)
		data, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode plan: %w", err)
		}
		if err := os.WriteFile(planFile(h.dir, run, p.Agent), data, 0o600); err != nil {
			return nil, fmt.Errorf("write plan: %w", err)
		}
		waits[p.Agent] = h.mesh.Go(h.mesh.Cgroup(AgentCgroup(a.ID)), h.agentBin,
			"-plan", planFile(h.dir, run, p.Agent), "-out", logFile(h.dir, run, p.Agent))
	}
	for id, wait := range waits {
		r := wait()
		if r.Err != nil {
			return nil, fmt.Errorf("agent %s: %v: %s", id, r.Err, r.Out)
		}
		entries, err := readAgentLog(logFile(h.dir, run, id))
		if err != nil {
			return nil, err
		}
		logs.agents[id] = entries
		if h.cfg.WorkDir == "" {
			os.Remove(logFile(h.dir, run, id))
			os.Remove(planFile(h.dir, run, id))
		}
	}
	logs.deliveries = h.services.Inbox.Take(run)
	if err := logs.transportErrors(); err != nil {
		return nil, err
	}
	msgs, err := logs.messages(ctx, h.services.Stored)
	if err != nil {
		return nil, err
	}
	recs := h.settle(ctx, run, expected(msgs, level))
	return evaluate(behaviour, msgs, indexRecords(run, recs), v), nil
}

// expected returns the messages the audit level records: all, or for OUTPUT_ONLY those on
// final_output.
func expected(msgs []message, level string) []message {
	if level != OutputOnly {
		return msgs
	}
	var out []message
	for _, m := range msgs {
		if m.channel == wire.FinalOutput {
			out = append(out, m)
		}
	}
	return out
}

// settle waits until the audit log holds a record of every message of the run, or no record
// came for a while, or SettleTimeout passed; then it takes the records read.
func (h *Harness) settle(ctx context.Context, run string, msgs []message) []audit.Record {
	deadline := time.NewTimer(h.cfg.SettleTimeout)
	defer deadline.Stop()
	for {
		changed := h.feed.Changed()
		complete := false
		h.feed.Peek(func(recs []audit.Record) {
			ix := indexRecords(run, recs)
			complete = true
			for _, m := range msgs {
				if o, _ := ix.match(m); o != recorded {
					complete = false
					return
				}
			}
		})
		if complete {
			return h.feed.Take()
		}
		select {
		case <-changed:
			continue
		case <-time.After(h.cfg.Quiet):
		case <-deadline.C:
		case <-ctx.Done():
		}
		return h.feed.Take()
	}
}

func planFile(dir, run, agent string) string {
	return filepath.Join(dir, run+"-"+agent+".plan.json")
}

func logFile(dir, run, agent string) string {
	return filepath.Join(dir, run+"-"+agent+".log.jsonl")
}

// readAgentLog reads an agent's log.
func readAgentLog(path string) ([]wire.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open agent log: %w", err)
	}
	defer f.Close()
	var out []wire.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e wire.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("agent log %s: %w", path, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read agent log %s: %w", path, err)
	}
	return out, nil
}
