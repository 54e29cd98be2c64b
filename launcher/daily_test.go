package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// sampleRecords is an Experimenter list around the bundled sample: the sample itself; the
// follow-up experiment some of its clients also enrolled in (present in the sample
// telemetry, branches control and treatment-b, no config file: platform defaults only);
// and an experiment of an application Jetstream does not analyse (its decision fails).
func sampleRecords(t *testing.T) []byte {
	t.Helper()
	var sample map[string]any
	if err := json.Unmarshal(samples.ExperimentJSON, &sample); err != nil {
		t.Fatal(err)
	}
	clone := func(edit func(map[string]any)) map[string]any {
		var c map[string]any
		data, _ := json.Marshal(sample)
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		edit(c)
		return c
	}
	followup := clone(func(r map[string]any) {
		slug := sampledata.OtherSlug("sample-sidebar-redesign")
		r["slug"], r["id"], r["userFacingName"] = slug, slug, "Sample follow-up"
		branches := r["branches"].([]any)
		branches[1].(map[string]any)["slug"] = "treatment-b"
	})
	monitor := clone(func(r map[string]any) {
		r["slug"], r["id"], r["appName"], r["appId"] = "monitor-banner", "monitor-banner", "monitor_cirrus", "monitor.cirrus"
	})
	data, err := json.Marshal([]any{sample, followup, monitor})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The daily run of one date over Experimenter's records computes every due experiment in
// one pipeline and publishes each one's files; an experiment that fails is reported (the run
// ends with an error naming it) without costing the others their results.
func TestRunDailyManyExperiments(t *testing.T) {
	url, _ := defaultSample(t)
	dir := t.TempDir()
	records := filepath.Join(dir, "experiments.json")
	if err := os.WriteFile(records, sampleRecords(t), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "metric-hub", "jetstream")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, samples.ConfigName), samples.ConfigTOML, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "output")
	// Week 1 of both experiments is analysed on 2026-09-14: enrollment runs from 09-01 to
	// 09-08 (Jetstream's last enrollment date is start + enrollment period, 7 days).
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	var summary bytes.Buffer
	err := Run(context.Background(), RunOptions{ExperimentFile: records, ConfigRepos: []string{filepath.Join(dir, "metric-hub")},
		Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: day, To: day,
		Periods: []configs.Period{configs.Week}, Output: out, Now: testNow}, &summary)
	if err == nil || !strings.Contains(err.Error(), `experiment "monitor-banner" on 2026-09-14: UnsupportedApplicationException`) {
		t.Fatalf("run error = %v, want the monitor experiment's failure", err)
	}

	// Both desktop experiments are published, each counted from the warehouse directly.
	wh, err := warehouse.Open(url) // the run's own client: DuckDB allows one configuration per file
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"sample-sidebar-redesign", sampledata.OtherSlug("sample-sidebar-redesign")} {
		tableSlug := strings.ReplaceAll(slug, "-", "_")
		data, err := os.ReadFile(filepath.Join(out, "statistics", export.StatisticsFile(tableSlug, "weekly")))
		if err != nil {
			t.Fatalf("%s: %v", slug, err)
		}
		windows, err := export.ParseStatisticsJSON(data)
		if err != nil || len(windows) != 1 || windows[0].Index != 1 {
			t.Fatalf("%s: weekly file: %v, %d windows", slug, err, len(windows))
		}
		want := map[string]float64{}
		err = wh.Query(context.Background(), `SELECT list_filter(event_map_values, x -> x.key = 'branch')[1].value, count(DISTINCT client_id)
			FROM mozdata.telemetry.events WHERE event_category = 'normandy' AND event_method = 'enroll'
			AND event_string_value = '`+slug+`' AND submission_date BETWEEN DATE '2026-09-01' AND DATE '2026-09-08' GROUP BY 1`,
			func(_ []string, v []any) error {
				want[v[0].(string)] = float64(v[1].(int64))
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		metrics := map[string]bool{}
		for _, r := range windows[0].Rows {
			if r.Metric == transforms.Identity && r.Segment == transforms.SegmentAll && r.AnalysisBasis == "enrollments" {
				got[r.Branch] = r.Point
			}
			metrics[r.Metric] = true
		}
		if len(want) != 2 || !equalCounts(got, want) {
			t.Errorf("%s: enrolled clients per branch %v, want %v (from the warehouse)", slug, got, want)
		}
		if !metrics["active_hours"] || !metrics["days_of_use"] {
			t.Errorf("%s: metrics %v lack the weekly defaults active_hours and days_of_use", slug, metrics)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "statistics", export.StatisticsFile("monitor_banner", "weekly"))); !os.IsNotExist(err) {
		t.Errorf("the failed experiment has a statistics file (stat: %v)", err)
	}
	// The failure is logged and published; the analysed experiments have metadata and an
	// empty errors document.
	doc, err := os.ReadFile(filepath.Join(out, "errors", "errors_monitor_banner.json"))
	if err != nil {
		t.Fatal(err)
	}
	var published []map[string]any
	if err := json.Unmarshal(doc, &published); err != nil || len(published) != 1 ||
		published[0]["exception_type"] != "UnsupportedApplicationException" || published[0]["experiment"] != "monitor-banner" {
		t.Errorf("errors_monitor_banner.json = %s (%v)", doc, err)
	}
	for _, name := range []string{"metadata_sample_sidebar_redesign.json", "metadata_sample_sidebar_redesign_followup.json"} {
		data, err := os.ReadFile(filepath.Join(out, "metadata", name))
		var meta struct {
			Metrics map[string]any `json:"metrics"`
		}
		if err != nil || json.Unmarshal(data, &meta) != nil || meta.Metrics["active_hours"] == nil {
			t.Errorf("%s: %v, metrics %v", name, err, meta.Metrics)
		}
	}
	if doc, err := os.ReadFile(filepath.Join(out, "errors", "errors_sample_sidebar_redesign.json")); err != nil || string(doc) != "[]" {
		t.Errorf("errors_sample_sidebar_redesign.json = %s (%v), want []", doc, err)
	}
	if _, err := os.Stat(filepath.Join(out, "metadata", "metadata_monitor_banner.json")); !os.IsNotExist(err) {
		t.Errorf("the failed experiment has metadata (stat: %v)", err)
	}
	if !strings.Contains(summary.String(), "failed: experiment \"monitor-banner\"") {
		t.Errorf("summary does not report the failure:\n%s", summary.String())
	}
}

func equalCounts(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
