package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/internal/fixturedb"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

const telemetryFixtures = "../../shared/fixtures/telemetry"

// The experiment of Jetstream's integration tests as an Experimenter v8 record. Upstream
// it has the legacy type "rollout" and no enrollment end date (so the enrollment check does
// not apply) with a proposed enrollment of 7 days; a v8 record says the same with an
// enrollment end date 6 days after the start: E = 7, last enrollment date 2020-04-06.
// With proposed enrollment 12 the enrollment end date is 2020-04-10.
func fixtureExperiment(slug, enrollmentEnd, branch1, branch2, reference, randomization string) string {
	return fmt.Sprintf(`{
  "slug": %q, "appName": "firefox_desktop", "appId": "firefox-desktop",
  "branches": [{"slug": %q, "ratio": 1}, {"slug": %q, "ratio": 1}],
  "startDate": "2020-03-30", "enrollmentEndDate": %q, "endDate": "2020-06-01",
  "proposedEnrollment": 7, "referenceBranch": %q, "isRollout": false,
  "bucketConfig": {"randomizationUnit": %q, "namespace": "test", "start": 10, "count": 100, "total": 10000}
}`, slug, branch1, branch2, enrollmentEnd, reference, randomization)
}

// The configs of Jetstream's integration tests, built from their parts: metric tables, the
// periods list and the data sources.

// bootstrapMetric is a [metrics.<name>] table with bootstrap_mean.
func bootstrapMetric(name, sql, dataSource, bases string) string {
	return fmt.Sprintf(`
[metrics.%[1]s]
select_expression = %[2]q
data_source = %[3]q
analysis_bases = [%[4]s]
[metrics.%[1]s.statistics.bootstrap_mean]
`, name, sql, dataSource, bases)
}

// dataSources defines each named table of mozdata.telemetry as a data source.
func dataSources(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n[data_sources.%[1]s]\nfrom_expression = \"mozdata.telemetry.%[1]s\"\nexperiments_column_type = \"simple\"\n", n)
	}
	return b.String()
}

// periodList is the [metrics] list of one period.
func periodList(period string, metrics ...string) string {
	return fmt.Sprintf("\n[metrics]\n%s = [\"%s\"]\n", period, strings.Join(metrics, `", "`))
}

const (
	activeHoursSQL = "COALESCE(SUM(active_hours_sum), 0)"
	bothBases      = `"exposures", "enrollments"`
)

// activeHours is active_hours on clients_daily in one period.
func activeHours(period string, bases string) string {
	return periodList(period, "active_hours") + bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bases) +
		dataSources("clients_daily")
}

// test_metrics_with_depends_on: a ratio of two metrics by population_ratio.
var fixtureDependsOnConfig = periodList("weekly", "active_hours", "active_hours_doubled", "active_hours_ratio") +
	bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
	bootstrapMetric("active_hours_doubled", activeHoursSQL+" * 2", "clients_daily", bothBases) + `
[metrics.active_hours_ratio]
depends_on = ["active_hours", "active_hours_doubled"]
analysis_bases = ["exposures", "enrollments"]
[metrics.active_hours_ratio.statistics.population_ratio]
numerator = "active_hours"
denominator = "active_hours_doubled"
num_samples = 10
` + dataSources("clients_daily")

// test_metrics_with_exposure: a custom exposure signal, the exposures basis only.
var fixtureExposureConfig = `
[experiment.exposure_signal]
name = "ad_exposure"
data_source = "clients_daily"
select_expression = "active_hours_sum > 0"
friendly_name = "Ad exposure"
description = "Clients have clicked on ad"
window_start = "enrollment_start"
window_end = "analysis_window_end"
` + activeHours("weekly", `"exposures"`)

// test_discrete_metrics: a second metric on another data source.
var fixtureDiscreteConfig = periodList("weekly", "active_hours", "active_hours_doubled") +
	bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
	bootstrapMetric("active_hours_doubled", activeHoursSQL+" * 2", "clients_last_seen", bothBases) +
	dataSources("clients_daily", "clients_last_seen")

// test_with_segments: two metrics on clients_daily, both bases, and the segment
// regular_user_v3 decided on the enrollment day from clients_last_seen.
var fixtureSegmentsConfig = `
[experiment]
segments = ["regular_user_v3"]
` + periodList("weekly", "active_hours", "active_hours_2") +
	bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
	bootstrapMetric("active_hours_2", activeHoursSQL, "clients_daily", bothBases) +
	dataSources("clients_daily") + `
[segments.regular_user_v3]
data_source = "clients_last_seen"
select_expression = "COALESCE(LOGICAL_OR(is_regular_user_v3), FALSE)"

[segments.data_sources.clients_last_seen]
from_expression = "mozdata.telemetry.clients_last_seen"
window_start = 0
window_end = 0
`

// TestRunJetstreamIntegrationTests runs Jetstream's own integration tests end to end:
// Experimenter record and config → DuckDB holding Jetstream's test telemetry → the Beam
// pipeline on Prism → the statistics table of the window, compared row by row with
// fixtures/telemetry/expected.json (one client per branch, so every bootstrap replicate is
// that client's value and the rows are exact).
func TestRunJetstreamIntegrationTests(t *testing.T) {
	cases := []struct {
		test          string
		slug          string
		enrollmentEnd string
		branches      [3]string // branch 1, branch 2, reference
		runDate       string
		config        string
		table         string
	}{
		{"test_metrics", "test-experiment", "2020-04-05", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			activeHours("weekly", `"exposures", "enrollments"`), "statistics_test_experiment_week_1"},
		{"test_with_segments", "test-experiment", "2020-04-05", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			fixtureSegmentsConfig, "statistics_test_experiment_week_1"},
		{"test_discrete_metrics", "test-experiment", "2020-04-05", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			fixtureDiscreteConfig, "statistics_test_experiment_week_1"},
		{"test_metrics_with_depends_on", "test-experiment", "2020-04-05", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			fixtureDependsOnConfig, "statistics_test_experiment_week_1"},
		{"test_metrics_with_exposure", "test-experiment", "2020-04-05", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			fixtureExposureConfig, "statistics_test_experiment_week_1"},
		{"test_metrics_preenrollment", "test-experiment", "2020-04-10", [3]string{"branch1", "branch2", "branch2"}, "2020-04-12",
			activeHours("preenrollment_weekly", `"enrollments"`), "statistics_test_experiment_preenrollment_week_1"},
		{"test_no_enrollments", "test-experiment-2", "2020-04-05", [3]string{"a", "b", "a"}, "2020-04-12",
			activeHours("weekly", `"enrollments", "exposures"`), "statistics_test_experiment_2_week_1"},
	}
	dir := t.TempDir()
	db, err := fixturedb.Telemetry(dir, telemetryFixtures)
	if err != nil {
		t.Fatal(err)
	}
	// Every upstream test runs twice: randomised by normandy_id (clients analysed by
	// client_id) and by group_id (by profile_group_id: aaa0, bbb0).
	for i, tc := range cases {
		for _, randomization := range []string{"normandy_id", "group_id"} {
			t.Run(tc.test+"/"+randomization, func(t *testing.T) {
				caseDir := t.TempDir()
				expFile := filepath.Join(caseDir, "experiments.json")
				cfgFile := filepath.Join(caseDir, tc.slug+".toml")
				record := fixtureExperiment(tc.slug, tc.enrollmentEnd, tc.branches[0], tc.branches[1], tc.branches[2], randomization)
				if err := os.WriteFile(expFile, []byte(record), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cfgFile, []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
				runDate, err := time.Parse(time.DateOnly, tc.runDate)
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(caseDir, "output")
				err = Run(context.Background(), RunOptions{ConfigOnly: true,
					ExperimentFile: expFile, ConfigFile: cfgFile, Warehouse: "duckdb:" + db,
					// each case has its own enrollments tables, as each upstream test has a fresh dataset
					Dataset:     fmt.Sprintf("mozanalysis_%d_%s", i, randomization),
					EventsTable: "mozdata.telemetry.events", From: runDate, To: runDate, Output: out, Now: testNow,
				}, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				got, err := export.ReadTable(filepath.Join(out, "tables", tc.table+".ndjson"))
				if err != nil {
					t.Fatal(err)
				}
				compareRows(t, got, loadFixtureTest(t, tc.test).Rows)
				checkAnalysisIDs(t, "duckdb:"+db, fmt.Sprintf("mozanalysis_%d_%s", i, randomization), tc.slug, randomization)
				checkEnrollments(t, "duckdb:"+db, fmt.Sprintf("mozanalysis_%d_%s", i, randomization), tc.slug, tc.test, randomization)
			})
		}
	}
}

// fixtureTest is one of Jetstream's integration tests as fixtures/telemetry/expected.json
// states it: its statistics rows (decoded as the JSON export decodes, NULL as NaN) and,
// when listed, its enrollments table.
type fixtureTest struct {
	Rows        []statistics.Row
	Enrollments []map[string]any
}

func loadFixtureTest(t *testing.T, name string) fixtureTest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(telemetryFixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests []struct {
			Name    string `json:"name"`
			Derived struct {
				RowCount int               `json:"row_count"`
				Rows     []json.RawMessage `json:"rows"`
			} `json:"statistics_derived"`
			Enrollments struct {
				Rows []map[string]any `json:"rows"`
			} `json:"enrollments_table"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range doc.Tests {
		if tc.Name != name {
			continue
		}
		if len(tc.Derived.Rows) != tc.Derived.RowCount {
			t.Fatalf("%s: %d rows listed, row_count %d", name, len(tc.Derived.Rows), tc.Derived.RowCount)
		}
		out := fixtureTest{Enrollments: tc.Enrollments.Rows}
		for _, raw := range tc.Derived.Rows {
			r, _, err := export.UnmarshalRow(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out.Rows = append(out.Rows, r)
		}
		return out
	}
	t.Fatalf("no test %q in expected.json", name)
	return fixtureTest{}
}

// compareRows matches rows by identity and compares values with the fixture's tolerance
// (1e-9: BigQuery float sums and numpy means may differ in the last ulp); NULL must be NULL.
func compareRows(t *testing.T, got, want []statistics.Row) {
	t.Helper()
	key := func(r statistics.Row) string {
		return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%s", r.Metric, r.Statistic, r.Branch, r.Comparison, r.ComparisonToBranch, r.Segment, r.AnalysisBasis)
	}
	byKey := map[string]statistics.Row{}
	for _, r := range got {
		byKey[key(r)] = r
	}
	same := func(g, w float64) bool {
		if math.IsNaN(w) {
			return math.IsNaN(g)
		}
		return math.Abs(g-w) <= 1e-9
	}
	for _, w := range want {
		k := key(w)
		g, ok := byKey[k]
		if !ok {
			t.Errorf("missing row %s", k)
			continue
		}
		if !same(g.Point, w.Point) || !same(g.Lower, w.Lower) || !same(g.Upper, w.Upper) || !same(g.CIWidth, w.CIWidth) {
			t.Errorf("%s: point %g [%g, %g] ci %g, want %g [%g, %g] ci %g (NaN = NULL)", k, g.Point, g.Lower, g.Upper, g.CIWidth,
				w.Point, w.Lower, w.Upper, w.CIWidth)
		}
		delete(byKey, k)
	}
	for k := range byKey {
		t.Errorf("unexpected row %s", k)
	}
}

// checkAnalysisIDs: the enrollments table holds the analysis unit's ids — client ids, or
// profile group ids when the experiment is randomised by group_id.
func checkAnalysisIDs(t *testing.T, url, dataset, slug, randomization string) {
	t.Helper()
	c, err := warehouse.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	q := fmt.Sprintf(`SELECT analysis_id FROM %s ORDER BY 1`, c.Dialect().Table(dataset, "enrollments_"+warehouse.NormalizeName(slug)))
	err = c.Query(context.Background(), q, func(_ []string, vals []any) error {
		ids = append(ids, fmt.Sprint(vals[0]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"normandy_id": "[aaaa bbbb]", "group_id": "[aaa0 bbb0]"}[randomization]
	if slug == "test-experiment-2" {
		want = "[]"
	}
	if fmt.Sprint(ids) != want {
		t.Errorf("analysis ids %v, want %s", ids, want)
	}
}

// checkEnrollments compares the enrollments table with the test's enrollments_table rows
// in expected.json, when it lists them: enrollment and exposure dates and counts, and
// segment columns.
func checkEnrollments(t *testing.T, url, dataset, slug, test, randomization string) {
	t.Helper()
	ids := map[string]map[string]string{
		"normandy_id": {"<id:aaaa>": "aaaa", "<id:bbbb>": "bbbb"},
		"group_id":    {"<id:aaaa>": "aaa0", "<id:bbbb>": "bbb0"},
	}[randomization]
	want := loadFixtureTest(t, test).Enrollments
	if len(want) == 0 {
		return
	}
	c, err := warehouse.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	q := `SELECT * FROM ` + c.Dialect().Table(dataset, "enrollments_"+warehouse.NormalizeName(slug))
	err = c.Query(context.Background(), q, func(cols []string, vals []any) error {
		row := map[string]string{}
		for i, col := range cols {
			switch v := vals[i].(type) {
			case time.Time:
				row[col] = v.Format(time.DateOnly)
			default:
				row[col] = fmt.Sprint(v)
			}
		}
		got[row["analysis_id"]] = row
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("enrollments: %d rows, want %d", len(got), len(want))
	}
	for _, w := range want {
		id := ids[fmt.Sprint(w["analysis_id"])]
		for col, v := range w {
			wantValue := fmt.Sprint(v)
			if col == "analysis_id" {
				wantValue = id
			}
			if g := got[id][col]; g != wantValue {
				t.Errorf("enrollments of %s: %s = %q, want %q", id, col, g, wantValue)
			}
		}
	}
}

// A data source whose table does not exist, and a metric with an SQL syntax error: each
// fails alone with an error naming metric, data source and query file, and the metrics of
// the other data source are still analysed and published (Jetstream's discrete metrics).
func TestRunFailingDataSources(t *testing.T) {
	dir := t.TempDir()
	db, err := fixturedb.Telemetry(dir, telemetryFixtures)
	if err != nil {
		t.Fatal(err)
	}
	config := periodList("weekly", "active_hours", "gone", "broken") +
		bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
		bootstrapMetric("gone", activeHoursSQL, "no_such_table", bothBases) +
		bootstrapMetric("broken", "SUM(active_hours_sum) +* 2", "clients_last_seen", bothBases) +
		dataSources("clients_daily", "no_such_table", "clients_last_seen")
	expFile := filepath.Join(dir, "experiments.json")
	cfgFile := filepath.Join(dir, "test-experiment.toml")
	record := fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")
	if err := os.WriteFile(expFile, []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	runDate := time.Date(2020, 4, 12, 0, 0, 0, 0, time.UTC)
	out := filepath.Join(dir, "output")
	err = Run(context.Background(), RunOptions{ConfigOnly: true, ExperimentFile: expFile, ConfigFile: cfgFile, Warehouse: "duckdb:" + db,
		Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: runDate, To: runDate, Output: out, Now: testNow}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := export.ReadTable(filepath.Join(out, "tables", "statistics_test_experiment_week_1.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	metrics := map[string]int{}
	for _, r := range rows {
		metrics[r.Metric]++
	}
	// active_hours: 2 bases × (2 individual + 4 comparison rows); identity: 2 bases × 2 branches
	if want := map[string]int{"active_hours": 12, "identity": 4}; !reflect.DeepEqual(metrics, want) {
		t.Errorf("rows per metric %v, want %v", metrics, want)
	}
	errs, err := transforms.ReadErrors(filepath.Join(out, "tables", transforms.ErrorsFile("test-experiment")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gone":   `data source "no_such_table": query test_experiment_%s_no_such_table_week_1.sql failed`,
		"broken": `data source "clients_last_seen": query test_experiment_%s_clients_last_seen_week_1.sql failed`,
	}
	seen := 0
	for _, e := range errs {
		w, ok := want[e.Metric]
		if !ok {
			t.Errorf("unexpected error %+v", e)
			continue
		}
		if !strings.Contains(e.Message, fmt.Sprintf(w, e.AnalysisBasis)) {
			t.Errorf("%s (%s): %q, want it to contain %q", e.Metric, e.AnalysisBasis, e.Message, fmt.Sprintf(w, e.AnalysisBasis))
		}
		seen++
	}
	if seen != 4 {
		t.Errorf("%d errors, want one per failing metric and basis (4): %+v", seen, errs)
	}

	// The metrics table of the working data source is kept, as Jetstream keeps it, with
	// Jetstream's per-client values (fixtures/telemetry/expected.json: 0.8 and 0.3).
	wh, err := warehouse.Open("duckdb:" + db)
	if err != nil {
		t.Fatal(err)
	}
	perClient := map[string]float64{}
	err = wh.Query(context.Background(), `SELECT analysis_id, active_hours FROM mozanalysis.test_experiment_enrollments_clients_daily_week_1`,
		func(_ []string, v []any) error {
			perClient[v[0].(string)] = v[1].(float64)
			return nil
		})
	if err != nil || len(perClient) != 2 || math.Abs(perClient["aaaa"]-0.8) > 1e-12 || math.Abs(perClient["bbbb"]-0.3) > 1e-12 {
		t.Errorf("metrics table: %v, %v; want aaaa 0.8, bbbb 0.3", perClient, err)
	}

	// The same four failures are rows of the logs table and of the published errors
	// document, with their context and Jetstream's ERROR level.
	logData, err := os.ReadFile(filepath.Join(out, "logs", "logs.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	logs, err := export.DecodeLogTable(logData)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(out, "errors", "errors_test_experiment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var published []map[string]any
	if err := json.Unmarshal(doc, &published); err != nil {
		t.Fatal(err)
	}
	if len(logs) != 4 || len(published) != 4 {
		t.Fatalf("%d log rows and %d published errors, want 4 each:\n%s", len(logs), len(published), doc)
	}
	for i, r := range logs {
		p := published[i]
		if _, ok := want[r.Metric]; !ok || r.LogLevel != "ERROR" || r.ExceptionType != "QueryError" || r.AnalysisPeriod != "week_1" ||
			r.Experiment != "test-experiment" || p["metric"] != r.Metric || p["analysis_basis"] != r.AnalysisBasis ||
			p["exception_type"] != "QueryError" || p["message"] != r.Message {
			t.Errorf("log row %+v / published %v", r, p)
		}
	}
}

// Enrollments are computed once: a segment added to the config later finds the old
// enrollments table without its column, so its queries fail (reported, nothing else lost);
// --recreate-enrollments computes the table again and the segment's statistics appear.
// fixtureRun prepares a run of week 1 of Jetstream's integration-test experiment on its
// telemetry (fixtures/telemetry): the options, with the config file (written by the caller)
// at o.ConfigFile and the output at dir/output.
func fixtureRun(t *testing.T) RunOptions {
	t.Helper()
	dir := t.TempDir()
	db, err := fixturedb.Telemetry(dir, telemetryFixtures)
	if err != nil {
		t.Fatal(err)
	}
	expFile := filepath.Join(dir, "experiments.json")
	record := fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")
	if err := os.WriteFile(expFile, []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	runDate := time.Date(2020, 4, 12, 0, 0, 0, 0, time.UTC)
	return RunOptions{ConfigOnly: true, ExperimentFile: expFile, ConfigFile: filepath.Join(dir, "test-experiment.toml"),
		Warehouse: "duckdb:" + db, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: runDate, To: runDate,
		Output: filepath.Join(dir, "output"), Now: testNow}
}

func TestRunRecreateEnrollments(t *testing.T) {
	o := fixtureRun(t)
	out := o.Output
	run := func(config string, recreate bool) map[string]int {
		t.Helper()
		if err := os.WriteFile(o.ConfigFile, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		o.RecreateEnrollments = recreate
		err := Run(context.Background(), o, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := export.ReadTable(filepath.Join(out, "tables", "statistics_test_experiment_week_1.ndjson"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		segments := map[string]int{}
		for _, r := range rows {
			segments[r.Segment]++
		}
		return segments
	}
	plain := periodList("weekly", "active_hours") + bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) + dataSources("clients_daily")
	if got := run(plain, false); got["all"] == 0 || len(got) != 1 {
		t.Fatalf("first run: rows per segment %v", got)
	}
	// Every query of the stale run fails: the table of the first run stays as it was.
	if got := run(fixtureSegmentsConfig, false); got["regular_user_v3"] != 0 || got["all"] != 16 {
		t.Errorf("with a stale enrollments table: rows per segment %v, want the first run's table", got)
	}
	errs, err := transforms.ReadErrors(filepath.Join(out, "tables", transforms.ErrorsFile("test-experiment")))
	if err != nil || len(errs) == 0 || !strings.Contains(errs[0].Message, "regular_user_v3") {
		t.Errorf("errors of the stale run: %v %+v, want the missing segment column named", err, errs)
	}
	if got := run(fixtureSegmentsConfig, true); got["all"] == 0 || got["regular_user_v3"] == 0 {
		t.Errorf("after --recreate-enrollments: rows per segment %v, want all and regular_user_v3", got)
	}
}
