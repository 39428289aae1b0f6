package agent

import (
	"fmt"

	"github.com/meshwarden/meshwarden/policy"
	"github.com/meshwarden/meshwarden/userspace/pep"
)

// buildView resolves a policy's endpoints and builds its decision engine: the two go live
// together (one atomic swap of the daemon's view), so the enforcer never decides with one
// policy for an agent the kernel classified with another.
func buildView(root string, pol *policy.Policy) (*view, error) {
	v, err := resolveEndpoints(root, pol)
	if err != nil {
		return nil, err
	}
	if v.eng, err = pep.New(pol); err != nil {
		return nil, fmt.Errorf("policy %s: %w", pol.Source, err)
	}
	return v, nil
}

// engine is the enforcer's decision engine: the current view's.
func (d *Daemon) engine() *pep.Engine { return d.cur.Load().eng }
