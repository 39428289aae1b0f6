// Command meshwarden is the Meshwarden node daemon and its command-line tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/meshwarden/meshwarden/agent"
	"github.com/meshwarden/meshwarden/loader"
	"github.com/meshwarden/meshwarden/policy"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `meshwarden: a transparent security mesh for multi-agent AI systems

usage:
  meshwarden run --config FILE [--state-dir DIR] [--audit-log FILE] [--pin-dir DIR] [--node NAME]
                 [--metrics-addr HOST:PORT] [--log-level L] [--log-format text|json]
                 [--ca-key FILE --ca-cert FILE] [--trust PEM,...]
                 [--audit-stdout] [--audit-webhook URL [--audit-webhook-batch N] [--audit-webhook-queue N]
                  [--audit-webhook-flush D] [--audit-webhook-token-file FILE]] [--audit-payload-key PUB]
  meshwarden run --uninstall [--pin-dir DIR]
  meshwarden policy validate FILE
  meshwarden audit verify [--key PUB] [--progress] FILE...
  meshwarden audit tail [--follow] [--agent A] [--domain D] [--verdict V] [--kind K] [-o text|json] FILE
  meshwarden audit keygen --out DIR
  meshwarden audit decrypt --key PRIVATE [-o text|json] FILE...
  meshwarden status [--state-dir DIR] [-o text|json]
  meshwarden identity revoke [--state-dir DIR] <agent id or SPIFFE id>
  meshwarden observe [--state-dir DIR] [--agent A] [--verdict V] [--kind K] [--domain D] [--channel C]
                     [--since D|TIME] [--follow] [-o text|json]
  meshwarden demo
  meshwarden version
`

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad arguments or an invalid policy
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stderr)
	case "policy":
		return cmdPolicy(args[1:], stdout, stderr)
	case "audit":
		return cmdAudit(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "observe":
		return cmdObserve(args[1:], stdout, stderr)
	case "identity":
		return cmdIdentity(args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case demoClientCmd:
		return cmdDemoClient(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "meshwarden", version)
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "meshwarden: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// defaultGCPercent is the daemon's garbage collection target: the enforcer allocates a few tens
// of kilobytes per exchange and keeps little of it, so the Go default (100) collects many times
// a second under load; 400 collects a quarter as often for a few more megabytes of heap
// (issue 3's benchmark: about 10% more throughput at 16 connections).
const defaultGCPercent = 400

func cmdRun(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts agent.Options
	fs.StringVar(&opts.ConfigPath, "config", "", "security_mesh policy file")
	fs.StringVar(&opts.StateDir, "state-dir", "/var/lib/meshwarden", "state directory")
	fs.StringVar(&opts.AuditLog, "audit-log", "", "audit log (default <state-dir>/audit.jsonl)")
	fs.StringVar(&opts.PinDir, "pin-dir", loader.DefaultPinDir, "bpffs directory for pinned maps and links")
	fs.StringVar(&opts.Node, "node", "", "node name in audit records (default the host name)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	fs.StringVar(&opts.MetricsAddr, "metrics-addr", "127.0.0.1:9464", "where to serve Prometheus /metrics (empty: nowhere)")
	fs.StringVar(&opts.CAKeyFile, "ca-key", "", "mesh CA private key (PKCS #8 Ed25519, mode 0600); default: created under <state-dir>/ca")
	fs.StringVar(&opts.CACertFile, "ca-cert", "", "mesh CA certificate (PEM), with -ca-key")
	trust := fs.String("trust", "", "comma-separated PEM files of further CA certificates to trust")
	fs.BoolVar(&opts.AuditExport.Stdout, "audit-stdout", false, "also write every committed audit line to stdout (logs go to stderr)")
	fs.StringVar(&opts.AuditExport.Webhook, "audit-webhook", "", "also POST committed audit lines to this http(s) URL as JSON array batches")
	fs.IntVar(&opts.AuditExport.WebhookBatch, "audit-webhook-batch", 256, "records per webhook POST")
	fs.IntVar(&opts.AuditExport.WebhookQueue, "audit-webhook-queue", 10000, "records waiting for the webhook before new ones are dropped (counted)")
	fs.DurationVar(&opts.AuditExport.WebhookFlush, "audit-webhook-flush", agent.DefaultWebhookFlush, "longest wait for a webhook batch to fill")
	fs.StringVar(&opts.AuditExport.WebhookTokenFile, "audit-webhook-token-file", "", "file holding a bearer token for the webhook")
	fs.StringVar(&opts.AuditPayloadKeyFile, "audit-payload-key", "", "audit payload public key (PKIX PEM, from meshwarden audit keygen) that payloads of audit_payloads domains are sealed to; required when the policy has such a domain")
	uninstall := fs.Bool("uninstall", false, "detach the pinned programs, remove the pinned maps and exit")
	gcPercent := fs.Int("gc-percent", defaultGCPercent, "Go garbage collection target (as GOGC; the GOGC environment variable wins)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if *trust != "" {
		opts.TrustFiles = strings.Split(*trust, ",")
	}
	if *uninstall {
		if err := loader.Uninstall(opts.PinDir); err != nil {
			fmt.Fprintln(stderr, "meshwarden: uninstall:", err)
			return exitFailure
		}
		fmt.Fprintln(stderr, "meshwarden: programs detached and pins removed from", opts.PinDir)
		return exitOK
	}
	if opts.ConfigPath == "" {
		fmt.Fprintln(stderr, "meshwarden run: --config is required")
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "meshwarden run: --log-level:", err)
		return exitUsage
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch *logFormat {
	case "text":
		opts.Logger = slog.New(slog.NewTextHandler(stderr, hopts))
	case "json":
		opts.Logger = slog.New(slog.NewJSONHandler(stderr, hopts))
	default:
		fmt.Fprintf(stderr, "meshwarden run: --log-format: %q is neither text nor json\n", *logFormat)
		return exitUsage
	}
	opts.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := agent.Run(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "meshwarden run:", err)
		if errors.Is(err, agent.ErrInvalidPolicy) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

func cmdPolicy(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "validate" {
		fmt.Fprintln(stderr, "usage: meshwarden policy validate FILE")
		return exitUsage
	}
	pol, err := policy.Load(args[1])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: valid: %d domains, %d zones, %d agents, %d segmentation rules, default %s\n",
		args[1], len(pol.Domains), len(pol.Zones), len(pol.Agents), len(pol.Segmentation), pol.DefaultAction)
	for _, w := range pol.Unreachable() {
		fmt.Fprintf(stdout, "warning: %v\n", w)
	}
	return exitOK
}
