package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// flowMetrics are derived in userspace from the kernel's flow events: the kernel's own counters
// (datapath.go) are exact but know no zones or agents.
type flowMetrics struct {
	connects      *prometheus.CounterVec
	agentConnects *prometheus.CounterVec
	events        prometheus.Counter

	closes   *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// closeVerdicts are the verdicts a connection that gets a close event was given: a DENY
// never connects.
var closeVerdicts = []string{"ALLOW", "REDIRECT"}

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
			Help: "Events (connect decisions and connection closes) read from the kernel's ring buffer by this daemon process.",
		}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "flow_closes_total",
			Help: "Agent TCP connections closed, by the verdict their connect() got (REDIRECT: the agent's connection to the enforcer), from the close events read.",
		}, []string{"verdict"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "flow_bytes_total",
			Help: "Data bytes of closed agent TCP connections as the agent's socket counted them, by direction (to_destination: sent by the agent and acknowledged; to_agent: received), from the close events read.",
		}, []string{"direction"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "datapath", Name: "flow_duration_seconds",
			Help:                            "Lifetime of closed agent TCP connections, from established to closed, by the verdict their connect() got.",
			Buckets:                         durationBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetDuration,
		}, []string{"verdict"}),
	}
	for _, v := range closeVerdicts {
		f.closes.WithLabelValues(v)
	}
	f.bytes.WithLabelValues(toDestination)
	f.bytes.WithLabelValues(toAgent)
	reg.MustRegister(f.connects, f.agentConnects, f.events, f.closes, f.bytes, f.duration)
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

// FlowClosed counts one close event: the verdict the connection's connect() got, the data
// bytes the agent sent (toDestination) and received (toAgent), and how long it lived.
func (m *Metrics) FlowClosed(verdict string, sent, received uint64, lived time.Duration) {
	verdict = oneOf(verdict, verdicts)
	m.flows.events.Inc()
	m.flows.closes.WithLabelValues(verdict).Inc()
	m.flows.bytes.WithLabelValues(toDestination).Add(float64(sent))
	m.flows.bytes.WithLabelValues(toAgent).Add(float64(received))
	m.flows.duration.WithLabelValues(verdict).Observe(lived.Seconds())
}
