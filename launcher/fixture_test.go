package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/internal/fixturedb"
	"github.com/jetstream-beam/jetstream/statistics"
)

const telemetryFixtures = "../../shared/fixtures/telemetry"

// The experiment of Jetstream's integration tests as an Experimenter v8 record. Upstream
// it has the legacy type "rollout" and no enrollment end date (so the enrollment check does
// not apply) with a proposed enrollment of 7 days; a v8 record says the same with an
// enrollment end date 6 days after the start: E = 7, last enrollment date 2020-04-06.
const fixtureExperiment = `{
  "slug": "test-experiment", "appName": "firefox_desktop", "appId": "firefox-desktop",
  "branches": [{"slug": "branch1", "ratio": 1}, {"slug": "branch2", "ratio": 1}],
  "startDate": "2020-03-30", "enrollmentEndDate": "2020-04-05", "endDate": "2020-06-01",
  "proposedEnrollment": 7, "referenceBranch": "branch2", "isRollout": false,
  "bucketConfig": {"randomizationUnit": "normandy_id", "namespace": "test", "start": 10, "count": 100, "total": 10000}
}`

// test_with_segments' config: two metrics on clients_daily, both bases, and the segment
// regular_user_v3 decided on the enrollment day from clients_last_seen.
const fixtureSegmentsConfig = `
[experiment]
segments = ["regular_user_v3"]

[metrics]
weekly = ["active_hours", "active_hours_2"]

[metrics.active_hours]
select_expression = "COALESCE(SUM(active_hours_sum), 0)"
data_source = "clients_daily"
analysis_bases = ["enrollments", "exposures"]
[metrics.active_hours.statistics.bootstrap_mean]

[metrics.active_hours_2]
select_expression = "COALESCE(SUM(active_hours_sum), 0)"
data_source = "clients_daily"
analysis_bases = ["enrollments", "exposures"]
[metrics.active_hours_2.statistics.bootstrap_mean]

[data_sources.clients_daily]
from_expression = "mozdata.telemetry.clients_daily"
experiments_column_type = "simple"

[segments.regular_user_v3]
data_source = "clients_last_seen"
select_expression = "COALESCE(LOGICAL_OR(is_regular_user_v3), FALSE)"

[segments.data_sources.clients_last_seen]
from_expression = "mozdata.telemetry.clients_last_seen"
window_start = 0
window_end = 0
`

// TestRunJetstreamWithSegments is Jetstream's integration test test_with_segments, end to
// end: Experimenter record and config → DuckDB holding Jetstream's own test telemetry →
// the Beam pipeline on Prism → the statistics table of week 1, compared row by row with
// fixtures/telemetry/expected.json (one client per branch, so every bootstrap replicate is
// that client's value and the rows are exact).
func TestRunJetstreamWithSegments(t *testing.T) {
	dir := t.TempDir()
	db, err := fixturedb.Telemetry(dir, telemetryFixtures)
	if err != nil {
		t.Fatal(err)
	}
	expFile := filepath.Join(dir, "experiments.json")
	cfgFile := filepath.Join(dir, "test-experiment.toml")
	if err := os.WriteFile(expFile, []byte(fixtureExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(fixtureSegmentsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	runDate := time.Date(2020, 4, 12, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(dir, "output")
	err = Run(context.Background(), RunOptions{
		ExperimentFile: expFile, ConfigFile: cfgFile, Warehouse: "duckdb:" + db, Dataset: "mozanalysis",
		EventsTable: "mozdata.telemetry.events", From: runDate, To: runDate, Output: out, Now: testNow,
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got, err := export.ReadTable(filepath.Join(out, "tables", "statistics_test_experiment_week_1.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	want := expectedFixtureRows(t, "test_with_segments")
	compareRows(t, got, want)
}

type fixtureRow struct {
	Metric             string   `json:"metric"`
	Statistic          string   `json:"statistic"`
	Branch             string   `json:"branch"`
	Comparison         *string  `json:"comparison"`
	ComparisonToBranch *string  `json:"comparison_to_branch"`
	CIWidth            *float64 `json:"ci_width"`
	Point              *float64 `json:"point"`
	Lower              *float64 `json:"lower"`
	Upper              *float64 `json:"upper"`
	Segment            string   `json:"segment"`
	AnalysisBasis      string   `json:"analysis_basis"`
}

func expectedFixtureRows(t *testing.T, test string) []fixtureRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(telemetryFixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests []struct {
			Name    string `json:"name"`
			Derived struct {
				RowCount int          `json:"row_count"`
				Rows     []fixtureRow `json:"rows"`
			} `json:"statistics_derived"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range doc.Tests {
		if tc.Name == test {
			if len(tc.Derived.Rows) != tc.Derived.RowCount {
				t.Fatalf("%s: %d rows listed, row_count %d", test, len(tc.Derived.Rows), tc.Derived.RowCount)
			}
			return tc.Derived.Rows
		}
	}
	t.Fatalf("no test %q in expected.json", test)
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// compareRows matches rows by identity and compares values with the fixture's tolerance
// (1e-9: BigQuery float sums and numpy means may differ in the last ulp); NULL must be NULL.
func compareRows(t *testing.T, got []statistics.Row, want []fixtureRow) {
	t.Helper()
	key := func(metric, stat, branch, cmp, to, segment, basis string) string {
		return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%s", metric, stat, branch, cmp, to, segment, basis)
	}
	byKey := map[string]statistics.Row{}
	for _, r := range got {
		byKey[key(r.Metric, r.Statistic, r.Branch, r.Comparison, r.ComparisonToBranch, r.Segment, r.AnalysisBasis)] = r
	}
	same := func(g float64, w *float64) bool {
		if w == nil {
			return math.IsNaN(g)
		}
		return math.Abs(g-*w) <= 1e-9
	}
	for _, w := range want {
		k := key(w.Metric, w.Statistic, w.Branch, str(w.Comparison), str(w.ComparisonToBranch), w.Segment, w.AnalysisBasis)
		g, ok := byKey[k]
		if !ok {
			t.Errorf("missing row %s", k)
			continue
		}
		if !same(g.Point, w.Point) || !same(g.Lower, w.Lower) || !same(g.Upper, w.Upper) || !same(g.CIWidth, w.CIWidth) {
			t.Errorf("%s: point %g [%g, %g] ci %g, want %v [%v, %v] ci %v", k, g.Point, g.Lower, g.Upper, g.CIWidth,
				fmtPtr(w.Point), fmtPtr(w.Lower), fmtPtr(w.Upper), fmtPtr(w.CIWidth))
		}
		delete(byKey, k)
	}
	for k := range byKey {
		t.Errorf("unexpected row %s", k)
	}
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}
