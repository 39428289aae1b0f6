package agent

import (
	"github.com/meshwarden/meshwarden/agent/api"
	"github.com/meshwarden/meshwarden/userspace/audit"
)

// observeFlow counts a kernel flow decision and shows it to live readers.
func (d *Daemon) observeFlow(r audit.Record) {
	d.obs.metrics.Flow(r.AgentID, r.Zone, r.DstZone, r.Verdict)
	d.obs.hub.Publish(eventOf(r))
}

// enforcerObserver feeds the enforcer's connections and exchanges to the metrics and live readers.
type enforcerObserver struct{ d *Daemon }

func (o enforcerObserver) ConnOpened() { o.d.obs.metrics.ConnOpened() }
func (o enforcerObserver) ConnClosed() { o.d.obs.metrics.ConnClosed() }
func (o enforcerObserver) Exchange(r audit.Record) {
	o.d.obs.metrics.Enforced(r)
	o.d.obs.hub.Publish(eventOf(r))
}

// eventOf is what a live reader sees of an audit record: who, where, what was decided; never
// payload.
func eventOf(r audit.Record) api.Event {
	return api.Event{
		Time: r.Time, Kind: r.Kind,
		Agent: r.AgentID, Role: r.Role, Zone: r.Zone, PID: r.PID, Comm: r.Comm,
		Target: r.Destination, DstZone: r.DstZone, Transport: r.Transport, Protocol: r.Protocol,
		Domain: r.Domain, Channel: r.Channel, Verdict: r.Verdict, Reason: r.Reason,
		Method: r.Method, Path: r.Path, Status: r.Status,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, Duration: r.DurationNS,
	}
}
