package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a policy load.
const (
	ResultApplied = "applied"
	ResultRefused = "refused"
)

type policyMetrics struct {
	reloads     *prometheus.CounterVec
	lastApplied prometheus.Gauge
	agents      prometheus.Gauge
	rules       prometheus.Gauge
	domains     *prometheus.GaugeVec
}

func newPolicyMetrics(reg prometheus.Registerer) policyMetrics {
	p := policyMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "policy", Name: "reloads_total",
			Help: "Policy reload attempts (SIGHUP or a changed file), by result: applied, or refused (the running policy stayed).",
		}, []string{"result"}),
		lastApplied: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "policy", Name: "last_applied_timestamp_seconds",
			Help: "Unix time at which the running policy was applied.",
		}),
		agents: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "policy", Name: "agents",
			Help: "Agents the running policy declares.",
		}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "policy", Name: "zone_rules",
			Help: "Zone rules of the running policy as the kernel holds them (one per port of a rule).",
		}),
		domains: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "policy", Name: "domain_info",
			Help: "Always 1, one series per data domain of the running policy, with its protection tier.",
		}, []string{"domain", "tier"}),
	}
	p.reloads.WithLabelValues(ResultApplied)
	p.reloads.WithLabelValues(ResultRefused)
	reg.MustRegister(p.reloads, p.lastApplied, p.agents, p.rules, p.domains)
	return p
}

// PolicyApplied records that a policy of agents agents and rules kernel rules went live at t.
func (m *Metrics) PolicyApplied(t time.Time, agents, rules int) {
	m.policy.lastApplied.Set(float64(t.UnixNano()) / 1e9)
	m.policy.agents.Set(float64(agents))
	m.policy.rules.Set(float64(rules))
}

// PolicyReload counts one reload attempt with its result (ResultApplied or ResultRefused).
func (m *Metrics) PolicyReload(result string) {
	m.policy.reloads.WithLabelValues(oneOf(result, []string{ResultApplied, ResultRefused})).Inc()
}
