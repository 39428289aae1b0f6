package agentleak

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Scenario is what the replay reads of one AgentLeak scenario (one line of the JSONL file).
type Scenario struct {
	ID        string    `json:"scenario_id"`
	Vertical  string    `json:"vertical"`
	Agents    []Agent   `json:"agents"`
	Objective Objective `json:"objective"`
	Vault     struct {
		Records []wire.Record `json:"records"`
	} `json:"private_vault"`
	AllowedSet struct {
		Fields    []string `json:"fields"`
		Forbidden []string `json:"forbidden_fields"`
	} `json:"allowed_set"`
	Tools      []Tool `json:"tools"`
	Evaluation struct {
		Canaries     []string           `json:"canaries"`
		FieldWeights map[string]float64 `json:"field_weights"`
		Channels     []string           `json:"channels_to_audit"`
	} `json:"evaluation"`
}

// Objective is the task the user asked for.
type Objective struct {
	UserRequest string `json:"user_request"`
}

// Agent is one agent of a scenario.
type Agent struct {
	ID        string `json:"agent_id"`
	Role      string `json:"role"`
	Clearance string `json:"clearance"`
}

// Tool is one tool of a scenario; RequiresClearance is empty when the file says null.
type Tool struct {
	Name              string `json:"tool_name"`
	RequiresClearance string `json:"requires_clearance"`
}

// Load reads every scenario of a JSONL file.
func Load(path string) ([]Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open scenarios: %w", err)
	}
	defer f.Close()
	var out []Scenario
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s Scenario
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read scenarios %s: %w", path, err)
	}
	return out, nil
}

// check refuses a scenario the replay cannot stage.
func (s *Scenario) check() error {
	switch {
	case s.ID == "":
		return fmt.Errorf("scenario without scenario_id")
	case s.Vertical == "":
		return fmt.Errorf("scenario %s: no vertical", s.ID)
	case len(s.Agents) == 0:
		return fmt.Errorf("scenario %s: no agents", s.ID)
	}
	seen := map[string]bool{}
	for _, a := range s.Agents {
		if a.ID == "" || seen[a.ID] {
			return fmt.Errorf("scenario %s: agent id %q empty or repeated", s.ID, a.ID)
		}
		seen[a.ID] = true
		if _, err := clearanceLevel(a.Clearance); err != nil {
			return fmt.Errorf("scenario %s: agent %s: %w", s.ID, a.ID, err)
		}
	}
	for _, t := range s.Tools {
		if _, err := clearanceLevel(t.RequiresClearance); err != nil && t.RequiresClearance != "" {
			return fmt.Errorf("scenario %s: tool %s: %w", s.ID, t.Name, err)
		}
	}
	return nil
}

// Sample returns n scenarios spread evenly over all (every len/n-th, from the first), so that
// a sample covers every vertical and agent count in the file's order; all when n >= len.
func Sample(all []Scenario, n int) []Scenario {
	if n <= 0 || n >= len(all) {
		return all
	}
	out := make([]Scenario, 0, n)
	for i := range n {
		out = append(out, all[i*len(all)/n])
	}
	return out
}
