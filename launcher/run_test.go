package launcher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn"
	ptest.Main(m)
}

var testNow = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

// defaultSample generates the sample `make run` analyses (same clients and seed).
func defaultSample(t testing.TB) (warehouseURL string, truth sampledata.Truth) {
	t.Helper()
	design, err := sampleDesign()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truth, err = sampledata.WriteDuckDB(dir, sampledata.Options{Clients: DefaultSampleClients, Seed: DefaultSampleSeed, Design: design})
	if err != nil {
		t.Fatal(err)
	}
	return "duckdb:" + filepath.Join(dir, "mozdata.duckdb"), truth
}

// TestRunDefaultSample is `make run`'s acceptance: the sample config resolved with the real
// firefox_desktop platform defaults; the SQL files, one per basis, data source and window;
// both JSON files of every period, valid against the published schema, with exactly the
// (metric, statistic) pairs the resolved config asks for in every window and no duplicate
// rows; and the treatment's relative uplift of mean active hours excluding 0 and containing
// the generated true effect.
func TestRunDefaultSample(t *testing.T) {
	url, truth := defaultSample(t)
	out := filepath.Join(t.TempDir(), "output")
	var summary bytes.Buffer
	sqlDir := filepath.Join(t.TempDir(), "sql")
	if err := Run(context.Background(), RunOptions{Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events",
		Output: out, Now: testNow, SQLOutputDir: sqlDir}, &summary); err != nil {
		t.Fatal(err)
	}
	a := resolvedSample(t)
	windows := map[configs.Period]int{configs.Day: 30, configs.Week: 4, configs.Overall: 1, configs.PreenrollmentWeek: 1, configs.PreenrollmentDays28: 1}
	wantSQL := []string{"enrollments_sample_sidebar_redesign.sql"}
	for period, n := range windows {
		for _, basis := range []string{"enrollments", "exposures"} {
			sources := map[string]bool{}
			for _, name := range a.Periods[period] {
				if m := a.Metrics[name]; m.DataSource != "" && slices.Contains(m.AnalysisBases, basis) {
					sources[m.DataSource] = true
				}
			}
			for ds := range sources {
				for w := 1; w <= n; w++ {
					wantSQL = append(wantSQL, fmt.Sprintf("sample_sidebar_redesign_%s_%s_%s_%d.sql", basis, ds, period, w))
				}
			}
		}
	}
	slices.Sort(wantSQL)
	if got := dirNames(t, sqlDir); !slices.Equal(got, wantSQL) {
		t.Errorf("SQL files %v, want %v", got, wantSQL)
	}
	if len(wantSQL) < 200 {
		t.Errorf("only %d SQL files: the platform defaults are not in the run", len(wantSQL))
	}

	schema, err := jsonschema.NewCompiler().Compile("../../shared/fixtures/schemas/statistics.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for period, n := range windows {
		name := "statistics_sample_sidebar_redesign_" + period.Suffix() + ".json"
		data, err := os.ReadFile(filepath.Join(out, "statistics", name))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		parsed, err := export.ParseStatisticsJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(parsed) != n {
			t.Errorf("%s: %d windows, want %d", name, len(parsed), n)
		}
		want := wantPairs(t, a, period)
		for i, w := range parsed {
			got := map[string]bool{}
			for _, r := range w.Rows {
				if r.AnalysisBasis == "enrollments" && r.Metric != "identity" {
					got[r.Metric+" "+r.Statistic] = true
				}
			}
			if w.Index != i+1 || !maps.Equal(got, want) {
				t.Errorf("%s window %d (index %d): metric and statistic pairs\n%v\nwant\n%v", name, i+1, w.Index, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		}
		if d := export.Duplicates(parsed); len(d) > 0 {
			t.Errorf("%s: duplicate rows %v", name, d)
		}
	}

	overall, err := export.ReadTable(filepath.Join(out, "tables", "statistics_sample_sidebar_redesign_overall_1.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	effect, ok := truth.EffectFor("treatment", "active_hours", 0, 28)
	if !ok {
		t.Fatal("no true effect for active_hours")
	}
	found := false
	for _, r := range overall {
		if r.Metric == "active_hours" && r.Statistic == "mean" && r.Branch == "treatment" && r.AnalysisBasis == "enrollments" &&
			r.Segment == transforms.SegmentAll && r.Comparison == statistics.RelativeUplift && r.ComparisonToBranch == "control" {
			found = true
			if !(r.Lower > 0) || !(r.Lower <= effect.RelativeUplift && effect.RelativeUplift <= r.Upper) {
				t.Errorf("relative uplift of active hours [%g, %g] must exclude 0 and contain the true %g", r.Lower, r.Upper, effect.RelativeUplift)
			}
		}
		if r.Metric == "identity" && r.AnalysisBasis == "enrollments" && r.Segment == transforms.SegmentAll && r.Point != float64(truth.BranchCounts[r.Branch]) {
			t.Errorf("identity count of %s = %g, want the generated %d", r.Branch, r.Point, truth.BranchCounts[r.Branch])
		}
	}
	// The sample config's segment: clients whose enrollment-day row says Firefox is their
	// default browser, counted in the warehouse directly.
	wh, err := warehouse.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	inSegment := map[string]float64{}
	err = wh.Query(context.Background(), `SELECT list_filter(e.event_map_values, x -> x.key = 'branch')[1].value, count(DISTINCT e.client_id)
		FROM mozdata.telemetry.events e JOIN mozdata.telemetry.clients_daily c
			ON c.client_id = e.client_id AND c.submission_date = e.submission_date
		WHERE e.event_category = 'normandy' AND e.event_method = 'enroll' AND e.event_string_value = 'sample-sidebar-redesign'
			AND c.is_default_browser GROUP BY 1`, func(_ []string, v []any) error {
		inSegment[v[0].(string)] = float64(v[1].(int64))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	segmentCounts := map[string]float64{}
	for _, r := range overall {
		if r.Metric == "identity" && r.AnalysisBasis == "enrollments" && r.Segment == "default_browser_users" {
			segmentCounts[r.Branch] = r.Point
		}
	}
	if len(inSegment) != 2 || !equalCounts(segmentCounts, inSegment) {
		t.Errorf("default_browser_users clients per branch %v, want %v (from the warehouse)", segmentCounts, inSegment)
	}
	if !found {
		t.Error("no relative uplift row for active_hours")
	}
	for _, want := range []string{"overall window 1 (days 0 to 28 after enrollment)", "week window 4 (days 21 to 27 after enrollment)", "active_hours                                mean       treatment"} {
		if !strings.Contains(summary.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.String())
		}
	}
}

// TestRunBadInput: every bad input stops before anything is written.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const good = `[metrics]
weekly = ["active_hours"]
[metrics.active_hours]
select_expression = '{{agg_sum("active_hours_sum")}}'
data_source = "clients_daily"
[metrics.active_hours.statistics.bootstrap_mean]
[data_sources.clients_daily]
from_expression = "mozdata.telemetry.clients_daily"
`
	cases := []struct {
		name, config, warehouse, want string
	}{
		{"missing config", filepath.Join(dir, "sample-sidebar-redesign.toml"), "", "config: open " + filepath.Join(dir, "sample-sidebar-redesign.toml") + ": no such file or directory"},
		{"malformed TOML", write("malformed/sample-sidebar-redesign.toml", "[metrics]\nweekly = [\"active_hours\"\n"), "", "sample-sidebar-redesign.toml:2:25: array is incomplete"},
		{"unknown metric", write("unknown-metric/sample-sidebar-redesign.toml", strings.Replace(good, `weekly = ["active_hours"]`, `weekly = ["active_hour"]`, 1)), "",
			`sample-sidebar-redesign.toml:2: metrics.weekly: metric "active_hour" is not defined`},
		{"unknown data source", write("unknown-source/sample-sidebar-redesign.toml", strings.Replace(good, `data_source = "clients_daily"`, `data_source = "client_daily"`, 1)), "",
			`sample-sidebar-redesign.toml:5: metrics.active_hours.data_source: data source "client_daily" is not defined`},
		{"unknown statistic", write("unknown-stat/sample-sidebar-redesign.toml", strings.Replace(good, "bootstrap_mean", "bootstrap_median", 1)), "",
			`sample-sidebar-redesign.toml:6: metrics.active_hours.statistics.bootstrap_median: statistic "bootstrap_median" does not exist`},
		{"missing warehouse", write("ok/sample-sidebar-redesign.toml", good), "duckdb:" + filepath.Join(dir, "none", "mozdata.duckdb"), "database file: stat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wh := tc.warehouse
			if wh == "" {
				wh = "duckdb:" + filepath.Join(dir, "none", "mozdata.duckdb")
			}
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			err := Run(context.Background(), RunOptions{ConfigFile: tc.config, Warehouse: wh, Output: out, Now: testNow}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output folder %s exists after a failed run", out)
			}
		})
	}
}

// BenchmarkRunDefaultSample times `make run`'s analysis of the default sample (20,000
// clients, 5 windows, 2 bases) on Prism, the sample generated once beforehand.
func BenchmarkRunDefaultSample(b *testing.B) {
	url, _ := defaultSample(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "output")
		if err := Run(context.Background(), RunOptions{Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", Output: out, Now: testNow}, &bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// TestRunUnknownReferenceBranch: a reference branch the experiment does not have stops the
// run before anything is written.
func TestRunUnknownReferenceBranch(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sample-sidebar-redesign.toml")
	text := strings.Replace(string(samples.ConfigTOML), `reference_branch = "control"`, `reference_branch = "ctrl"`, 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	err := Run(context.Background(), RunOptions{ConfigFile: cfg, Warehouse: "duckdb:" + filepath.Join(dir, "mozdata.duckdb"), Output: out, Now: testNow}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `sample-sidebar-redesign.toml:6: experiment.reference_branch: branch "ctrl" is not one of the experiment's branches [control treatment]`) {
		t.Fatalf("error = %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder exists after a failed run")
	}
}

// The desktop default: linear_model_mean of week 1 adjusted by the same metric over the
// pre-enrollment week. On the sample (clients keep their activity level), the covariate
// must narrow the interval of the difference against the unadjusted model, and the
// adjusted relative uplift must still cover the generated true effect.
func TestRunCovariateAdjustment(t *testing.T) {
	url, truth := defaultSample(t)
	config := func(adjusted bool) string {
		cfg := `[experiment]
reference_branch = "control"

[metrics]
weekly = ["active_hours"]
preenrollment_weekly = ["active_hours"]

[metrics.active_hours]
select_expression = '{{agg_sum("active_hours_sum")}}'
data_source = "clients_daily"
analysis_bases = ["enrollments"]

[metrics.active_hours.statistics.linear_model_mean]
drop_highest = 0.005

[data_sources.clients_daily]
from_expression = "mozdata.telemetry.clients_daily"
experiments_column_type = "simple"
`
		if adjusted {
			cfg += "[metrics.active_hours.statistics.linear_model_mean.covariate_adjustment]\nperiod = \"preenrollment_week\"\n"
		}
		return cfg
	}
	week1 := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC) // last enrollment 09-08 + 6 days
	diff := map[bool]statistics.Row{}
	uplift := map[bool]statistics.Row{}
	for _, adjusted := range []bool{false, true} {
		dir := t.TempDir()
		cfgFile := filepath.Join(dir, samples.ConfigName)
		if err := os.WriteFile(cfgFile, []byte(config(adjusted)), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "output")
		err := Run(context.Background(), RunOptions{ConfigFile: cfgFile, Warehouse: url, Dataset: fmt.Sprintf("mozanalysis_%v", adjusted),
			EventsTable: "mozdata.telemetry.events", From: week1, To: week1, Output: out, Now: testNow}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := export.ReadTable(filepath.Join(out, "tables", "statistics_sample_sidebar_redesign_week_1.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Metric == "active_hours" && r.Statistic == "mean_lm" && r.Branch == "treatment" && r.ComparisonToBranch == "control" {
				switch r.Comparison {
				case statistics.Difference:
					diff[adjusted] = r
				case statistics.RelativeUplift:
					uplift[adjusted] = r
				}
			}
		}
	}
	plain, adj := diff[false], diff[true]
	if !(adj.Upper-adj.Lower < 0.9*(plain.Upper-plain.Lower)) {
		t.Errorf("covariate-adjusted difference [%g, %g] is not clearly narrower than unadjusted [%g, %g]", adj.Lower, adj.Upper, plain.Lower, plain.Upper)
	}
	effect, ok := truth.EffectFor("treatment", "active_hours", 0, 6)
	if !ok {
		t.Fatal("no true week-1 effect")
	}
	if u := uplift[true]; !(u.Lower <= effect.RelativeUplift && effect.RelativeUplift <= u.Upper) {
		t.Errorf("adjusted relative uplift [%g, %g] does not cover the true %g", u.Lower, u.Upper, effect.RelativeUplift)
	}
	t.Logf("difference CI width: unadjusted %.4f, adjusted %.4f", plain.Upper-plain.Lower, adj.Upper-adj.Lower)
}

// --bigquery-endpoint points a bigquery: warehouse at an emulator, and only a bigquery: one.
func TestRunBigQueryEndpointFlag(t *testing.T) {
	got, err := runFlagOptions("--warehouse", "bigquery:mozdata", "--bigquery-endpoint", "127.0.0.1:9050")
	if err != nil {
		t.Fatal(err)
	}
	if want := "bigquery:mozdata?endpoint=http%3A%2F%2F127.0.0.1%3A9050"; got.Warehouse != want {
		t.Errorf("warehouse %q, want %q", got.Warehouse, want)
	}
	_, err = runFlagOptions("--warehouse", "duckdb:x.duckdb", "--bigquery-endpoint", "http://127.0.0.1:9050")
	if err == nil || !strings.Contains(err.Error(), "--bigquery-endpoint needs --warehouse bigquery:PROJECT") {
		t.Errorf("error %v", err)
	}
}

// resolvedSample is the bundled sample's config resolved with the embedded platform defaults.
func resolvedSample(t *testing.T) *configs.Analysis {
	t.Helper()
	spec, err := configs.Parse(samples.ConfigName, samples.ConfigTOML)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := experimenter.Parse(samples.ExperimentJSON, testNow)
	if err != nil {
		t.Fatal(err)
	}
	a, err := configs.MetricHub().Resolve(spec, exps[0])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wantPairs are the "metric statistic" pairs (statistic by its output name) the resolved
// config asks for in a period.
func wantPairs(t *testing.T, a *configs.Analysis, period configs.Period) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	for _, sum := range a.Summaries[period] {
		st, err := statistics.New(sum.Statistic.Name, sum.Statistic.Params)
		if err != nil {
			t.Fatal(err)
		}
		want[sum.Metric.Name+" "+st.Output()] = true
	}
	return want
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// runFlagOptions parses `jetstream run ARGS` into the run's options, without running.
func runFlagOptions(args ...string) (RunOptions, error) {
	app := App()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	var got RunOptions
	cmd := runCommand()
	cmd.Action = func(c *cli.Context) error {
		var err error
		got, err = runOptionsFrom(c)
		return err
	}
	app.Commands = []*cli.Command{cmd}
	err := app.Run(append([]string{"jetstream", "run"}, args...))
	return got, err
}

// --exact-bootstrap reaches the run's options (and from there the plan's transforms.Config).
func TestRunExactBootstrapFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"--exact-bootstrap"}, true}} {
		got, err := runFlagOptions(c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got.ExactBootstrap != c.want {
			t.Errorf("%v: ExactBootstrap = %v, want %v", c.args, got.ExactBootstrap, c.want)
		}
	}
}
