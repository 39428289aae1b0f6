package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshwarden/meshwarden/loader"
)

// Datapath is what the kernel families are read from at each scrape. *loader.Datapath is one.
type Datapath interface {
	Counters() (loader.Counters, error)
	MapUsage() ([]loader.MapUsage, error)
	Hooks() []loader.HookState
}

// WatchDatapath registers the kernel families, read from dp at every scrape: the kernel's
// per-CPU counters, map fill and attached programs. Call it once, when the datapath is loaded.
func (m *Metrics) WatchDatapath(dp Datapath) {
	m.reg.MustRegister(newDatapathCollector(dp, m))
}

func datapathDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "datapath", name), help, labels, nil)
}

// datapathCollector reads the kernel's state when Prometheus scrapes. The counters live in pinned
// maps, so they keep counting across daemon restarts and start again from 0 only after an
// uninstall.
type datapathCollector struct {
	dp Datapath
	m  *Metrics

	verdicts, drops, origFail, tupleFail, origAnswered, peers *prometheus.Desc
	entries, capacity, attached                               *prometheus.Desc
}

func newDatapathCollector(dp Datapath, m *Metrics) *datapathCollector {
	return &datapathCollector{
		dp: dp, m: m,
		verdicts:     datapathDesc("verdicts_total", "Agent connect() decisions taken by the kernel, by verdict (the kernel's own per-CPU counters; exact, events lost or not).", "verdict"),
		drops:        datapathDesc("ringbuf_drops_total", "Events (connect decisions and connection closes) the kernel could not put into the ring buffer because it was full; the decisions were still enforced, and the daemon writes a system audit record saying how many were lost."),
		origFail:     datapathDesc("original_destination_store_failures_total", "REDIRECT decisions refused because the original destination could not be stored."),
		tupleFail:    datapathDesc("tuple_store_failures_total", "Established redirected connections whose tuple record could not be stored."),
		origAnswered: datapathDesc("original_destination_answers_total", "SO_ORIGINAL_DST answers given to the enforcer's sockets."),
		peers:        datapathDesc("peer_rewrites_total", "getpeername() answers rewritten to the original peer for agents."),
		entries:      datapathDesc("map_entries", "Entries in use in a datapath map (a snapshot taken at scrape time).", "map"),
		capacity:     datapathDesc("map_max_entries", "Capacity (max_entries) of a datapath map.", "map"),
		attached:     datapathDesc("programs_attached", "1 when the hook's program is attached to its cgroup through this daemon's link, else 0.", "hook"),
	}
}

func (c *datapathCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.verdicts, c.drops, c.origFail, c.tupleFail, c.origAnswered, c.peers, c.entries, c.capacity, c.attached} {
		ch <- d
	}
}

func (c *datapathCollector) Collect(ch chan<- prometheus.Metric) {
	if cnt, err := c.dp.Counters(); err != nil {
		c.m.log.Warn("metrics: read datapath counters", "err", err)
	} else {
		counter := func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		}
		counter(c.verdicts, cnt.Allow, "ALLOW")
		counter(c.verdicts, cnt.Deny, "DENY")
		counter(c.verdicts, cnt.Redirect, "REDIRECT")
		counter(c.drops, cnt.RingbufDrops)
		counter(c.origFail, cnt.OrigStoreFailures)
		counter(c.tupleFail, cnt.TupleStoreFailures)
		counter(c.origAnswered, cnt.OrigDstAnswered)
		counter(c.peers, cnt.PeersRestored)
	}
	usage, err := c.dp.MapUsage()
	if err != nil {
		c.m.log.Warn("metrics: read datapath map usage", "err", err)
	}
	for _, u := range usage {
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(u.Entries), u.Name)
		ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(u.Capacity), u.Name)
	}
	for _, h := range c.dp.Hooks() {
		v := 0.0
		if h.Attached {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.attached, prometheus.GaugeValue, v, h.Hook)
	}
}
