// Package metrics holds the node daemon's Prometheus metrics: the families the datapath, the
// enforcer, the audit writer and policy reloads report to, on a Registry of the daemon's own
// (never the global one), and the HTTP server that exposes them.
//
// Every label value comes from a bounded set: a fixed enumeration of this package (verdicts,
// reason codes, protocols, record kinds, hooks, maps) or a name the policy declares (zones,
// agents, domains, detectors, nodes: see Scope). Nothing per connection (pids, ports, addresses, paths) is ever a label.
package metrics

import (
	"log/slog"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// namespace prefixes every family of this package.
const namespace = "meshwarden"

// Options configure New.
type Options struct {
	Version string       // the binary's version, for meshwarden_build_info
	Logger  *slog.Logger // may be nil: slog.Default()
}

// Metrics is one daemon's set of metric families. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	flows    flowMetrics
	enforcer enforcerMetrics
	audit    auditMetrics
	policy   policyMetrics
	identity identityMetrics

	scope scope // the running policy's domains and nodes
}

// New creates the families and registers them, with the Go runtime and process collectors and
// the build information, on a new Registry.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: opts.Logger}
	m.flows = newFlowMetrics(m.reg)
	m.enforcer = newEnforcerMetrics(m.reg)
	m.audit = newAuditMetrics(m.reg)
	m.policy = newPolicyMetrics(m.reg)
	m.identity = newIdentityMetrics(m.reg)

	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels say which Meshwarden build runs.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(opts.Version, runtime.Version()).Set(1)
	m.reg.MustRegister(build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the families are registered; tests and other exporters may gather it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
