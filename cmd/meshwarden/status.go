package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/meshwarden/meshwarden/agent/api"
)

// operatorTimeout bounds one request to the daemon's operator API (not a followed stream).
const operatorTimeout = 10 * time.Second

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", "/var/lib/meshwarden", "the daemon's state directory (its socket is there)")
	output := fs.String("o", "text", "text (tables) or json")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 || (*output != "text" && *output != "json") {
		fmt.Fprintln(stderr, "usage: meshwarden status [--state-dir DIR] [-o text|json]")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), operatorTimeout)
	defer cancel()
	st, err := api.NewClient(api.SocketPath(*stateDir)).Status(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "meshwarden status:", err)
		return exitFailure
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return exitFailure
		}
		return exitOK
	}
	if err := printStatus(stdout, st, time.Now()); err != nil {
		return exitFailure
	}
	return exitOK
}

// printStatus writes st as a summary and tables of hooks, maps and agents.
func printStatus(out io.Writer, st api.Status, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	p := st.Policy
	fmt.Fprintf(w, "Daemon:\t%s on node %s, pid %d, up %s\n", st.Version, st.Node, st.PID, now.Sub(st.Started).Truncate(time.Second))
	fmt.Fprintf(w, "Policy:\t%s, digest %s, generation %d, applied %s (%d agents, %d zones, %d zone rules)\n",
		p.Source, p.Digest, p.Generation, p.AppliedAt.Format(time.RFC3339), p.Agents, p.Zones, p.ZoneRules)
	switch r := p.LastReload; {
	case r == nil:
		fmt.Fprintf(w, "Last reload:\tnone since start\n")
	case r.Error != "":
		fmt.Fprintf(w, "Last reload:\t%s %s (%s): %s\n", r.Time.Format(time.RFC3339), r.Result, r.Digest, r.Error)
	default:
		fmt.Fprintf(w, "Last reload:\t%s %s (%s)\n", r.Time.Format(time.RFC3339), r.Result, r.Digest)
	}
	a := st.Audit
	fmt.Fprintf(w, "Audit log:\t%s, %d records written, %d write errors\n", a.Path, a.Records, a.WriteErrors)
	if a.LastError != "" {
		fmt.Fprintf(w, "Last audit error:\t%s: %s\n", a.LastErrorAt.Format(time.RFC3339), a.LastError)
	}
	e := st.Enforcer
	fmt.Fprintf(w, "Enforcer:\t%s; %d accepted, %d refused, %d active, %d HTTP requests\n",
		strings.Join(e.Listeners, ", "), e.Accepted, e.Refused, e.Active, e.Requests)
	metrics := "off"
	if st.MetricsAddr != "" {
		metrics = "http://" + st.MetricsAddr + "/metrics"
	}
	fmt.Fprintf(w, "Metrics:\t%s\n", metrics)
	c := st.Counters
	fmt.Fprintf(w, "Kernel:\t%d allowed, %d denied, %d redirected; %d ring-buffer drops, %d store failures\n",
		c.Allow, c.Deny, c.Redirect, c.RingbufDrops, c.OrigStoreFailures+c.TupleStoreFailures)
	for _, msg := range st.Errors {
		fmt.Fprintf(w, "Error:\t%s\n", msg)
	}

	fmt.Fprintf(w, "\nHOOK\tLINK\tPROGRAM\tATTACHED\tREUSED\tCGROUP\tCGROUP ID\n")
	for _, h := range st.Hooks {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%d\n", h.Hook, h.LinkID, h.ProgramID, yesNo(h.Attached), yesNo(h.Reused), h.Cgroup, h.CgroupID)
	}
	fmt.Fprintf(w, "\nMAP\tTYPE\tID\tENTRIES\tMAX\tUSE\n")
	for _, m := range st.Maps {
		use := 0.0
		if m.MaxEntries > 0 {
			use = 100 * float64(m.Entries) / float64(m.MaxEntries)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%.1f%%\n", m.Name, m.Type, m.ID, m.Entries, m.MaxEntries, use)
	}
	fmt.Fprintf(w, "\nAGENT\tROLE\tZONE\tPROCESSES\tCGROUP\tCGROUP ID\n")
	for _, ag := range st.Agents {
		procs := fmt.Sprint(ag.Processes)
		if ag.Processes < 0 {
			procs = "?"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", ag.ID, ag.Role, ag.Zone, procs, ag.Cgroup, ag.CgroupID)
	}
	return w.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
