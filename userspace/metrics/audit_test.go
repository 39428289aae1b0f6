package metrics

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshwarden/meshwarden/userspace/audit"
)

func TestAuditLogFamiliesFollowARealWriterItsFsyncsCheckpointsAndExporters(t *testing.T) {
	m := New(Options{Version: "test"})
	exp := audit.NewLineExporter(io.Discard, audit.ExportOptions{})
	w, err := audit.Open(context.Background(), audit.Options{
		Path: filepath.Join(t.TempDir(), "audit.jsonl"), Node: "n", CheckpointEvery: 2,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Exporters: []*audit.Exporter{exp}, OnFsync: m.AuditFsynced,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.WatchAudit(w)
	for range 4 {
		if err := w.Write(audit.Record{Kind: audit.KindSystem, Message: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// 4 records and 2 checkpoints, each record fsynced on its own.
	want := `
# HELP meshwarden_audit_checkpoints_total Signed chain checkpoints the audit log wrote.
# TYPE meshwarden_audit_checkpoints_total counter
meshwarden_audit_checkpoints_total 2
# HELP meshwarden_audit_export_records_total Committed audit lines (records and checkpoints) an exporter handled, by result: sent (delivered), queue_full (dropped: its queue was full), given_up (dropped: a send error that is not retried, or the shutdown deadline). Zero for exporters that are not configured.
# TYPE meshwarden_audit_export_records_total counter
meshwarden_audit_export_records_total{exporter="stdout",result="given_up"} 0
meshwarden_audit_export_records_total{exporter="stdout",result="queue_full"} 0
meshwarden_audit_export_records_total{exporter="stdout",result="sent"} 6
meshwarden_audit_export_records_total{exporter="webhook",result="given_up"} 0
meshwarden_audit_export_records_total{exporter="webhook",result="queue_full"} 0
meshwarden_audit_export_records_total{exporter="webhook",result="sent"} 0
# HELP meshwarden_audit_queue_records Records waiting in the audit log's queue for the next group commit.
# TYPE meshwarden_audit_queue_records gauge
meshwarden_audit_queue_records 0
# HELP meshwarden_audit_rotations_total Audit log files rotated (by size or age).
# TYPE meshwarden_audit_rotations_total counter
meshwarden_audit_rotations_total 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"meshwarden_audit_checkpoints_total", "meshwarden_audit_export_records_total",
		"meshwarden_audit_queue_records", "meshwarden_audit_rotations_total"); err != nil {
		t.Error(err)
	}
	// Batches depend on how fast the exporter keeps up; fsyncs do not: one per Write.
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var fsyncs uint64
	for _, mf := range mfs {
		if mf.GetName() == "meshwarden_audit_fsync_duration_seconds" {
			fsyncs = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if fsyncs != 4 {
		t.Errorf("fsyncs observed: %d, want 4", fsyncs)
	}
	if lint, err := testutil.GatherAndLint(m.Registry()); err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", err, lint)
	}
}
