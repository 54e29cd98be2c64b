package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricHubEmbedded(t *testing.T) {
	c := MetricHub()
	if got := strings.Join(c.Platforms(), ","); got != "ads,fenix,firefox_desktop,firefox_ios,focus_android,focus_ios,klar_android,klar_ios,monitor_cirrus,multi_product" {
		t.Errorf("platforms = %s", got)
	}
	if got := c.Functions["agg_sum"]; got != "COALESCE(SUM({select_expr}), 0)" {
		t.Errorf("agg_sum = %q", got)
	}
	if _, ok := c.Functions["agg_histogram_mean_glean"]; !ok {
		t.Error("jetstream/definitions/functions.toml not merged")
	}
	if n := len(c.Outcomes["firefox_desktop"]); n != 31 {
		t.Errorf("firefox_desktop outcomes = %d, want 31", n)
	}
	if len(c.Configs) != 0 {
		t.Errorf("embedded experiment configs = %d, want 0", len(c.Configs))
	}
	// jetstream/definitions attaches statistics to a metric-hub definition
	m := c.Definitions["firefox_desktop"].Metrics["active_hours"]
	if m == nil || m.DataSource != "clients_daily" {
		t.Fatalf("active_hours = %+v", m)
	}
	// the embedded copy is the shared metric-hub snapshot
	shared := loadMetricHub(t)
	for p, d := range shared.Definitions {
		if len(d.Metrics) != len(c.Definitions[p].Metrics) || len(d.DataSources) != len(c.Definitions[p].DataSources) {
			t.Errorf("%s: embedded definitions differ from %s", p, metricHubDir)
		}
	}
}

func TestLoadCollectionErrorHasPosition(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "exp.toml"), []byte("[experiment]\nenrollment_period = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCollection(dir)
	want := filepath.Join(dir, "exp.toml") + ":2: experiment.enrollment_period: want an integer, got a string"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestCollectionResolveOutcome(t *testing.T) {
	spec, err := Parse("x.toml", []byte("[experiment]\noutcomes = [\"firefox_sync\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := MetricHub().Resolve(spec, syntheticExperiment("x", "firefox_desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Periods[Day]) == 0 || len(a.Periods[Week]) <= len(a.Periods[Day]) {
		t.Errorf("day %v, week %v: outcome metrics should be added to week", a.Periods[Day], a.Periods[Week])
	}
	if m := a.Metrics["unenroll"]; m == nil || !strings.Contains(m.SelectExpression, "event_string_value = 'x'") {
		t.Errorf("unenroll SQL not formatted with the slug: %+v", m)
	}
}

func BenchmarkLoadAndResolveAll(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(metricHubDir, "jetstream", "*.toml"))
	for b.Loop() {
		c := loadMetricHub(b)
		for _, f := range files {
			spec, err := LoadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			slug := strings.TrimSuffix(filepath.Base(f), ".toml")
			c.Resolve(spec, syntheticExperiment(slug, "firefox_desktop"))
		}
	}
}
