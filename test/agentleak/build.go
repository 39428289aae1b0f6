package agentleak

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// BuildAgent compiles the replay's agent program (test/agents/leakagent) into dir. repo is
// the module root.
func BuildAgent(repo, dir string) (string, error) {
	out := filepath.Join(dir, "leakagent")
	cmd := exec.Command("go", "build", "-o", out, "./test/agents/leakagent")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build leakagent: %w: %s", err, b)
	}
	return out, nil
}
