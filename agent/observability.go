package agent

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
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
	srv := api.NewServer(d.status, d.obs.hub, d.log).WithRevoke(d.revokeAgent)
	wg.Go(func() {
		if err := srv.Serve(ctx, d.obs.apiLn); err != nil {
			errs <- err
		}
	})
}
