// Package dashboards holds the Grafana dashboards (JSON) shipped with Meshwarden. This test checks
// them against the current Grafana dashboard schema; test/observability_test.go checks their
// PromQL against a live Prometheus scraping a live daemon.
package dashboards

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// schemaVersion is the dashboard schema of current Grafana (12.x), which the SDK models.
const schemaVersion = 42

func TestDashboardsDecodeStrictlyAsTheCurrentGrafanaSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	uids := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard.Dashboard
		// Strict decoding reports unknown fields, wrong types and missing required fields; the
		// SDK returns an empty cog.BuildErrors when there is nothing to report.
		if err := d.UnmarshalJSONStrict(raw); err != nil {
			var be cog.BuildErrors
			if !errors.As(err, &be) || len(be) > 0 {
				t.Errorf("%s: %v", f, err)
				continue
			}
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if d.SchemaVersion != schemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", f, d.SchemaVersion, schemaVersion)
		}
		if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
			t.Errorf("%s: no uid or title", f)
		} else if other, dup := uids[*d.Uid]; dup {
			t.Errorf("%s and %s share uid %s", f, other, *d.Uid)
		} else {
			uids[*d.Uid] = f
		}
		// Strict decoding can drop panels it does not know: count them in the plain JSON too.
		var plain struct{ Panels []json.RawMessage }
		if err := json.Unmarshal(raw, &plain); err != nil {
			t.Fatal(err)
		}
		if len(d.Panels) != len(plain.Panels) || len(plain.Panels) == 0 {
			t.Errorf("%s: %d panels decoded of %d", f, len(d.Panels), len(plain.Panels))
		}
	}
}
