package agentleak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/meshwarden/meshwarden/agent"
	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Run replays one scenario: its policy (made with o) goes live (the daemon starts with the
// first one and reloads for every later one), then a leaky run and a compliant run, each with
// every agent of the scenario as a process in its cgroup, are measured.
func (h *Harness) Run(ctx context.Context, s *Scenario, o PolicyOptions) ScenarioResult {
	start := time.Now()
	res := ScenarioResult{ID: s.ID, Vertical: s.Vertical, Agents: len(s.Agents), Stats: Stats{}}
	res.Err = h.run(ctx, s, o.withDefaults(), &res)
	res.Duration = time.Since(start)
	return res
}

func (h *Harness) run(ctx context.Context, s *Scenario, o PolicyOptions, res *ScenarioResult) error {
	if err := h.applyPolicy(ctx, s, o); err != nil {
		return fmt.Errorf("%s: %w", s.ID, err)
	}
	v := newVault(s, o.CanaryPrefix)
	res.AllowedCanaries = v.allowedCanaries
	for _, b := range []string{wire.Leaky, wire.Compliant} {
		st, err := h.runOnce(ctx, s, b, v)
		if err != nil {
			return fmt.Errorf("%s: %s run: %w", s.ID, b, err)
		}
		res.Stats.Add(st)
	}
	return nil
}

// applyPolicy writes the scenario's policy and makes it live.
func (h *Harness) applyPolicy(ctx context.Context, s *Scenario, o PolicyOptions) error {
	o.Mesh, o.EnforcerPort = h.mesh.Name, uint16(h.mesh.Port)
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
		if err := h.mesh.ReplaceConfig(data); err != nil {
			return err
		}
		h.startDaemon()
		return nil
	}
	mark := h.feed.Mark()
	if err := h.mesh.ReplaceConfig(data); err != nil {
		return err
	}
	h.mesh.HUP()
	wctx, cancel := context.WithTimeout(ctx, h.cfg.ReloadTimeout)
	defer cancel()
	return h.feed.WaitReload(wctx, mark, agent.PolicyDigest(data))
}

// runOnce runs every agent of s with one behaviour and measures the run. Exchanges that
// failed at the agent (a timeout, a reset) fail the run: the agents could not do their task.
func (h *Harness) runOnce(ctx context.Context, s *Scenario, behaviour string, v vault) (Stats, error) {
	run, err := newRunID(behaviour)
	if err != nil {
		return nil, err
	}
	h.services.Inbox.Arm(run, RunConfig{Behaviour: behaviour, Records: s.Vault.Records, Allowed: s.AllowedSet.Fields})
	h.feed.Take()
	logs := runLogs{}
	logs.agents, err = h.runAgents(s, run, behaviour)
	logs.deliveries = h.services.Inbox.Take(run)
	if err != nil {
		return nil, err
	}
	if err := logs.transportErrors(); err != nil {
		return nil, err
	}
	msgs, err := logs.messages(ctx, h.services.Stored)
	if err != nil {
		return nil, err
	}
	recs := h.settle(ctx, run, msgs)
	st, misses := evaluate(behaviour, msgs, indexRecords(run, recs), v)
	if h.cfg.WorkDir != "" && len(misses) > 0 {
		if err := writeJSONLines(filepath.Join(h.dir, run+".misses.jsonl"), misses); err != nil {
			return nil, err
		}
	}
	return st, nil
}
