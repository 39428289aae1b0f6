// Command agentleak replays the AgentLeak scenarios through a real Meshwarden daemon and
// prints the results as Markdown tables (test/agentleak/README.md). `make agentleak` runs it
// (root) on the whole development split.
//
//	agentleak [-scenarios FILE] [-n N] [-only ID,...] [-out FILE] [-output-only=false]
//	          [-field-action weighted|block|redact] [-canary-action redact|block]
//	          [-max-failures N] [-keep-audit FILE] [-work DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/meshwarden/meshwarden/test/agentleak"
	"github.com/meshwarden/meshwarden/test/lab"
)

// options are the command's flags.
type options struct {
	scenarios, only, out, keep string
	n, maxFailures             int
	outputOnly                 bool
	cfg                        agentleak.Config
	policy                     agentleak.PolicyOptions
}

func main() {
	var o options
	flag.StringVar(&o.scenarios, "scenarios", "../shared/data/agentleak/scenarios_dev.jsonl", "the AgentLeak scenarios (JSONL)")
	flag.IntVar(&o.n, "n", 0, "replay an even sample of N scenarios (0: all)")
	flag.StringVar(&o.only, "only", "", "replay only these scenarios (comma-separated ids)")
	flag.StringVar(&o.out, "out", "test/out/agentleak.md", "where to write the results tables (also printed); empty: print only")
	flag.BoolVar(&o.outputOnly, "output-only", true, "replay the scenarios a second time with every domain at audit_level OUTPUT_ONLY")
	flag.IntVar(&o.maxFailures, "max-failures", 5, "stop a replay after this many failed scenarios (0: never)")
	flag.StringVar(&o.keep, "keep-audit", "", "copy the daemon's audit log to this file at the end")
	flag.StringVar(&o.cfg.WorkDir, "work", "", "keep the agents' plans and logs in this directory")
	flag.StringVar(&o.policy.FieldAction, "field-action", "weighted", "sensitive_fields action: weighted (block the fields in evaluation.field_weights, redact the rest), block, redact, or audit (a control: nothing is stopped)")
	flag.StringVar(&o.policy.CanaryAction, "canary-action", "redact", "canary detector action: redact, block, or audit (a control)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The lab's log lines (the daemon's own warnings and errors) go to stderr.
	r := &lab.Runner{Name: "agentleak", Log: os.Stderr}
	os.Exit(r.Run(func() { run(ctx, r, o) }))
}

func run(ctx context.Context, r *lab.Runner, o options) {
	all, err := agentleak.Load(o.scenarios)
	if err != nil {
		r.Fatalf("%v", err)
	}
	sample := selectScenarios(all, o.n, o.only)
	dir, err := os.MkdirTemp("", "agentleak-bin-")
	if err != nil {
		r.Fatalf("%v", err)
	}
	r.Cleanup(func() { os.RemoveAll(dir) })
	o.cfg.Repo = "."
	if o.cfg.Bins, err = lab.Build(".", dir); err != nil {
		r.Fatalf("%v", err)
	}
	h, err := agentleak.Open(ctx, r, o.cfg)
	if err != nil {
		r.Fatalf("%v", err)
	}
	if o.keep != "" {
		r.Cleanup(func() { copyFile(r, h.AuditLog(), o.keep) })
	}
	fmt.Fprintf(os.Stderr, "agentleak: %d of %d scenarios from %s; audit log %s\n", len(sample), len(all), o.scenarios, h.AuditLog())
	full := h.Replay(ctx, sample, agentleak.ReplayOptions{Policy: o.policy, MaxFailures: o.maxFailures, Progress: agentleak.Progress(os.Stderr)})
	var outputOnly *agentleak.Summary
	if o.outputOnly && ctx.Err() == nil && !full.Stopped {
		fmt.Fprintf(os.Stderr, "agentleak: the same scenarios with audit_level OUTPUT_ONLY\n")
		po := o.policy
		po.AuditLevel = agentleak.OutputOnly
		oo := h.Replay(ctx, sample, agentleak.ReplayOptions{Policy: po, MaxFailures: o.maxFailures, Progress: agentleak.Progress(os.Stderr)})
		outputOnly = &oo
	}
	w := io.Writer(os.Stdout)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			r.Fatalf("%v", err)
		}
		f, err := os.Create(o.out)
		if err != nil {
			r.Fatalf("%v", err)
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	agentleak.Report(w, &full, outputOnly)
	verifyAudit(ctx, w, o.cfg.Bins.Meshwarden, h.AuditLog())
	if n := len(full.Failed()); n > 0 {
		r.Errorf("%d scenarios failed", n)
	}
}

// selectScenarios returns the scenarios named by only, else an even sample of n.
func selectScenarios(all []agentleak.Scenario, n int, only string) []agentleak.Scenario {
	if only == "" {
		return agentleak.Sample(all, n)
	}
	var out []agentleak.Scenario
	for _, s := range all {
		if slices.Contains(strings.Split(only, ","), s.ID) {
			out = append(out, s)
		}
	}
	return out
}

// verifyAudit runs `meshwarden audit verify` on the replay's audit log (every file, rotated
// ones included) and writes what it says.
func verifyAudit(ctx context.Context, w io.Writer, meshwarden, log string) {
	files, err := filepath.Glob(filepath.Join(filepath.Dir(log), "audit*.jsonl"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(w, "Audit log: no file to verify (%v).\n", err)
		return
	}
	key := filepath.Join(filepath.Dir(log), "audit-signing.pub")
	out, err := exec.CommandContext(ctx, meshwarden, append([]string{"audit", "verify", "--key", key}, files...)...).CombinedOutput()
	status := "passes"
	if err != nil {
		status = "FAILS (" + err.Error() + ")"
	}
	fmt.Fprintf(w, "`meshwarden audit verify` on the replay's audit log (%d files) %s:\n\n", len(files), status)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
	fmt.Fprintln(w)
}

// copyFile copies src to dst.
func copyFile(r *lab.Runner, src, dst string) {
	data, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(dst, data, 0o600)
	}
	if err != nil {
		r.Errorf("keep audit log: %v", err)
	}
}
