package agent

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/loader/cgroup"
	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/pep"
)

// view is one policy as the daemon applies it: the policy plus the cgroup ids of its agents.
type view struct {
	pol      *policy.Policy
	byCgroup map[uint64]int // cgroup id -> index in pol.Agents
	eps      []loader.Endpoint
	eng      *pep.Engine // the enforcer's decision engine for pol; swapped with it
}

func (v *view) agentOf(cgroupID uint64) (policy.Agent, bool) {
	i, ok := v.byCgroup[cgroupID]
	if !ok {
		return policy.Agent{}, false
	}
	return v.pol.Agents[i], true
}

// resolveEndpoints creates every agent's leaf cgroup under root (if absent) and binds it to
// the agent's index and zone.
func resolveEndpoints(root string, pol *policy.Policy) (*view, error) {
	zones := pol.Tables().Zones
	v := &view{pol: pol, byCgroup: map[uint64]int{}}
	for i, a := range pol.Agents {
		p, err := cgroup.Ensure(root, a.Cgroup)
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.ID, err)
		}
		id, err := loader.CgroupID(p)
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.ID, err)
		}
		v.byCgroup[id] = i
		v.eps = append(v.eps, loader.Endpoint{CgroupID: id, Agent: uint32(i), Zone: zones[a.Zone]})
	}
	return v, nil
}

// attachPoint is the cgroup (relative to the cgroup2 root) whose descendants are all the
// agents: the deepest common parent of their leaf cgroups. In local mode it must not be the
// cgroup2 root, nor contain the enforcer, nor hold processes itself.
func attachPoint(pol *policy.Policy) (string, error) {
	if len(pol.Agents) == 0 {
		return "", errors.New("the policy names no agents: nothing to attach to in local mode")
	}
	common := strings.Split(path.Dir(pol.Agents[0].Cgroup), "/")
	for _, a := range pol.Agents[1:] {
		parts := strings.Split(path.Dir(a.Cgroup), "/")
		n := 0
		for n < len(common) && n < len(parts) && common[n] == parts[n] {
			n++
		}
		common = common[:n]
	}
	rel := strings.Join(common, "/")
	if rel == "" || rel == "." {
		return "", errors.New("agent cgroups share no parent below the cgroup2 root: " +
			"put them under one parent (e.g. meshwarden/agents/<id>); attaching at the root is for Kubernetes nodes only")
	}
	enf := pol.Enforcer.Cgroup
	if enf == rel || strings.HasPrefix(enf, rel+"/") {
		return "", fmt.Errorf("enforcer cgroup %s lies under the agents' parent %s: it must carry no hooks", enf, rel)
	}
	return rel, nil
}

// checkAttachSafe refuses to attach to a cgroup that holds processes itself: they would be
// under agent hooks without being agents the policy knows.
func checkAttachSafe(abs string) error {
	pids, err := cgroup.Procs(abs)
	if err != nil {
		return err
	}
	if len(pids) > 0 {
		return fmt.Errorf("refusing to attach to %s: it holds %d process(es) (e.g. pid %d) that are not agents", abs, len(pids), pids[0])
	}
	return nil
}

func absCgroup(root, rel string) string { return filepath.Join(root, rel) }
