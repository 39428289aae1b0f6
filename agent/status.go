package agent

import (
	"context"
	"os"

	"github.com/meshwarden/meshwarden/agent/api"
	"github.com/meshwarden/meshwarden/loader/cgroup"
)

// status is the operator API's snapshot of the daemon.
func (d *Daemon) status(ctx context.Context) (api.Status, error) {
	st := api.Status{
		Version: d.opts.Version, Node: d.opts.Node, PID: os.Getpid(), Started: d.obs.started,
		MetricsAddr: d.obs.metricsAddr, Socket: api.SocketPath(d.opts.StateDir),
	}
	d.obs.mu.Lock()
	st.Policy = d.obs.policy
	st.Audit = api.AuditStatus{Path: d.opts.AuditLog, Records: d.obs.auditRecs, WriteErrors: d.obs.auditErrs,
		LastError: d.obs.auditErr, LastErrorAt: d.obs.auditErrAt}
	d.obs.mu.Unlock()

	for _, h := range d.dp.Hooks() {
		st.Hooks = append(st.Hooks, api.Hook{Hook: h.Hook, LinkID: h.LinkID, ProgramID: h.ProgramID,
			Cgroup: h.Cgroup, CgroupID: h.CgroupID, Attached: h.Attached, Reused: h.Reused})
	}
	if c, err := d.dp.Counters(); err != nil {
		st.Errors = append(st.Errors, err.Error())
	} else {
		st.Counters = api.Counters{Allow: c.Allow, Deny: c.Deny, Redirect: c.Redirect, RingbufDrops: c.RingbufDrops,
			OrigStoreFailures: c.OrigStoreFailures, TupleStoreFailures: c.TupleStoreFailures}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	usage, err := d.dp.MapUsage()
	if err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
	for _, u := range usage {
		st.Maps = append(st.Maps, api.Map{Name: u.Name, Type: u.Type, ID: u.ID, Entries: u.Entries, MaxEntries: u.Capacity})
	}

	v := d.cur.Load()
	for _, ep := range v.eps {
		a := v.pol.Agents[ep.Agent]
		path := absCgroup(d.root, a.Cgroup)
		n := -1
		if pids, err := cgroup.Procs(path); err == nil {
			n = len(pids)
		}
		st.Agents = append(st.Agents, api.Agent{ID: a.ID, Role: a.Role, Zone: a.Zone, Cgroup: path, CgroupID: ep.CgroupID, Processes: n})
	}

	st.Enforcer.Listeners = d.obs.listeners
	if srv := d.obs.enforcer.Load(); srv != nil {
		s := srv.Stats()
		st.Enforcer.Accepted, st.Enforcer.Refused, st.Enforcer.Active, st.Enforcer.Requests = s.Accepted, s.Refused, s.Active, s.Requests
	}
	return st, nil
}
