package launcher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// Tests of the operations commands that analyse again or publish again: rerun, backfill,
// rerun-config-changed (and the config records it reads), --statistics-only,
// ensure-enrollments and export-statistics-to-json. They run on the fixture of Jetstream's
// integration tests (fixtureRun): test-experiment, 2020-03-30 to 2020-06-01, last
// enrollment 2020-04-06, so its weekly windows close on 2020-04-12 (week 1), 04-19, …,
// 05-31 (week 8); a week 9 would close on 06-07, after its end.

// opsWeeklyConfig is active_hours on clients_daily, weekly, both bases.
var opsWeeklyConfig = activeHours("weekly", bothBases)

// opsTwoMetricsConfig adds active_hours_doubled to opsWeeklyConfig.
var opsTwoMetricsConfig = periodList("weekly", "active_hours", "active_hours_doubled") +
	bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
	bootstrapMetric("active_hours_doubled", activeHoursSQL+" * 2", "clients_daily", bothBases) +
	dataSources("clients_daily")

// opsWeeks are the week windows of the fixture experiment's whole life.
const opsWeeks = 8

func opsWriteFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func opsReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func opsClient(t *testing.T, url string) warehouse.Client {
	t.Helper()
	c, err := warehouse.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func opsExec(t *testing.T, c warehouse.Client, sql string) {
	t.Helper()
	if err := c.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func opsTables(t *testing.T, c warehouse.Client, dataset string) []string {
	t.Helper()
	tables, err := c.ListTables(context.Background(), dataset)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// opsTableOID is DuckDB's identity of a table: a table written again (CREATE OR REPLACE, or
// dropped and created) has a new one.
func opsTableOID(t *testing.T, c warehouse.Client, dataset, table string) int64 {
	t.Helper()
	var oid int64 = -1
	err := c.Query(context.Background(), fmt.Sprintf(`SELECT table_oid FROM duckdb_tables() WHERE schema_name = '%s' AND table_name = '%s'`, dataset, table),
		func(_ []string, v []any) error {
			oid = v[0].(int64)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if oid < 0 {
		t.Fatalf("no table %s.%s", dataset, table)
	}
	return oid
}

// opsStatisticsFiles are the statistics tables of the output folder (file names).
func opsStatisticsFiles(t *testing.T, output string) []string {
	t.Helper()
	var names []string
	for _, n := range dirNames(t, filepath.Join(output, tablesDir)) {
		if strings.HasPrefix(n, "statistics_") {
			names = append(names, n)
		}
	}
	return names
}

// opsWeekNames are name(week) for weeks from..to.
func opsWeekNames(format string, from, to int) []string {
	var out []string
	for w := from; w <= to; w++ {
		out = append(out, fmt.Sprintf(format, w))
	}
	return out
}

func opsSorted(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return out
}

// opsKeepBeamState is keepBeamState, and then gives Prism back the loopback environment it
// set on its first run in the process: keepBeamState restores the environment type it
// found, "" when no pipeline ran before the test, and Prism sets loopback only when it
// starts its job server, so every later Prism run would cross-compile a worker (without
// cgo, hence without DuckDB) and fail.
func opsKeepBeamState(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { // runs after keepBeamState's cleanup
		if *jobopts.Endpoint != "" && *jobopts.EnvironmentType == "" {
			*jobopts.EnvironmentType = "loopback"
		}
	})
	keepBeamState(t)
}

// opsCLI runs the jetstream command line; stdout is returned, stderr (the log) dropped.
// The caller must have called opsKeepBeamState.
func opsCLI(args ...string) (string, error) {
	var out bytes.Buffer
	app := App()
	app.Writer, app.ErrWriter = &out, io.Discard
	err := app.Run(append([]string{"jetstream"}, args...))
	return out.String(), err
}

// opsFixtureArgs are the flags of a config-file run of the fixture (fixtureRun's options),
// publishing every group (--min-clients 0: one client per branch).
func opsFixtureArgs(o RunOptions) []string {
	return []string{"--config", o.ConfigFile, "--experiment", o.ExperimentFile, "--config-only", "--warehouse", o.Warehouse,
		"--dataset-id", o.Dataset, "--events-table", o.EventsTable, "--output", o.Output, "--min-clients", "0"}
}

// opsWeeklyWindows are the window indexes of the published weekly statistics JSON.
func opsWeeklyWindows(t *testing.T, output string) []int {
	t.Helper()
	data := opsReadFile(t, filepath.Join(output, statisticsDir, export.StatisticsFile("test_experiment", "weekly")))
	windows, err := export.ParseStatisticsJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, w := range windows {
		idx = append(idx, w.Index)
	}
	return idx
}

// opsSeedStale leaves in the warehouse and the output folder what a rerun of
// test-experiment must delete — results of a window that no longer exists (week 9) and of a
// data source its config no longer has (clients_last_seen) — and what it must keep: the
// results of test-experiment-2, whose table slug has test_experiment as prefix, and both
// experiments' enrollments and config records.
func opsSeedStale(t *testing.T, o RunOptions) {
	t.Helper()
	c := opsClient(t, o.Warehouse)
	for _, table := range []string{"statistics_test_experiment_week_9", "test_experiment_enrollments_clients_daily_week_9",
		"test_experiment_exposures_clients_daily_week_9", "test_experiment_enrollments_clients_last_seen_week_1",
		"statistics_test_experiment_2_week_1", "test_experiment_2_enrollments_clients_daily_week_1",
		"enrollments_test_experiment_2", "config_test_experiment_2"} {
		if err := warehouse.WriteTable(context.Background(), c, o.Dataset, table, "SELECT 1 AS x", warehouse.WriteTruncate, warehouse.TableInfo{}); err != nil {
			t.Fatal(err)
		}
	}
	week1 := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson"))
	// Valid tables: had the rerun kept them, the published JSON would have their windows.
	opsWriteFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_9.ndjson"), string(week1))
	opsWriteFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_2_week_1.ndjson"), string(week1))
	if got := opsWeeklyWindows(t, o.Output); !slices.Equal(got, []int{1}) {
		t.Fatalf("weekly windows published by the first run: %v, want [1]", got)
	}
}

// opsCheckRerun checks the warehouse and output after a rerun of test-experiment seeded by
// opsSeedStale: exactly the tables of weeks 1 to 8 of its config (the stale ones gone, the
// other experiment's kept), week 1's statistics as the first run computed them, and the
// published weekly JSON with weeks 1 to 8.
func opsCheckRerun(t *testing.T, o RunOptions, firstWeek1 []byte) {
	t.Helper()
	c := opsClient(t, o.Warehouse)
	want := opsSorted(
		[]string{"config_test_experiment", "enrollments_test_experiment"},
		opsWeekNames("test_experiment_enrollments_clients_daily_week_%d", 1, opsWeeks),
		opsWeekNames("test_experiment_exposures_clients_daily_week_%d", 1, opsWeeks),
		[]string{"statistics_test_experiment_2_week_1", "test_experiment_2_enrollments_clients_daily_week_1",
			"enrollments_test_experiment_2", "config_test_experiment_2"})
	if got := opsTables(t, c, o.Dataset); !slices.Equal(got, want) {
		t.Errorf("tables after the rerun:\n%v\nwant\n%v", got, want)
	}
	wantFiles := opsSorted(opsWeekNames("statistics_test_experiment_week_%d.ndjson", 1, opsWeeks),
		[]string{"statistics_test_experiment_2_week_1.ndjson"})
	if got := opsStatisticsFiles(t, o.Output); !slices.Equal(got, wantFiles) {
		t.Errorf("statistics tables in the output after the rerun:\n%v\nwant\n%v", got, wantFiles)
	}
	if got := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson")); !bytes.Equal(got, firstWeek1) {
		t.Errorf("week 1 statistics of the rerun differ from the first run's:\n%s\nwant\n%s", got, firstWeek1)
	}
	if got, want := opsWeeklyWindows(t, o.Output), []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("published weekly windows %v, want %v", got, want)
	}
	// Every week has the metric's rows: 2 bases × (2 branches + 4 comparisons) + 4 identity.
	for w := 1; w <= opsWeeks; w++ {
		rows, err := export.ReadTable(filepath.Join(o.Output, tablesDir, fmt.Sprintf("statistics_test_experiment_week_%d.ndjson", w)))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, r := range rows {
			counts[r.Metric]++
		}
		if counts["active_hours"] != 12 || counts[transforms.Identity] != 4 {
			t.Errorf("week %d: rows per metric %v, want active_hours 12, identity 4", w, counts)
		}
	}
}

// opsFirstRun analyses week 1 of the fixture with config, returning week 1's statistics
// table.
func opsFirstRun(t *testing.T, o RunOptions, config string) []byte {
	t.Helper()
	opsWriteFile(t, o.ConfigFile, config)
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	return opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson"))
}

// Run with WholeLife and Rerun (what `jetstream rerun` runs): the stale results of the
// experiment go, the other experiment's and the enrollments table stay, and every date of
// its life is analysed again.
func TestOpsRerunRun(t *testing.T) {
	o := fixtureRun(t)
	first := opsFirstRun(t, o, opsWeeklyConfig)
	opsSeedStale(t, o)
	c := opsClient(t, o.Warehouse)
	enrollments := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment")
	metrics := opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_1")

	rerun := o
	rerun.From, rerun.To = time.Time{}, time.Time{} // config-file mode: the experiment's life
	rerun.WholeLife, rerun.Rerun = true, true
	var out bytes.Buffer
	if err := Run(context.Background(), rerun, &out); err != nil {
		t.Fatal(err)
	}
	opsCheckRerun(t, o, first)
	if got := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment"); got != enrollments {
		t.Errorf("the rerun wrote the enrollments table again (without --recreate-enrollments)")
	}
	if got := opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_1"); got == metrics {
		t.Errorf("the rerun did not write the metrics table of week 1 again")
	}
	if !strings.Contains(out.String(), "1 analysed, 0 skipped, 0 failed") {
		t.Errorf("summary:\n%s", out.String())
	}
}

// `jetstream rerun` of a config file: the same as TestOpsRerunRun through the command line,
// then with --recreate-enrollments, which writes the enrollments table again and computes
// the same statistics.
func TestOpsRerunCLI(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	first := opsFirstRun(t, o, opsWeeklyConfig)
	opsSeedStale(t, o)
	c := opsClient(t, o.Warehouse)
	enrollments := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment")
	out, err := opsCLI(append([]string{"rerun"}, opsFixtureArgs(o)...)...)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	opsCheckRerun(t, o, first)
	if got := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment"); got != enrollments {
		t.Errorf("the rerun wrote the enrollments table again (without --recreate-enrollments)")
	}

	out, err = opsCLI(append([]string{"rerun", "--recreate-enrollments"}, opsFixtureArgs(o)...)...)
	if err != nil {
		t.Fatalf("rerun --recreate-enrollments: %v\n%s", err, out)
	}
	if got := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment"); got == enrollments {
		t.Errorf("rerun --recreate-enrollments kept the enrollments table")
	}
	if got := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson")); !bytes.Equal(got, first) {
		t.Errorf("week 1 after rerun --recreate-enrollments differs from the first run's")
	}
	if got := opsStatisticsFiles(t, o.Output); len(got) != opsWeeks+1 {
		t.Errorf("statistics tables after the second rerun: %v", got)
	}
}

// `jetstream rerun --experiment-slug` in Experimenter mode: every date of the experiment's
// life, not only yesterday's (which in 2026 has nothing of it), with the stale results
// deleted and the other experiments' kept.
func TestOpsRerunCLIExperimenter(t *testing.T) {
	opsKeepBeamState(t)
	o := opsExperimenterRun(t)
	o.Slugs = []string{"test-experiment"}
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson"))
	opsSeedStale(t, o)
	out, err := opsCLI("rerun", "--experiment", o.ExperimentFile, "--config-repo", o.ConfigRepos[0], "--config-only",
		"--experiment-slug", "test-experiment", "--warehouse", o.Warehouse, "--dataset-id", o.Dataset, "--events-table", o.EventsTable,
		"--output", o.Output, "--min-clients", "0")
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	opsCheckRerun(t, o, first)
	for _, table := range opsTables(t, opsClient(t, o.Warehouse), o.Dataset) {
		if strings.Contains(table, "never_analysed") {
			t.Errorf("the rerun of test-experiment wrote %s", table)
		}
	}
}

// In Experimenter mode a rerun names its experiments: without --experiment-slug it would
// analyse every experiment over its whole life.
func TestOpsRerunExperimenterNeedsSlug(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	out, err := opsCLI("rerun", "--experiment", o.ExperimentFile, "--warehouse", o.Warehouse, "--output", o.Output)
	if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), "declining") || !strings.Contains(err.Error(), "--experiment-slug") {
		t.Fatalf("rerun without --experiment-slug: %v (exit %d), want a usage error declining", err, ExitCode(err))
	}
	if _, statErr := os.Stat(o.Output); !os.IsNotExist(statErr) {
		t.Errorf("the refused rerun created the output folder (%v); printed %q", statErr, out)
	}
}

// resultTables matches every table and view of an experiment's results, and nothing of
// another experiment or of the experiment's enrollments and config records.
func TestOpsResultTables(t *testing.T) {
	pattern := resultTables("test_experiment")
	for _, tc := range []struct {
		table string
		match bool
	}{
		{"test_experiment_enrollments_clients_daily_week_1", true},
		{"test_experiment_exposures_clients_daily_week_1", true},
		{"test_experiment_enrollments_clients_daily_day_30", true},
		{"test_experiment_exposures_clients_last_seen_days28_2", true},
		{"test_experiment_enrollments_clients_daily_overall_1", true},
		{"test_experiment_enrollments_clients_daily_preenrollment_week_1", true},
		{"test_experiment_exposures_events_preenrollment_days28_1", true},
		{"test_experiment_enrollments_ds_with_underscores_week_12", true},
		{"statistics_test_experiment_day_1", true},
		{"statistics_test_experiment_week_9", true},
		{"statistics_test_experiment_days28_1", true},
		{"statistics_test_experiment_overall_1", true},
		{"statistics_test_experiment_preenrollment_week_1", true},
		{"statistics_test_experiment_preenrollment_days28_1", true},
		{"statistics_test_experiment_daily", true},
		{"statistics_test_experiment_weekly", true},
		{"statistics_test_experiment_days28", true},
		{"statistics_test_experiment_overall", true},
		{"statistics_test_experiment_preenrollment_weekly", true},
		{"statistics_test_experiment_preenrollment_days28", true},
		// near misses
		{"statistics_test_experimentx_week_1", false},
		{"statistics_test_experiment_2_week_1", false},
		{"statistics_test_experiment_2_weekly", false},
		{"test_experiment_2_enrollments_clients_daily_week_1", false},
		{"test_experimentx_enrollments_clients_daily_week_1", false},
		{"test_experiment_enrollments_ds_fortnight_1", false},
		{"test_experiment_enrollments_ds_week", false},
		{"test_experiment_enrollments_ds_week_1_old", false},
		{"test_experiment_treatment_ds_week_1", false},
		{"enrollments_test_experiment", false},
		{"config_test_experiment", false},
		{"statistics_test_experiment_week", false},
		{"statistics_test_experiment_week_", false},
		{"statistics_test_experiment_monthly", false},
		{"statistics_test_experiment_week_1_backup", false},
		{"xstatistics_test_experiment_week_1", false},
		{"other_test_experiment_enrollments_clients_daily_week_1", false},
	} {
		if got := pattern.MatchString(tc.table); got != tc.match {
			t.Errorf("%s: match %v, want %v", tc.table, got, tc.match)
		}
	}
	// The slug is quoted: a dot in it is not a wildcard.
	if resultTables("a.b").MatchString("statistics_aXb_week_1") {
		t.Error(`resultTables("a.b") matches statistics_aXb_week_1`)
	}
}

// `jetstream backfill` analyses the windows that close on the dates from --start-date to
// --end-date, and no other: 2020-04-13 to 04-26 holds the ends of weeks 2 (04-19) and 3
// (04-26), not of week 1 (04-12) or 4 (05-03).
func TestOpsBackfillCLI(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	out, err := opsCLI(append([]string{"backfill", "--start-date", "2020-04-13", "--end-date", "2020-04-26"}, opsFixtureArgs(o)...)...)
	if err != nil {
		t.Fatalf("backfill: %v\n%s", err, out)
	}
	if got, want := opsStatisticsFiles(t, o.Output), opsWeekNames("statistics_test_experiment_week_%d.ndjson", 2, 3); !slices.Equal(got, want) {
		t.Errorf("statistics tables %v, want %v", got, want)
	}
	want := opsSorted([]string{"config_test_experiment", "enrollments_test_experiment"},
		opsWeekNames("test_experiment_enrollments_clients_daily_week_%d", 2, 3),
		opsWeekNames("test_experiment_exposures_clients_daily_week_%d", 2, 3))
	if got := opsTables(t, opsClient(t, o.Warehouse), o.Dataset); !slices.Equal(got, want) {
		t.Errorf("tables %v, want %v", got, want)
	}
	if got := opsWeeklyWindows(t, o.Output); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("published weekly windows %v, want [2 3]", got)
	}
}

// Bad dates are usage errors naming the flag, as is a backfill of Experimenter's records
// without --experiment-slug; nothing is analysed.
func TestOpsBackfillBadDates(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	now := time.Now().UTC()
	today, yesterdayDate := now.Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, tc := range []struct {
		name       string
		start, end string
		want       string
	}{
		{"end today", "2020-04-12", today, "--end-date " + today + ": the last date with complete data is yesterday, " + yesterdayDate},
		{"end in the future", "2020-04-12", "2999-01-01", "--end-date 2999-01-01: the last date with complete data is yesterday"},
		{"end before start", "2020-04-19", "2020-04-12", "--end-date 2020-04-12 is before --start-date 2020-04-19"},
		{"bad start", "2020-4-12", "2020-04-19", `--start-date: want a date as YYYY-MM-DD, got "2020-4-12"`},
		{"bad end", "2020-04-12", "2020-04-31", `--end-date: want a date as YYYY-MM-DD, got "2020-04-31"`},
		{"empty start", "", "2020-04-19", `--start-date: want a date as YYYY-MM-DD, got ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"backfill", "--start-date", tc.start, "--end-date", tc.end}, opsFixtureArgs(o)...)
			_, err := opsCLI(args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != ExitUsage {
				t.Errorf("error %v (exit %d), want a usage error containing %q", err, ExitCode(err), tc.want)
			}
		})
	}
	t.Run("missing end date", func(t *testing.T) {
		_, err := opsCLI(append([]string{"backfill", "--start-date", "2020-04-12"}, opsFixtureArgs(o)...)...)
		if err == nil || !strings.Contains(err.Error(), "end-date") || ExitCode(err) != ExitUsage {
			t.Errorf("error %v (exit %d), want a usage error naming end-date", err, ExitCode(err))
		}
	})
	t.Run("experimenter without a slug", func(t *testing.T) {
		_, err := opsCLI("backfill", "--start-date", "2020-04-12", "--end-date", "2020-04-19", "--experiment", o.ExperimentFile,
			"--config-only", "--warehouse", o.Warehouse, "--output", o.Output)
		if err == nil || !strings.Contains(err.Error(), "backfill: --experiment-slug is required") || ExitCode(err) != ExitUsage {
			t.Errorf("error %v (exit %d), want a usage error asking for --experiment-slug", err, ExitCode(err))
		}
	})
	if _, err := os.Stat(o.Output); !os.IsNotExist(err) {
		t.Errorf("a refused backfill created the output folder (%v)", err)
	}
	if got := opsTables(t, opsClient(t, o.Warehouse), o.Dataset); len(got) != 0 {
		t.Errorf("a refused backfill wrote tables %v", got)
	}
}

// opsConfigRecord reads config_<slug> of the dataset: its rows as [config_hash, analysed_at].
func opsConfigRecord(t *testing.T, c warehouse.Client, dataset, slug string) [][2]string {
	t.Helper()
	var rows [][2]string
	err := c.Query(context.Background(), "SELECT config_hash, analysed_at FROM "+c.Dialect().Table(dataset, configTable(slug)),
		func(_ []string, v []any) error {
			rows = append(rows, [2]string{fmt.Sprint(v[0]), fmt.Sprint(v[1])})
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// opsResolve resolves a config text for a fixture record as a config-only run does.
func opsResolve(t *testing.T, config, record string) *configs.Analysis {
	t.Helper()
	spec, err := configs.Parse("test-experiment.toml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	exps, err := experimenter.Parse([]byte(record), testNow)
	if err != nil {
		t.Fatal(err)
	}
	a, err := configs.Resolve(spec, exps[0])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func opsHash(t *testing.T, a *configs.Analysis) string {
	t.Helper()
	h, err := configHash(a)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The first run of an experiment records the hash of the config it analysed with (16 hex
// digits, the one configHash gives the resolved config) and the run's time in RFC 3339; a
// later run of a date with another config keeps the record, a rerun replaces it.
func TestOpsConfigRecord(t *testing.T) {
	o := fixtureRun(t)
	opsFirstRun(t, o, opsWeeklyConfig)
	c := opsClient(t, o.Warehouse)
	record := fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")
	want := opsHash(t, opsResolve(t, opsWeeklyConfig, record))
	rows := opsConfigRecord(t, c, o.Dataset, "test-experiment")
	if len(rows) != 1 || rows[0][0] != want || rows[0][1] != "2026-11-22T06:00:00Z" {
		t.Fatalf("config_test_experiment = %v, want [[%s 2026-11-22T06:00:00Z]]", rows, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(rows[0][0]) {
		t.Errorf("config hash %q is not 16 hex digits", rows[0][0])
	}
	rec, ok, err := recordedConfig(context.Background(), c, o.Dataset, "test-experiment")
	if err != nil || !ok || rec.Hash != want || !rec.At.Equal(testNow) {
		t.Errorf("recordedConfig = %+v, %v, %v; want %s at %s", rec, ok, err, want, testNow)
	}
	if _, ok, err := recordedConfig(context.Background(), c, o.Dataset, "never-analysed"); ok || err != nil {
		t.Errorf("recordedConfig of an experiment never analysed: ok %v, %v", ok, err)
	}

	// A run of a date keeps the record (the other windows are still the recorded config's);
	// a rerun replaces it.
	opsWriteFile(t, o.ConfigFile, opsTwoMetricsConfig)
	later := o
	later.Now = testNow.AddDate(0, 0, 1)
	if err := Run(context.Background(), later, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := opsConfigRecord(t, c, o.Dataset, "test-experiment"); !slices.Equal(got, rows) {
		t.Errorf("config_test_experiment after a run of week 1 = %v, want the first record %v", got, rows)
	}
	later.From, later.To = time.Time{}, time.Time{}
	later.WholeLife, later.Rerun = true, true
	later.Now = testNow.AddDate(0, 0, 2)
	if err := Run(context.Background(), later, io.Discard); err != nil {
		t.Fatal(err)
	}
	want2 := opsHash(t, opsResolve(t, opsTwoMetricsConfig, record))
	if got := opsConfigRecord(t, c, o.Dataset, "test-experiment"); len(got) != 1 || got[0] != [2]string{want2, "2026-11-24T06:00:00Z"} {
		t.Errorf("config_test_experiment after the rerun = %v, want [[%s 2026-11-24T06:00:00Z]]", got, want2)
	}
}

// configHash depends on what is analysed, not on the experiment's end date or status.
func TestOpsConfigHash(t *testing.T) {
	record := fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")
	base := opsHash(t, opsResolve(t, opsWeeklyConfig, record))
	if again := opsHash(t, opsResolve(t, opsWeeklyConfig, record)); again != base {
		t.Errorf("hash of the same config: %s then %s", base, again)
	}
	if h := opsHash(t, opsResolve(t, opsTwoMetricsConfig, record)); h == base {
		t.Errorf("adding a metric leaves the hash %s", h)
	}
	if h := opsHash(t, opsResolve(t, strings.Replace(opsWeeklyConfig, activeHoursSQL, "COALESCE(SUM(active_hours_sum), 1)", 1), record)); h == base {
		t.Errorf("changing a metric's SQL leaves the hash %s", h)
	}
	if h := opsHash(t, opsResolve(t, activeHours("daily", bothBases), record)); h == base {
		t.Errorf("moving the metric to another period leaves the hash %s", h)
	}
	// The same experiment extended, and live (no end date): same hash.
	a := opsResolve(t, opsWeeklyConfig, record)
	for name, edited := range map[string]string{
		"extended": strings.Replace(record, `"endDate": "2020-06-01"`, `"endDate": "2020-07-01"`, 1),
		"live":     strings.Replace(record, `"endDate": "2020-06-01"`, `"endDate": null`, 1),
	} {
		if edited == record {
			t.Fatalf("%s: the record was not edited", name)
		}
		b := opsResolve(t, opsWeeklyConfig, edited)
		if b.EndDate.Equal(a.EndDate) && b.Status == a.Status {
			t.Fatalf("%s: end date %s and status %q unchanged", name, b.EndDate, b.Status)
		}
		if h := opsHash(t, b); h != base {
			t.Errorf("%s (end %s, status %q): hash %s, want %s as for end %s, status %q", name, b.EndDate.Format(time.DateOnly), b.Status, h, base,
				a.EndDate.Format(time.DateOnly), a.Status)
		}
	}
	// The hash is not computed from the caller's analysis in place: it keeps its end date.
	if a.EndDate.IsZero() || a.Status == "" {
		t.Errorf("configHash cleared the analysis' end date or status: %s %q", a.EndDate, a.Status)
	}
}

// opsExperimenterRun is fixtureRun in Experimenter mode: a records file with
// test-experiment and never-analysed (the same experiment under another slug), and a
// config repository with opsWeeklyConfig for both; the options analyse 2020-04-12.
func opsExperimenterRun(t *testing.T) RunOptions {
	t.Helper()
	o := fixtureRun(t)
	dir := t.TempDir()
	records := filepath.Join(dir, "experiments.json")
	opsWriteFile(t, records, "["+fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")+",\n"+
		fixtureExperiment("never-analysed", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")+"]")
	repo := filepath.Join(dir, "metric-hub")
	opsWriteFile(t, filepath.Join(repo, "test-experiment.toml"), opsWeeklyConfig)
	opsWriteFile(t, filepath.Join(repo, "never-analysed.toml"), opsWeeklyConfig)
	o.ExperimentFile, o.ConfigFile, o.ConfigRepos = records, "", []string{repo}
	return o
}

// rerun-config-changed in Experimenter mode (a records file and a config repository):
// nothing is rerun while the configs are as analysed; after a metric is added to the
// config of the analysed experiment, that experiment alone is rerun over its whole life
// with the new metric — the experiment never analysed is left to the daily run, though its
// config changed too.
func TestOpsRerunConfigChanged(t *testing.T) {
	o := opsExperimenterRun(t)
	repo := o.ConfigRepos[0]

	// The first analysis: week 1 of test-experiment (a backfill of 2020-04-12).
	first := o
	first.Slugs = []string{"test-experiment"}
	if err := Run(context.Background(), first, io.Discard); err != nil {
		t.Fatal(err)
	}
	c := opsClient(t, o.Warehouse)
	tables := opsTables(t, c, o.Dataset)
	week1 := opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_1")
	oldHash := opsConfigRecord(t, c, o.Dataset, "test-experiment")[0][0]

	changed := o
	changed.From, changed.To = time.Time{}, time.Time{}
	var out bytes.Buffer
	if err := RerunConfigChanged(context.Background(), changed, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "no experiment's config changed since its last analysis\n" {
		t.Errorf("with the configs unchanged, it printed %q", got)
	}
	if got := opsTables(t, c, o.Dataset); !slices.Equal(got, tables) {
		t.Errorf("tables after doing nothing: %v, want %v", got, tables)
	}
	if opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_1") != week1 {
		t.Error("with the configs unchanged, week 1's metrics table was written again")
	}
	if got := opsStatisticsFiles(t, o.Output); !slices.Equal(got, []string{"statistics_test_experiment_week_1.ndjson"}) {
		t.Errorf("statistics tables after doing nothing: %v", got)
	}

	opsWriteFile(t, filepath.Join(repo, "test-experiment.toml"), opsTwoMetricsConfig)
	opsWriteFile(t, filepath.Join(repo, "never-analysed.toml"), opsTwoMetricsConfig)
	changed.Now = testNow.AddDate(0, 0, 1)
	out.Reset()
	if err := RerunConfigChanged(context.Background(), changed, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	newHash := opsHash(t, opsResolve(t, opsTwoMetricsConfig, fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")))
	wantLine := fmt.Sprintf("test-experiment: config changed since its analysis of 2026-11-22T06:00:00Z (%s → %s): rerunning\n", oldHash, newHash)
	if !strings.HasPrefix(out.String(), wantLine) || strings.Contains(out.String(), "never-analysed") {
		t.Errorf("output:\n%s\nwant it to start with %q and not name never-analysed", out.String(), wantLine)
	}
	if !strings.Contains(out.String(), "1 analysed, 0 skipped, 0 failed") {
		t.Errorf("output lacks the rerun's summary:\n%s", out.String())
	}
	if got, want := opsStatisticsFiles(t, o.Output), opsWeekNames("statistics_test_experiment_week_%d.ndjson", 1, opsWeeks); !slices.Equal(got, want) {
		t.Errorf("statistics tables after the rerun: %v, want %v", got, want)
	}
	for w := 1; w <= opsWeeks; w++ {
		rows, err := export.ReadTable(filepath.Join(o.Output, tablesDir, fmt.Sprintf("statistics_test_experiment_week_%d.ndjson", w)))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, r := range rows {
			counts[r.Metric]++
		}
		if counts["active_hours"] != 12 || counts["active_hours_doubled"] != 12 {
			t.Errorf("week %d: rows per metric %v, want 12 of active_hours and of active_hours_doubled", w, counts)
		}
	}
	if got := opsConfigRecord(t, c, o.Dataset, "test-experiment"); len(got) != 1 || got[0] != [2]string{newHash, "2026-11-23T06:00:00Z"} {
		t.Errorf("config record after the rerun: %v, want [[%s 2026-11-23T06:00:00Z]]", got, newHash)
	}
	for _, table := range opsTables(t, c, o.Dataset) {
		if strings.Contains(table, "never_analysed") {
			t.Errorf("the experiment never analysed has the table %s", table)
		}
	}

	out.Reset()
	if err := RerunConfigChanged(context.Background(), changed, &out); err != nil || out.String() != "no experiment's config changed since its last analysis\n" {
		t.Errorf("after the rerun: %v, printed %q; want nothing changed", err, out.String())
	}
}

// A run of some dates with a changed config — the daily run, which the DAG runs before
// rerun-config-changed, analyses every live experiment with the config of the day — must
// not make the changed config look analysed: the earlier windows still hold the old
// config's results, so rerun-config-changed must still rerun the experiment.
func TestOpsRerunConfigChangedAfterDailyRun(t *testing.T) {
	o := opsExperimenterRun(t)
	o.Slugs = []string{"test-experiment"}
	if err := Run(context.Background(), o, io.Discard); err != nil { // week 1 with active_hours
		t.Fatal(err)
	}
	c := opsClient(t, o.Warehouse)
	analysed := opsConfigRecord(t, c, o.Dataset, "test-experiment")
	opsWriteFile(t, filepath.Join(o.ConfigRepos[0], "test-experiment.toml"), opsTwoMetricsConfig)
	daily := o
	daily.From, daily.To = o.From.AddDate(0, 0, 7), o.To.AddDate(0, 0, 7) // week 2, with both metrics
	daily.Now = testNow.AddDate(0, 0, 1)
	if err := Run(context.Background(), daily, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := opsConfigRecord(t, c, o.Dataset, "test-experiment"); !slices.Equal(got, analysed) {
		t.Errorf("the run of week 2 replaced the config record %v with %v, though week 1 was analysed with the old config", analysed, got)
	}

	changed := o
	changed.Slugs, changed.From, changed.To = nil, time.Time{}, time.Time{}
	changed.Now = testNow.AddDate(0, 0, 2)
	var out bytes.Buffer
	if err := RerunConfigChanged(context.Background(), changed, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "test-experiment: config changed since its analysis of 2026-11-22T06:00:00Z") {
		t.Fatalf("rerun-config-changed after the daily run printed:\n%s", out.String())
	}
	rows, err := export.ReadTable(filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	doubled := 0
	for _, r := range rows {
		if r.Metric == "active_hours_doubled" {
			doubled++
		}
	}
	if doubled != 12 {
		t.Errorf("week 1 after rerun-config-changed has %d rows of the new metric, want 12", doubled)
	}
	newHash := opsHash(t, opsResolve(t, opsTwoMetricsConfig, fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")))
	if got := opsConfigRecord(t, c, o.Dataset, "test-experiment"); len(got) != 1 || got[0] != [2]string{newHash, "2026-11-24T06:00:00Z"} {
		t.Errorf("config record after the rerun: %v, want [[%s 2026-11-24T06:00:00Z]]", got, newHash)
	}
}

// rerun-config-changed reads the experiments' records: a config file alone is a usage error.
func TestOpsRerunConfigChangedCLINeedsExperiments(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	_, err := opsCLI(append([]string{"rerun-config-changed"}, opsFixtureArgs(o)...)...)
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "rerun-config-changed needs the experiments") {
		t.Errorf("error %v (exit %d), want a usage error", err, ExitCode(err))
	}
}

// --statistics-only computes the statistics from the metrics tables an earlier run wrote:
// with the telemetry those tables came from gone, the statistics are byte for byte the
// first run's and the metrics tables are not written again; a run without the flag then
// fails on the missing telemetry (so the flag is what kept the queries from running).
func TestOpsStatisticsOnly(t *testing.T) {
	o := fixtureRun(t)
	first := opsFirstRun(t, o, opsWeeklyConfig)
	c := opsClient(t, o.Warehouse)
	metrics := map[string]int64{}
	for _, table := range []string{"test_experiment_enrollments_clients_daily_week_1", "test_experiment_exposures_clients_daily_week_1"} {
		metrics[table] = opsTableOID(t, c, o.Dataset, table)
	}
	opsExec(t, c, "ALTER TABLE mozdata.telemetry.clients_daily RENAME TO clients_daily_elsewhere")
	errorsFile := filepath.Join(o.Output, tablesDir, transforms.ErrorsFile("test-experiment"))

	again := o
	again.StatisticsOnly = true
	if err := Run(context.Background(), again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson")); !bytes.Equal(got, first) {
		t.Errorf("statistics of --statistics-only:\n%s\nwant the first run's\n%s", got, first)
	}
	if errs, err := transforms.ReadErrors(errorsFile); err != nil || len(errs) != 0 {
		t.Errorf("errors of --statistics-only: %v %+v", err, errs)
	}
	for table, oid := range metrics {
		if opsTableOID(t, c, o.Dataset, table) != oid {
			t.Errorf("--statistics-only wrote %s again", table)
		}
	}

	// Without the flag the metrics queries run, and fail on the missing table.
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	errs, err := transforms.ReadErrors(errorsFile)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range errs {
		if strings.Contains(e.Message, "Table with name clients_daily does not exist") {
			got[e.Metric+" "+e.AnalysisBasis] = true
		}
	}
	if len(errs) != 4 || len(got) != 4 {
		t.Errorf("errors of a run without --statistics-only: %+v, want the query of each basis failing on clients_daily (active_hours and identity)", errs)
	}
}

// `jetstream rerun --statistics-only` recomputes every window's statistics from the metrics
// tables the earlier run wrote: it deletes the stale statistics, but not the metrics tables
// it is about to read.
func TestOpsRerunStatisticsOnly(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	o.From, o.To = time.Time{}, time.Time{} // the whole life: weeks 1 to 8
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_8.ndjson"))
	c := opsClient(t, o.Warehouse)
	tables := opsTables(t, c, o.Dataset)
	oid := opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_8")
	opsWriteFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_9.ndjson"), string(first))
	opsExec(t, c, "ALTER TABLE mozdata.telemetry.clients_daily RENAME TO clients_daily_elsewhere")

	out, err := opsCLI(append([]string{"rerun", "--statistics-only"}, opsFixtureArgs(o)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := opsTables(t, c, o.Dataset); !slices.Equal(got, tables) {
		t.Errorf("tables after rerun --statistics-only:\n%v\nwant\n%v", got, tables)
	}
	if opsTableOID(t, c, o.Dataset, "test_experiment_enrollments_clients_daily_week_8") != oid {
		t.Error("rerun --statistics-only wrote the metrics table of week 8 again")
	}
	if errs, err := transforms.ReadErrors(filepath.Join(o.Output, tablesDir, transforms.ErrorsFile("test-experiment"))); err != nil || len(errs) != 0 {
		t.Errorf("errors of rerun --statistics-only: %v %+v", err, errs)
	}
	if got := opsReadFile(t, filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_8.ndjson")); !bytes.Equal(got, first) {
		t.Errorf("week 8 after rerun --statistics-only:\n%s\nwant\n%s", got, first)
	}
	if got, want := opsStatisticsFiles(t, o.Output), opsWeekNames("statistics_test_experiment_week_%d.ndjson", 1, opsWeeks); !slices.Equal(got, want) {
		t.Errorf("statistics tables %v, want %v", got, want)
	}
}

// --statistics-only on a warehouse without the metrics tables: every query fails naming the
// table it lacks (for the metric and the identity count it also gives), and no statistics
// of the metric are published.
func TestOpsStatisticsOnlyWithoutMetricsTables(t *testing.T) {
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	o.StatisticsOnly = true
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	errs, err := transforms.ReadErrors(filepath.Join(o.Output, tablesDir, transforms.ErrorsFile("test-experiment")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Metric+" "+e.AnalysisBasis+": "+e.Message] = true
	}
	want := map[string]bool{}
	for _, metric := range []string{"active_hours", transforms.Identity} {
		for _, basis := range []string{"enrollments", "exposures"} {
			want[fmt.Sprintf(`%s %s: data source "clients_daily": query test_experiment_%s_clients_daily_week_1.sql failed: `+
				"statistics only: metrics table mozanalysis.test_experiment_%s_clients_daily_week_1 does not exist (analyse this date without --statistics-only first)",
				metric, basis, basis, basis)] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no error %q among %v", k, got)
		}
	}
	for _, table := range opsTables(t, opsClient(t, o.Warehouse), o.Dataset) {
		if strings.HasPrefix(table, "test_experiment_") {
			t.Errorf("--statistics-only wrote the metrics table %s", table)
		}
	}
	rows, err := export.ReadTable(filepath.Join(o.Output, tablesDir, "statistics_test_experiment_week_1.ndjson"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Metric == "active_hours" {
			t.Errorf("statistics of active_hours without its metrics table: %+v", r)
			break
		}
	}
}

// opsEnrolled are the analysis ids of the enrollments table.
func opsEnrolled(t *testing.T, c warehouse.Client, dataset string) []string {
	t.Helper()
	var ids []string
	err := c.Query(context.Background(), "SELECT analysis_id, branch FROM "+c.Dialect().Table(dataset, "enrollments_test_experiment")+" ORDER BY 1",
		func(_ []string, v []any) error {
			ids = append(ids, fmt.Sprintf("%v/%v", v[0], v[1]))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// EnsureEnrollments writes the enrollments table of the fixture experiment — its two
// enrolled clients, aaaa in branch1 and bbbb in branch2 — and nothing else; called again it
// keeps the table ("exists"), and with RecreateEnrollments writes it again ("written").
func TestOpsEnsureEnrollments(t *testing.T) {
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	c := opsClient(t, o.Warehouse)
	var out bytes.Buffer
	if err := EnsureEnrollments(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "mozanalysis.enrollments_test_experiment: written\n" {
		t.Errorf("first call printed %q", got)
	}
	want := []string{"aaaa/branch1", "bbbb/branch2"}
	if got := opsEnrolled(t, c, o.Dataset); !slices.Equal(got, want) {
		t.Errorf("enrolled %v, want %v", got, want)
	}
	if got := opsTables(t, c, o.Dataset); !slices.Equal(got, []string{"enrollments_test_experiment"}) {
		t.Errorf("tables %v, want the enrollments table alone", got)
	}
	if _, err := os.Stat(o.Output); !os.IsNotExist(err) {
		t.Errorf("ensure-enrollments created the output folder (%v)", err)
	}

	// A client removed by hand stays removed while the table is kept…
	opsExec(t, c, "DELETE FROM mozanalysis.enrollments_test_experiment WHERE analysis_id = 'bbbb'")
	out.Reset()
	if err := EnsureEnrollments(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "mozanalysis.enrollments_test_experiment: exists\n" {
		t.Errorf("second call printed %q", got)
	}
	if got := opsEnrolled(t, c, o.Dataset); !slices.Equal(got, []string{"aaaa/branch1"}) {
		t.Errorf("after the second call: enrolled %v, want the table as it was", got)
	}
	// …and is back once the table is written again.
	o.RecreateEnrollments = true
	out.Reset()
	if err := EnsureEnrollments(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "mozanalysis.enrollments_test_experiment: written\n" {
		t.Errorf("call with RecreateEnrollments printed %q", got)
	}
	if got := opsEnrolled(t, c, o.Dataset); !slices.Equal(got, want) {
		t.Errorf("after RecreateEnrollments: enrolled %v, want %v", got, want)
	}
}

// `jetstream ensure-enrollments` does the same from the command line.
func TestOpsEnsureEnrollmentsCLI(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	c := opsClient(t, o.Warehouse)
	args := append([]string{"ensure-enrollments", "--date", "2020-04-12"}, opsFixtureArgs(o)...)
	for i, want := range []string{"written", "exists"} {
		out, err := opsCLI(args...)
		if err != nil || out != "mozanalysis.enrollments_test_experiment: "+want+"\n" {
			t.Errorf("call %d: %v, printed %q; want %s", i+1, err, out, want)
		}
	}
	oid := opsTableOID(t, c, o.Dataset, "enrollments_test_experiment")
	out, err := opsCLI(append(args, "--recreate-enrollments")...)
	if err != nil || out != "mozanalysis.enrollments_test_experiment: written\n" {
		t.Errorf("--recreate-enrollments: %v, printed %q", err, out)
	}
	if opsTableOID(t, c, o.Dataset, "enrollments_test_experiment") == oid {
		t.Error("--recreate-enrollments kept the table")
	}
	if got := opsEnrolled(t, c, o.Dataset); !slices.Equal(got, []string{"aaaa/branch1", "bbbb/branch2"}) {
		t.Errorf("enrolled %v", got)
	}
	if got := opsTables(t, c, o.Dataset); !slices.Equal(got, []string{"enrollments_test_experiment"}) {
		t.Errorf("tables %v, want the enrollments table alone", got)
	}
}

// export-statistics-to-json publishes again, from the output folder's tables, the same
// statistics JSON the run published — with every group (--min-clients 0) and with the
// groups below 2 clients left out (the fixture's branches have one client each).
func TestOpsExportStatisticsCLI(t *testing.T) {
	opsKeepBeamState(t)
	for _, minClients := range []int{0, 2} {
		t.Run(fmt.Sprint("min-clients ", minClients), func(t *testing.T) {
			o := fixtureRun(t)
			o.To = o.To.AddDate(0, 0, 7) // weeks 1 and 2
			o.MinClients = minClients
			opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
			if err := Run(context.Background(), o, io.Discard); err != nil {
				t.Fatal(err)
			}
			published := filepath.Join(o.Output, statisticsDir, "statistics_test_experiment_weekly.json")
			want := opsReadFile(t, published)
			windows, err := export.ParseStatisticsJSON(want)
			if err != nil {
				t.Fatal(err)
			}
			rows := 0
			for _, w := range windows {
				rows += len(w.Rows)
			}
			// 16 rows a week (TestOpsRerunRun); with 2 clients at least, none is left.
			if wantRows := map[int]int{0: 32, 2: 0}[minClients]; rows != wantRows {
				t.Fatalf("the run published %d rows, want %d", rows, wantRows)
			}
			if err := os.Remove(published); err != nil {
				t.Fatal(err)
			}
			other := filepath.Join(t.TempDir(), "bucket")
			for _, bucket := range []string{"", other} {
				args := []string{"export-statistics-to-json", "--experiment-slug", "test-experiment", "--output", o.Output,
					"--min-clients", fmt.Sprint(minClients)}
				dest := published
				if bucket != "" {
					args = append(args, "--bucket", bucket)
					dest = filepath.Join(bucket, statisticsDir, "statistics_test_experiment_weekly.json")
				}
				out, err := opsCLI(args...)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				// The run's tables hold no small group any more: nothing is left to suppress.
				if line := "test-experiment: statistics/statistics_test_experiment_weekly.json (2 windows, 0 groups suppressed)\n"; out != line {
					t.Errorf("printed %q, want %q", out, line)
				}
				if got := opsReadFile(t, dest); !bytes.Equal(got, want) {
					t.Errorf("%s:\n%s\nwant what the run published:\n%s", dest, got, want)
				}
			}
		})
	}
}

// Exporting the run's unsuppressed tables with --min-clients 2 leaves out every group (one
// client per branch, 2 bases × 2 branches a week) and says so.
func TestOpsExportStatisticsSuppresses(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	bucket := t.TempDir()
	out, err := opsCLI("export-statistics-to-json", "--experiment-slug", "test-experiment", "--output", o.Output, "--bucket", bucket, "--min-clients", "2")
	if err != nil {
		t.Fatal(err)
	}
	if want := "test-experiment: statistics/statistics_test_experiment_weekly.json (1 windows, 4 groups suppressed)\n"; out != want {
		t.Errorf("printed %q, want %q", out, want)
	}
	if got := string(opsReadFile(t, filepath.Join(bucket, statisticsDir, "statistics_test_experiment_weekly.json"))); got != "[]\n" {
		t.Errorf("published %s, want no row", got)
	}
}

// export-statistics-to-json: an experiment without statistics tables is an error naming it;
// --bucket none is a usage error.
func TestOpsExportStatisticsErrors(t *testing.T) {
	opsKeepBeamState(t)
	o := fixtureRun(t)
	opsWriteFile(t, o.ConfigFile, opsWeeklyConfig)
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	bucket := t.TempDir()
	_, err := opsCLI("export-statistics-to-json", "--experiment-slug", "test-experiment", "--experiment-slug", "no-such-experiment",
		"--output", o.Output, "--bucket", bucket, "--min-clients", "0")
	want := `experiment "no-such-experiment": no statistics tables (statistics_no_such_experiment_<period>_<window>) to export`
	if err == nil || err.Error() != want || ExitCode(err) != ExitFailure {
		t.Errorf("error %v (exit %d), want %q", err, ExitCode(err), want)
	}
	_, err = opsCLI("export-statistics-to-json", "--experiment-slug", "no-such-experiment", "--output", t.TempDir(), "--bucket", bucket)
	if err == nil || !strings.Contains(err.Error(), `experiment "no-such-experiment": no statistics tables`) {
		t.Errorf("error %v with an empty output folder", err)
	}
	_, err = opsCLI("export-statistics-to-json", "--experiment-slug", "test-experiment", "--output", o.Output, "--bucket", "none")
	if err == nil || !strings.Contains(err.Error(), "--bucket none") || ExitCode(err) != ExitUsage {
		t.Errorf("--bucket none: %v (exit %d), want a usage error", err, ExitCode(err))
	}
	if _, err := os.Stat(filepath.Join(o.Output, "none")); !os.IsNotExist(err) {
		t.Errorf("--bucket none created a folder none (%v)", err)
	}
}

// opsStatisticsSQL is a literal statistics table row ("" is NULL; a comparison is to
// control).
func opsStatisticsSQL(metric, statistic, parameter, branch, comparison, ciWidth, point, lower, upper, basis string) string {
	str := func(s string) string {
		if s == "" {
			return "CAST(NULL AS VARCHAR)"
		}
		return "'" + s + "'"
	}
	num := func(s string) string {
		if s == "" {
			return "CAST(NULL AS DOUBLE)"
		}
		return "CAST(" + s + " AS DOUBLE)"
	}
	return fmt.Sprintf("SELECT %s AS metric, %s AS statistic, %s AS parameter, %s AS branch, %s AS comparison, "+
		"%s AS comparison_to_branch, %s AS ci_width, %s AS point, %s AS lower, %s AS upper, 'all' AS segment, %s AS analysis_basis",
		str(metric), str(statistic), str(parameter), str(branch), str(comparison), str(map[bool]string{true: "", false: "control"}[comparison == ""]),
		num(ciWidth), num(point), num(lower), num(upper), str(basis))
}

// readPeriodFrom reads a period's statistics tables from a DuckDB dataset: the windows in
// index order (10 after 2, though listed before it), each with its rows' values (NULL as
// NaN), and no table of another period or experiment.
func TestOpsReadPeriodFromDuckDB(t *testing.T) {
	o := fixtureRun(t)
	c := opsClient(t, o.Warehouse)
	const dataset = "published"
	write := func(table string, rows ...string) {
		t.Helper()
		if err := warehouse.WriteTable(context.Background(), c, dataset, table, strings.Join(rows, "\nUNION ALL\n"), warehouse.WriteTruncate, warehouse.TableInfo{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(branch, n string) string {
		return opsStatisticsSQL("identity", "count", "", branch, "", "", n, "", "", "enrollments")
	}
	write("statistics_test_experiment_week_1", count("control", "3"), count("treatment", "4"))
	write("statistics_test_experiment_week_10", opsStatisticsSQL("active_hours", "mean", "", "treatment", "difference", "0.95", "1.25", "-0.5", "3", "exposures"))
	write("statistics_test_experiment_week_2", opsStatisticsSQL("active_hours", "binomial", "0.5", "control", "", "", "0.75", "", "", "enrollments"))
	// Not of the period, or not of the experiment.
	write("statistics_test_experiment_day_1", count("control", "99"))
	write("statistics_test_experiment_preenrollment_week_1", count("control", "99"))
	write("statistics_test_experiment_2_week_1", count("control", "99"))
	write("statistics_test_experimentx_week_3", count("control", "99"))
	write("statistics_test_experiment_weekly", count("control", "99"))

	windows, err := readPeriodFrom(context.Background(), c, dataset, "test_experiment", "week")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range windows {
		var rows []string
		for _, r := range w.Rows {
			rows = append(rows, fmt.Sprintf("%s/%s/%s/%s/%s/%s/%g/%g/%g/%g/%s/%s", r.Metric, r.Statistic, r.Parameter, r.Branch, r.Comparison,
				r.ComparisonToBranch, r.CIWidth, r.Point, r.Lower, r.Upper, r.Segment, r.AnalysisBasis))
		}
		slices.Sort(rows)
		got = append(got, fmt.Sprintf("%d: %s", w.Index, strings.Join(rows, " | ")))
	}
	want := []string{
		"1: identity/count//control///NaN/3/NaN/NaN/all/enrollments | identity/count//treatment///NaN/4/NaN/NaN/all/enrollments",
		"2: active_hours/binomial/0.5/control///NaN/0.75/NaN/NaN/all/enrollments",
		"10: active_hours/mean//treatment/difference/control/0.95/1.25/-0.5/3/all/exposures",
	}
	if !slices.Equal(got, want) {
		t.Errorf("windows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w, err := readPeriodFrom(context.Background(), c, dataset, "test_experiment", "days28"); err != nil || len(w) != 0 {
		t.Errorf("a period without tables: %v, %v", w, err)
	}
	if w, err := readPeriodFrom(context.Background(), c, "no_such_dataset", "test_experiment", "week"); err != nil || len(w) != 0 {
		t.Errorf("a missing dataset: %v, %v", w, err)
	}

	// ExportStatistics from the warehouse publishes those windows in that order.
	bucket := t.TempDir()
	var out bytes.Buffer
	err = ExportStatistics(context.Background(), exportRequest{Slugs: []string{"test-experiment"}, Warehouse: o.Warehouse, Dataset: dataset,
		Output: t.TempDir(), Bucket: bucket}, &out)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := export.ParseStatisticsJSON(opsReadFile(t, filepath.Join(bucket, statisticsDir, "statistics_test_experiment_weekly.json")))
	if err != nil || len(doc) != 3 || doc[0].Index != 1 || doc[1].Index != 2 || doc[2].Index != 10 {
		t.Errorf("exported weekly windows: %+v (%v), want 1, 2, 10", doc, err)
	}
	for _, name := range []string{"statistics_test_experiment_daily.json", "statistics_test_experiment_preenrollment_weekly.json"} {
		if _, err := os.Stat(filepath.Join(bucket, statisticsDir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(out.String(), "statistics_test_experiment_weekly.json (3 windows, 0 groups suppressed)") {
		t.Errorf("printed %q", out.String())
	}
}
