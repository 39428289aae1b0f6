package agentleak

import (
	"context"
	"time"
)

// ReplayOptions shape a replay.
type ReplayOptions struct {
	// Policy are the choices of policy generation (the audit level, the actions); Mesh and
	// EnforcerPort are the harness's own.
	Policy PolicyOptions
	// MaxFailures stops the replay after this many failed scenarios (0: never stop): a mesh
	// that fails every scenario is better reported at once than after hours.
	MaxFailures int
	// Progress, when set, is called after each scenario.
	Progress func(done, total int, r ScenarioResult)
}

// Summary is the outcome of a replay.
type Summary struct {
	AuditLevel string
	Scenarios  []ScenarioResult
	Total      Stats // every scenario that ran to the end
	Wall       time.Duration
	Stopped    bool // MaxFailures was reached
}

// Failed returns the scenarios that could not be measured.
func (s *Summary) Failed() []ScenarioResult {
	var out []ScenarioResult
	for _, r := range s.Scenarios {
		if r.Err != nil {
			out = append(out, r)
		}
	}
	return out
}

// Replay runs the scenarios one after the other on the harness's one daemon.
func (h *Harness) Replay(ctx context.Context, scenarios []Scenario, o ReplayOptions) Summary {
	o.Policy = o.Policy.withDefaults()
	start := time.Now()
	sum := Summary{AuditLevel: o.Policy.AuditLevel, Total: Stats{}}
	failed := 0
	for i := range scenarios {
		if ctx.Err() != nil {
			break
		}
		r := h.Run(ctx, &scenarios[i], o.Policy)
		if r.Err == nil {
			sum.Total.Add(r.Stats)
		} else {
			failed++
		}
		sum.Scenarios = append(sum.Scenarios, r)
		if o.Progress != nil {
			o.Progress(i+1, len(scenarios), r)
		}
		if o.MaxFailures > 0 && failed >= o.MaxFailures {
			sum.Stopped = i+1 < len(scenarios)
			break
		}
	}
	sum.Wall = time.Since(start)
	return sum
}
