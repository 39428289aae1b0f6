package agent

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

// AuditExport configures where the daemon exports its committed audit lines, besides the log
// file: its stdout and an HTTP webhook. The zero value exports nowhere.
type AuditExport struct {
	Stdout       bool          // JSON lines to stdout (the daemon logs to stderr)
	Webhook      string        // URL that gets POSTed JSON batches; empty: none
	WebhookBatch int           // records per POST; default 256
	WebhookQueue int           // records waiting before new ones are dropped; default 10000
	WebhookFlush time.Duration // longest wait for a batch to fill; default 1s
	// WebhookTokenFile holds a bearer token for the webhook (read at start).
	WebhookTokenFile string
}

// DefaultWebhookFlush is AuditExport.WebhookFlush when unset.
const DefaultWebhookFlush = time.Second

// exporters makes the exporters x asks for.
func (x AuditExport) exporters(d *Daemon) ([]*audit.Exporter, error) {
	var exps []*audit.Exporter
	if x.Stdout {
		exps = append(exps, audit.NewLineExporter(os.Stdout, audit.ExportOptions{Logger: d.log}))
	}
	if x.Webhook != "" {
		flush := x.WebhookFlush
		if flush <= 0 {
			flush = DefaultWebhookFlush
		}
		e, err := audit.NewWebhookExporter(audit.WebhookOptions{URL: x.Webhook, TokenFile: x.WebhookTokenFile,
			Export: audit.ExportOptions{Batch: x.WebhookBatch, Queue: x.WebhookQueue, Flush: flush, Logger: d.log}})
		if err != nil {
			return nil, err
		}
		exps = append(exps, e)
	}
	return exps, nil
}

// openAudit opens the node's audit log with its exporters and its fsync histogram.
func (d *Daemon) openAudit() (*audit.Writer, error) {
	exps, err := d.opts.AuditExport.exporters(d)
	if err != nil {
		return nil, fmt.Errorf("audit export: %w", err)
	}
	for _, e := range exps {
		d.log.Info("audit export enabled", "exporter", e.Name())
	}
	return audit.Open(context.Background(), audit.Options{
		Path: d.opts.AuditLog, Node: d.opts.Node, KeyDir: d.opts.StateDir, Logger: d.log,
		Exporters: exps, OnFsync: d.obs.metrics.AuditFsynced,
	})
}
