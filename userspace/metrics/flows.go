package metrics

import "github.com/prometheus/client_golang/prometheus"

// flowMetrics are derived in userspace from the kernel's flow events: the kernel's own counters
// (datapath.go) are exact but know no zones or agents.
type flowMetrics struct {
	connects      *prometheus.CounterVec
	agentConnects *prometheus.CounterVec
	events        prometheus.Counter
}

func newFlowMetrics(reg prometheus.Registerer) flowMetrics {
	f := flowMetrics{
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "connects_total",
			Help: "Agent connect() decisions taken by the kernel, by source zone, destination zone and verdict, from the flow events read (events lost to ring-buffer drops are not in it).",
		}, []string{"src_zone", "dst_zone", "verdict"}),
		agentConnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "agent_connects_total",
			Help: "Agent connect() decisions taken by the kernel, by agent id (as the policy names it) and verdict, from the flow events read.",
		}, []string{"agent", "verdict"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "ringbuf_events_total",
			Help: "Flow events read from the kernel's ring buffer by this daemon process.",
		}),
	}
	reg.MustRegister(f.connects, f.agentConnects, f.events)
	return f
}

// Flow counts one flow event: the agent (empty when its cgroup is bound to no agent of the
// current policy), its source zone, the destination's zone and the kernel's verdict.
func (m *Metrics) Flow(agent, srcZone, dstZone, verdict string) {
	verdict = oneOf(verdict, verdicts)
	m.flows.events.Inc()
	m.flows.connects.WithLabelValues(nameLabel(srcZone, "unknown"), nameLabel(dstZone, "unknown"), verdict).Inc()
	m.flows.agentConnects.WithLabelValues(nameLabel(agent, "unknown"), verdict).Inc()
}
