package agentleak

import (
	"os"
	"testing"
)

// scenariosPath is the AgentLeak development split: MW_AGENTLEAK_SCENARIOS, else where the
// repository's checkout expects it beside itself.
func scenariosPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MW_AGENTLEAK_SCENARIOS"); p != "" {
		return p
	}
	return "../../../shared/data/agentleak/scenarios_dev.jsonl"
}

func loadAll(t *testing.T) []Scenario {
	t.Helper()
	all, err := Load(scenariosPath(t))
	if err != nil {
		t.Fatalf("%v (set MW_AGENTLEAK_SCENARIOS to the scenarios file)", err)
	}
	return all
}
