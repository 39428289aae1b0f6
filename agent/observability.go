package agent

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
	"github.com/meshwarden/meshwarden/userspace/audit"
	"github.com/meshwarden/meshwarden/userspace/metrics"
	"github.com/meshwarden/meshwarden/userspace/proxy"
)

// observability is what the daemon shows of itself: Prometheus metrics, the live event stream
// and the state the operator API reports.
type observability struct {
	metrics  *metrics.Metrics
	hub      *api.Hub
	started  time.Time
	enforcer atomic.Pointer[proxy.Server]

	// Set by openObservability before anything is served, read-only afterwards.
	listeners   []string // the enforcer's addresses
	metricsAddr string
	metricsLn   net.Listener
	apiLn       net.Listener

	mu         sync.Mutex // guards what follows
	policy     api.PolicyStatus
	auditRecs  uint64
	auditErrs  uint64
	auditErr   string
	auditErrAt time.Time
}

func (d *Daemon) initObservability() {
	d.obs.metrics = metrics.New(metrics.Options{Version: d.opts.Version, Logger: d.log})
	d.obs.hub = api.NewHub(api.DefaultHubSize)
	d.obs.started = time.Now()
}

// openObservability opens the metrics listener (when an address is set) and the operator API
// socket, so that both answer as soon as the daemon reports itself ready.
func (d *Daemon) openObservability(ctx context.Context, enforcer []string) error {
	d.obs.listeners = enforcer
	d.obs.metrics.SetListeners(len(enforcer))
	if d.opts.MetricsAddr != "" {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", d.opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listen on %s: %w", d.opts.MetricsAddr, err)
		}
		d.obs.metricsLn, d.obs.metricsAddr = ln, ln.Addr().String()
	}
	ln, err := api.Listen(ctx, api.SocketPath(d.opts.StateDir))
	if err != nil {
		if d.obs.metricsLn != nil {
			d.obs.metricsLn.Close()
		}
		return err
	}
	d.obs.apiLn = ln
	d.log.Info("operator API listening", "socket", ln.Addr().String(), "metrics", d.obs.metricsAddr)
	return nil
}

// serveObservability serves what openObservability opened until ctx ends.
func (d *Daemon) serveObservability(ctx context.Context, wg *sync.WaitGroup, errs chan<- error) {
	if ln := d.obs.metricsLn; ln != nil {
		wg.Go(func() {
			if err := d.obs.metrics.Serve(ctx, ln); err != nil {
				errs <- err
			}
		})
	}
	srv := api.NewServer(d.status, d.obs.hub, d.log)
	wg.Go(func() {
		if err := srv.Serve(ctx, d.obs.apiLn); err != nil {
			errs <- err
		}
	})
}

// writeAudit writes one audit record, counting it by kind, or its failure.
func (d *Daemon) writeAudit(r audit.Record) error {
	start := time.Now()
	err := d.audit.Write(r)
	d.obs.metrics.AuditWritten(r.Kind, time.Since(start), err)
	d.obs.mu.Lock()
	if err != nil {
		d.obs.auditErrs++
		d.obs.auditErr, d.obs.auditErrAt = err.Error(), time.Now()
	} else {
		d.obs.auditRecs++
	}
	d.obs.mu.Unlock()
	return err
}

// auditSink is the enforcer's audit sink: the daemon's counted writes.
type auditSink struct{ d *Daemon }

func (s auditSink) Write(r audit.Record) error { return s.d.writeAudit(r) }

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
	o.d.obs.metrics.Exchange(r.Protocol, r.Verdict, r.Reason, r.BytesIn, r.BytesOut, time.Duration(r.DurationNS))
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

// policyApplied records that v went live as generation gen; d.seen is its file's digest.
func (d *Daemon) policyApplied(v *view, gen uint32) {
	now := time.Now()
	rules := len(v.pol.Tables().Rules)
	d.obs.metrics.PolicyApplied(now, len(v.pol.Agents), rules)
	d.obs.mu.Lock()
	defer d.obs.mu.Unlock()
	p := &d.obs.policy
	p.Source, p.Digest, p.Generation, p.AppliedAt = v.pol.Source, d.seen, gen, now
	p.Agents, p.Zones, p.ZoneRules = len(v.pol.Agents), len(v.pol.Zones), rules
}

// policyReloaded records the result of one reload attempt of the file with digest sum.
func (d *Daemon) policyReloaded(sum string, err error) {
	r := &api.Reload{Time: time.Now(), Digest: sum, Result: metrics.ResultApplied}
	if err != nil {
		r.Result, r.Error = metrics.ResultRefused, err.Error()
	}
	d.obs.metrics.PolicyReload(r.Result)
	d.obs.mu.Lock()
	d.obs.policy.LastReload = r
	d.obs.mu.Unlock()
}
