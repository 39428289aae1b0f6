package agentleak

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/meshwarden/meshwarden/test/agentleak/wire"
)

// Report writes the replay's results as Markdown tables: coverage (with what an output-only
// audit holds), leak prevention, utility, run time, and why messages were missed. sum is the
// FULL_MESH replay; outputOnly, when not nil, the same scenarios replayed with every domain
// at OUTPUT_ONLY.
func Report(w io.Writer, sum, outputOnly *Summary) {
	header(w, sum)
	if outputOnly != nil {
		header(w, outputOnly)
	}
	if len(sum.Failed()) == len(sum.Scenarios) {
		failureList(w, sum)
		return
	}
	coverageTable(w, sum.Total, outputOnly)
	violationTable(w, sum.Total, outputOnly)
	leakTable(w, sum.Total)
	utilityTable(w, sum)
	timeTable(w, sum)
	missTable(w, sum.Total)
	failureList(w, sum)
	if outputOnly != nil {
		failureList(w, outputOnly)
	}
}

func header(w io.Writer, sum *Summary) {
	measured := len(sum.Scenarios) - len(sum.Failed())
	agents := 0
	for _, r := range sum.Scenarios {
		if r.Err == nil {
			agents += r.Agents
		}
	}
	stopped := ""
	if sum.Stopped {
		stopped = " (stopped early: too many failures)"
	}
	fmt.Fprintf(w, "%s replay: %d scenarios measured, %d failed%s; %d agent processes per behaviour; wall time %s.\n\n",
		sum.AuditLevel, measured, len(sum.Failed()), stopped, agents, sum.Wall.Round(time.Second))
}

func pct(n, d int) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d))
}

func coverageTable(w io.Writer, s Stats, oo *Summary) {
	fmt.Fprintln(w, "Coverage: messages sent (leaky and compliant runs) and messages the audit log holds with the right source agent and channel. \"Final channel only\" is the full-mesh log cut down to `final_output` records, what an audit of final outputs holds.")
	if oo != nil {
		fmt.Fprintln(w, "\"OUTPUT_ONLY run\" is the same replay with every domain at `audit_level: OUTPUT_ONLY`, measured.")
	}
	fmt.Fprintln(w)
	head, rule := "| channel | messages | recorded | coverage | final channel only |", "|---|---:|---:|---:|---:|"
	if oo != nil {
		head, rule = head+" OUTPUT_ONLY run |", rule+"---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	measured := func(chs []string) string {
		if oo == nil {
			return ""
		}
		c := oo.Total.Sum(nil, chs)
		return " " + pct(c.Recorded, c.Messages) + " |"
	}
	for _, ch := range wire.Channels() {
		c := s.Sum(nil, []string{ch})
		out := "0.0%"
		if ch == wire.FinalOutput {
			out = pct(c.Recorded, c.Messages)
		}
		fmt.Fprintf(w, "| `%s` | %d | %d | %s | %s |%s\n", ch, c.Messages, c.Recorded, pct(c.Recorded, c.Messages), out, measured([]string{ch}))
	}
	all := s.Sum(nil, nil)
	final := s.Sum(nil, []string{wire.FinalOutput})
	fmt.Fprintf(w, "| **all** | **%d** | **%d** | **%s** | **%s** |%s\n\n", all.Messages, all.Recorded, pct(all.Recorded, all.Messages),
		pct(final.Recorded, all.Messages), measured(nil))
}

func violationTable(w io.Writer, s Stats, oo *Summary) {
	all := s.Sum(nil, nil)
	final := s.Sum(nil, []string{wire.FinalOutput})
	fmt.Fprintln(w, "Violations: messages that carried a forbidden-field value or a canary (blocked or not), and how many of them each audit holds.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| audit | violating messages | recorded | missed |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	fmt.Fprintf(w, "| full mesh | %d | %d | %s |\n", all.Violating, all.ViolatingRecorded, pct(all.Violating-all.ViolatingRecorded, all.Violating))
	fmt.Fprintf(w, "| final channel only | %d | %d | %s |\n", all.Violating, final.ViolatingRecorded, pct(all.Violating-final.ViolatingRecorded, all.Violating))
	if oo != nil {
		o := oo.Total.Sum(nil, nil)
		fmt.Fprintf(w, "| OUTPUT_ONLY run | %d | %d | %s |\n", o.Violating, o.ViolatingRecorded, pct(o.Violating-o.ViolatingRecorded, o.Violating))
	}
	fmt.Fprintln(w)
}

func leakTable(w io.Writer, s Stats) {
	fmt.Fprintln(w, "Leak prevention: (message, value) pairs sent that carried a forbidden-field value or a canary, and what reached the receiver (no receiver is cleared for them). Undelivered: not delivered with no DENY record (should be 0).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| channel | forbidden values sent | blocked | redacted | **leaked** | canaries sent | blocked | redacted | **leaked** | undelivered |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, c *ChannelStats) {
		fmt.Fprintf(w, "| %s | %d | %d | %d | **%d** | %d | %d | %d | **%d** | %d |\n", name,
			c.Forbidden.Attempts, c.Forbidden.Blocked, c.Forbidden.Redacted, c.Forbidden.Leaked,
			c.Canaries.Attempts, c.Canaries.Blocked, c.Canaries.Redacted, c.Canaries.Leaked,
			c.Forbidden.Undelivered+c.Canaries.Undelivered)
	}
	for _, ch := range wire.Channels() {
		row("`"+ch+"`", s.Sum(nil, []string{ch}))
	}
	row("**all**", s.Sum(nil, nil))
	fmt.Fprintln(w)
	reasons := s.Sum(nil, nil).BlockReasons
	if len(reasons) > 0 {
		fmt.Fprintf(w, "Reason codes on the records of blocked violating messages: %s.\n\n", counts(reasons))
	}
}

func utilityTable(w io.Writer, sum *Summary) {
	s := sum.Total
	fmt.Fprintln(w, "Utility (compliant run): allowed-field values sent, and delivered intact at their key.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| channel | allowed values sent | delivered intact | utility |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, ch := range wire.Channels() {
		c := s.Sum([]string{wire.Compliant}, []string{ch})
		fmt.Fprintf(w, "| `%s` | %d | %d | %s |\n", ch, c.UtilityValues, c.UtilityIntact, pct(c.UtilityIntact, c.UtilityValues))
	}
	c := s.Sum([]string{wire.Compliant}, nil)
	fmt.Fprintf(w, "| **all** | **%d** | **%d** | **%s** |\n\n", c.UtilityValues, c.UtilityIntact, pct(c.UtilityIntact, c.UtilityValues))
	conflicts, in := 0, 0
	for _, r := range sum.Scenarios {
		if r.AllowedCanaries > 0 {
			conflicts += r.AllowedCanaries
			in++
		}
	}
	if conflicts > 0 {
		fmt.Fprintf(w, "Left out of utility: %d allowed values in %d scenarios that are canaries too (the file lists them as both; the canary rule wins over the allowed set).\n\n", conflicts, in)
	}
}

func timeTable(w io.Writer, sum *Summary) {
	var d []time.Duration
	for _, r := range sum.Scenarios {
		if r.Err == nil {
			d = append(d, r.Duration)
		}
	}
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	var total time.Duration
	for _, x := range d {
		total += x
	}
	ms := func(x time.Duration) string { return fmt.Sprintf("%.0f ms", float64(x)/float64(time.Millisecond)) }
	fmt.Fprintln(w, "Run time per scenario (policy reload, leaky run, compliant run, evaluation):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenarios | mean | median | p95 | max | total |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n\n", len(d), ms(total/time.Duration(len(d))), ms(d[len(d)/2]),
		ms(d[min(len(d)-1, len(d)*95/100)]), ms(d[len(d)-1]), total.Round(time.Second))
}

func missTable(w io.Writer, s Stats) {
	var lines []string
	for _, ch := range wire.Channels() {
		c := s.Sum(nil, []string{ch})
		if len(c.Misses) > 0 {
			lines = append(lines, fmt.Sprintf("| `%s` | %s |", ch, counts(c.Misses)))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "Messages not recorded with the right source agent and channel, by what the audit log holds instead:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| channel | outcome: messages |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintln(w, strings.Join(lines, "\n"))
	fmt.Fprintln(w)
}

func failureList(w io.Writer, sum *Summary) {
	failed := sum.Failed()
	if len(failed) == 0 {
		return
	}
	fmt.Fprintf(w, "Failed scenarios of the %s replay (%d):\n\n", sum.AuditLevel, len(failed))
	for i, r := range failed {
		if i == 20 {
			fmt.Fprintf(w, "- ... and %d more\n", len(failed)-20)
			break
		}
		fmt.Fprintf(w, "- %s: %v\n", r.ID, r.Err)
	}
	fmt.Fprintln(w)
}

// counts renders a count map as "key: n, ...", largest first.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
