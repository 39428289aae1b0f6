package lab

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// BuildAgents compiles the test agents test/agents/<name> (Go programs written with the
// protocols' own SDKs) into dir and returns their paths by name. repo is the module root.
func BuildAgents(repo, dir string, names ...string) (map[string]string, error) {
	out := map[string]string{}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./test/agents/"+n)
		out[n] = filepath.Join(dir, n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build test agents %v: %w: %s", names, err, b)
	}
	return out, nil
}
