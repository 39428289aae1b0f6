package agentleak

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
	"github.com/meshwarden/meshwarden/test/lab"
)

// runAgents starts every agent of s, each in its cgroup with its plan, waits for all of them
// and returns their logs by policy id.
func (h *Harness) runAgents(s *Scenario, run, behaviour string) (map[string][]wire.Entry, error) {
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
	logs := map[string][]wire.Entry{}
	var errs []error
	for id, wait := range waits {
		if r := wait(); r.Err != nil {
			errs = append(errs, fmt.Errorf("agent %s: %w: %s", id, r.Err, r.Out))
			continue
		}
		entries, err := readAgentLog(logFile(h.dir, run, id))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		logs[id] = entries
		if h.cfg.WorkDir == "" {
			os.Remove(logFile(h.dir, run, id))
			os.Remove(planFile(h.dir, run, id))
		}
	}
	return logs, errors.Join(errs...)
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

// writeJSONLines writes one JSON value per line.
func writeJSONLines[T any](path string, vs []T) error {
	var b []byte
	for _, v := range vs {
		line, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
