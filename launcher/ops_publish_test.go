package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/internal/fixturedb"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// End-to-end tests of the run's operations features on Jetstream's integration-test
// telemetry (fixtureRun: one client per branch, week 1 on 2020-04-12): partial failures,
// retries, timeouts, small-group suppression, dry runs and publishing a submitted job's
// results. Helpers are prefixed oc.

// ocWeekly is active_hours in the weekly period on both bases: Jetstream's test_metrics,
// 16 rows in expected.json.
var ocWeekly = activeHours("weekly", bothBases)

const ocWeeklyJSON = "statistics/statistics_test_experiment_weekly.json"

// ocFixture is fixtureRun with its config file written.
func ocFixture(t *testing.T, config string) RunOptions {
	t.Helper()
	o := fixtureRun(t)
	ocWrite(t, o.ConfigFile, config)
	return o
}

func ocWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ocRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// ocWeekRows are the rows of the only window (week 1) of the published weekly statistics.
func ocWeekRows(t *testing.T, output string) []statistics.Row {
	t.Helper()
	windows, err := export.ParseStatisticsJSON(ocRead(t, filepath.Join(output, ocWeeklyJSON)))
	if err != nil {
		t.Fatal(err)
	}
	if len(windows) != 1 || windows[0].Index != 1 {
		t.Fatalf("weekly statistics: %d windows, want week 1 only", len(windows))
	}
	return windows[0].Rows
}

// ocBaseline is the weekly statistics JSON of a plain run of config on a fresh fixture.
func ocBaseline(t *testing.T, config string) []byte {
	t.Helper()
	o := ocFixture(t, config)
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	return ocRead(t, filepath.Join(o.Output, ocWeeklyJSON))
}

// ocReplacePipeline replaces the pipeline run of every attempt for the test.
func ocReplacePipeline(t *testing.T, run func(ctx context.Context, plan *pipeline.Plan, location string) error) {
	t.Helper()
	old := runPipelineOnce
	runPipelineOnce = func(ctx context.Context, plan *pipeline.Plan, location string) (pipeline.Stats, error) {
		return pipeline.Stats{ClientRows: -1}, run(ctx, plan, location)
	}
	t.Cleanup(func() { runPipelineOnce = old })
}

// ocNothingPublished checks that a failed run published no statistics or metadata and
// left no staging folder.
func ocNothingPublished(t *testing.T, output string) {
	t.Helper()
	for _, dir := range []string{"statistics", "metadata", "suppressions"} {
		if _, err := os.Stat(filepath.Join(output, dir)); !os.IsNotExist(err) {
			t.Errorf("%s/ was published (%v)", dir, err)
		}
	}
	entries, _ := os.ReadDir(output)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".staging-") {
			t.Errorf("staging folder %s left behind", e.Name())
		}
	}
}

// One experiment's decision fails (a config-only run finds no config for it) while the
// other is analysed: `jetstream run` publishes the analysed one, publishes the other's
// error, and exits with the partial-failure status 3.
func TestOpsCLIPartialRun(t *testing.T) {
	dir := t.TempDir()
	db, err := fixturedb.Telemetry(dir, telemetryFixtures)
	if err != nil {
		t.Fatal(err)
	}
	records := filepath.Join(dir, "experiments.json")
	ocWrite(t, records, "["+fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")+",\n"+
		fixtureExperiment("unconfigured-experiment", "2020-04-05", "a", "b", "a", "normandy_id")+"]")
	hub := filepath.Join(dir, "metric-hub")
	ocWrite(t, filepath.Join(hub, "jetstream", "test-experiment.toml"), ocWeekly)
	out := filepath.Join(dir, "output")
	stdout, stderr, err := ocRunApp(t, "run", "--experiment", records, "--config-repo", hub, "--config-only",
		"--warehouse", "duckdb:"+db, "--date", "2020-04-12", "--output", out, "--min-clients", "0")
	if err == nil || !strings.Contains(err.Error(), `experiment "unconfigured-experiment"`) ||
		!strings.Contains(err.Error(), "no config file for the experiment") {
		t.Fatalf("error %v, want the unconfigured experiment's failure\n%s", err, stdout)
	}
	if got := ExitCode(err); got != ExitPartial {
		t.Errorf("exit status %d, want %d", got, ExitPartial)
	}
	// The analysed experiment: Jetstream's expected rows.
	compareRows(t, ocWeekRows(t, out), loadFixtureTest(t, "test_metrics").Rows)
	if got := dirNames(t, filepath.Join(out, "statistics")); !slices.Equal(got, []string{"statistics_test_experiment_weekly.json"}) {
		t.Errorf("statistics published: %v", got)
	}
	if got := dirNames(t, filepath.Join(out, "metadata")); !slices.Equal(got, []string{"metadata_test_experiment.json"}) {
		t.Errorf("metadata published: %v", got)
	}
	if doc := ocRead(t, filepath.Join(out, "errors", "errors_test_experiment.json")); string(doc) != "[]" {
		t.Errorf("errors of the analysed experiment: %s, want []", doc)
	}
	var failed []map[string]any
	doc := ocRead(t, filepath.Join(out, "errors", "errors_unconfigured_experiment.json"))
	if err := json.Unmarshal(doc, &failed); err != nil || len(failed) != 1 || failed[0]["experiment"] != "unconfigured-experiment" ||
		failed[0]["exception_type"] != pipeline.ReasonConfig || failed[0]["log_level"] != "ERROR" {
		t.Errorf("errors of the failed experiment: %s (%v)", doc, err)
	}
	for _, s := range []string{"summary: 1 analysed, 0 skipped, 1 failed", "  failed unconfigured-experiment: ConfigException"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, stdout)
		}
	}
	// Standard error (not a terminal) holds the JSON log.
	lines := ocLogLines(t, stderr)
	messages := map[string]map[string]any{}
	for _, l := range lines {
		for _, key := range []string{"severity", "message", "time"} {
			if _, ok := l[key]; !ok {
				t.Errorf("log line without %s: %v", key, l)
			}
		}
		messages[l["message"].(string)] = l
	}
	if p := messages["planned"]; p == nil || p["severity"] != "INFO" || p["experiments"] != 1.0 || p["failed"] != 1.0 || p["skipped"] != 0.0 {
		t.Errorf("planned log line: %v", p)
	}
	if p := messages["published"]; p == nil || p["batch"] != "1/1" || p["done"] != 1.0 || p["total"] != 1.0 {
		t.Errorf("published log line: %v\n%s", p, stderr)
	}
}

// With --parallelism 1 each experiment has its own pipeline: the one whose pipeline fails
// is not published, the other is, and the run is a partial failure.
func TestOpsCLIPartialBatches(t *testing.T) {
	o := ocFixture(t, ocWeekly)
	dir := filepath.Dir(o.ConfigFile)
	records := filepath.Join(dir, "experiments.json")
	ocWrite(t, records, "["+fixtureExperiment("test-experiment", "2020-04-05", "branch1", "branch2", "branch2", "normandy_id")+",\n"+
		fixtureExperiment("test-experiment-2", "2020-04-05", "a", "b", "a", "normandy_id")+"]")
	hub := filepath.Join(dir, "metric-hub")
	ocWrite(t, filepath.Join(hub, "jetstream", "test-experiment.toml"), ocWeekly)
	ocWrite(t, filepath.Join(hub, "jetstream", "test-experiment-2.toml"), ocWeekly)
	o.ExperimentFile, o.ConfigFile, o.ConfigRepos, o.Parallelism = records, "", []string{hub}, 1
	injected := errors.New("injected worker failure")
	var batches [][]string
	ocReplacePipeline(t, func(ctx context.Context, plan *pipeline.Plan, location string) error {
		var slugs []string
		for _, ep := range plan.Experiments {
			slugs = append(slugs, ep.Analysis.Slug)
		}
		batches = append(batches, slugs)
		if slices.Contains(slugs, "test-experiment-2") {
			return injected
		}
		return pipeline.Run(ctx, plan, location)
	})
	var out bytes.Buffer
	err := Run(context.Background(), o, &out)
	if err == nil || !errors.Is(err, injected) || !strings.Contains(err.Error(), "experiments test-experiment-2: injected worker failure") {
		t.Fatalf("error %v, want the second batch's failure", err)
	}
	if got := ExitCode(err); got != ExitPartial {
		t.Errorf("exit status %d, want %d", got, ExitPartial)
	}
	if fmt.Sprint(batches) != "[[test-experiment] [test-experiment-2]]" {
		t.Errorf("pipelines %v, want one per experiment", batches)
	}
	compareRows(t, ocWeekRows(t, o.Output), loadFixtureTest(t, "test_metrics").Rows)
	if got := dirNames(t, filepath.Join(o.Output, "statistics")); !slices.Equal(got, []string{"statistics_test_experiment_weekly.json"}) {
		t.Errorf("statistics published: %v", got)
	}
	for _, s := range []string{"summary: 1 analysed, 0 skipped, 1 failed", "  failed test-experiment-2: its pipeline failed (see the error)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

// A pipeline that fails once is run again from an empty staging store and publishes what
// a run without the failure publishes; without retries, or when every attempt fails, the
// run fails and publishes nothing.
func TestOpsCLIRetries(t *testing.T) {
	baseline := ocBaseline(t, ocWeekly)
	injected := errors.New("injected: worker lost")
	const junk = "statistics_test_experiment_week_9.ndjson" // a table of no window of this run

	t.Run("retried", func(t *testing.T) {
		o := ocFixture(t, ocWeekly)
		var log bytes.Buffer
		o.Retries, o.RetryDelay, o.Log = 1, time.Millisecond, newLogger(&log)
		var locations []string
		ocReplacePipeline(t, func(ctx context.Context, plan *pipeline.Plan, location string) error {
			locations = append(locations, location)
			if len(locations) == 1 {
				// A failed attempt leaves half its tables behind.
				if err := os.WriteFile(filepath.Join(location, junk), []byte("{\"metric\": \"half"), 0o644); err != nil {
					t.Fatal(err)
				}
				return injected
			}
			if left := dirNames(t, location); len(left) != 0 {
				t.Errorf("attempt 2 starts with %v in the staging store", left)
			}
			return pipeline.Run(ctx, plan, location)
		})
		if err := Run(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
		if len(locations) != 2 || locations[0] != locations[1] {
			t.Fatalf("attempts at %v, want 2 at the same staging location", locations)
		}
		if got := ocRead(t, filepath.Join(o.Output, ocWeeklyJSON)); !bytes.Equal(got, baseline) {
			t.Errorf("statistics after a retry differ from a run without failure:\n%s\nwant\n%s", got, baseline)
		}
		if _, err := os.Stat(filepath.Join(o.Output, "tables", junk)); !os.IsNotExist(err) {
			t.Errorf("the failed attempt's table was published (%v)", err)
		}
		var warned bool
		for _, l := range ocLogLines(t, log.String()) {
			if l["message"] == "pipeline failed; retrying" {
				warned = l["severity"] == "WARNING" && l["attempt"] == 1.0 && l["in"] == "1ms" && l["error"] == injected.Error()
			}
		}
		if !warned {
			t.Errorf("no WARNING of the retry in the log:\n%s", log.String())
		}
		ocNothingStaged(t, o.Output)
	})

	t.Run("no retries", func(t *testing.T) {
		o := ocFixture(t, ocWeekly)
		calls := 0
		ocReplacePipeline(t, func(context.Context, *pipeline.Plan, string) error { calls++; return injected })
		err := Run(context.Background(), o, io.Discard)
		if !errors.Is(err, injected) || strings.Contains(err.Error(), "attempts") || calls != 1 {
			t.Fatalf("error %v after %d calls, want the injected error after 1", err, calls)
		}
		if ExitCode(err) != ExitFailure {
			t.Errorf("exit status %d, want %d", ExitCode(err), ExitFailure)
		}
		ocNothingPublished(t, o.Output)
	})

	for _, tc := range []struct {
		retries int
		want    string
		delays  []string
	}{
		{1, "after 2 attempts: injected: worker lost", []string{"1ms"}},
		{2, "after 3 attempts: injected: worker lost", []string{"1ms", "2ms"}}, // the delay doubles
	} {
		t.Run(fmt.Sprintf("%d retries fail", tc.retries), func(t *testing.T) {
			o := ocFixture(t, ocWeekly)
			var log bytes.Buffer
			o.Retries, o.RetryDelay, o.Log = tc.retries, time.Millisecond, newLogger(&log)
			calls := 0
			ocReplacePipeline(t, func(context.Context, *pipeline.Plan, string) error { calls++; return injected })
			err := Run(context.Background(), o, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, injected) || calls != tc.retries+1 {
				t.Fatalf("error %v after %d calls, want %q after %d", err, calls, tc.want, tc.retries+1)
			}
			var delays []string
			for _, l := range ocLogLines(t, log.String()) {
				if l["message"] == "pipeline failed; retrying" {
					delays = append(delays, l["in"].(string))
				}
			}
			if !slices.Equal(delays, tc.delays) {
				t.Errorf("retry delays %v, want %v", delays, tc.delays)
			}
			ocNothingPublished(t, o.Output)
		})
	}
}

// ocNothingStaged checks that no staging folder is left in the output.
func ocNothingStaged(t *testing.T, output string) {
	t.Helper()
	entries, _ := os.ReadDir(output)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".staging-") {
			t.Errorf("staging folder %s left behind", e.Name())
		}
	}
}

// ocDeadline is a context whose deadline passes when the test says so (expire): a
// deadline that falls exactly in the phase under test, however long the run's earlier
// steps take. A context derived from it with context.WithTimeout ends with
// context.DeadlineExceeded when it expires, as if its own timeout had passed.
type ocDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newOCDeadline() *ocDeadline {
	return &ocDeadline{Context: context.Background(), done: make(chan struct{})}
}

func (c *ocDeadline) Done() <-chan struct{} { return c.done }
func (c *ocDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *ocDeadline) expire() { c.once.Do(func() { close(c.done) }) }

// ocOnMessage is a slog handler that calls f for every record whose message is msg.
type ocOnMessage struct {
	msg string
	f   func()
}

func (h ocOnMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h ocOnMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.f()
	}
	return nil
}
func (h ocOnMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ocOnMessage) WithGroup(string) slog.Handler      { return h }

// --timeout ends the run, its pipeline or its wait to retry, publishing nothing.
func TestOpsCLITimeout(t *testing.T) {
	t.Run("1ns", func(t *testing.T) {
		o := ocFixture(t, ocWeekly)
		o.Timeout = time.Nanosecond
		calls := 0
		ocReplacePipeline(t, func(ctx context.Context, plan *pipeline.Plan, location string) error {
			calls++
			return pipeline.Run(ctx, plan, location)
		})
		err := Run(context.Background(), o, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "the run timed out after 1ns (--timeout) and was cancelled: ") {
			t.Fatalf("error %v, want the timeout", err)
		}
		if ExitCode(err) != ExitFailure {
			t.Errorf("exit status %d, want %d", ExitCode(err), ExitFailure)
		}
		if calls != 0 {
			t.Errorf("%d pipelines ran after the deadline", calls)
		}
		ocNothingPublished(t, o.Output)
	})
	t.Run("pipeline cancelled", func(t *testing.T) {
		o := ocFixture(t, ocWeekly)
		o.Timeout, o.Retries, o.RetryDelay = time.Hour, 3, time.Hour
		deadline := newOCDeadline()
		calls := 0
		ocReplacePipeline(t, func(ctx context.Context, _ *pipeline.Plan, _ string) error {
			calls++
			deadline.expire()
			<-ctx.Done() // a pipeline that runs until it is cancelled
			return fmt.Errorf("pipeline: %w", ctx.Err())
		})
		err := Run(deadline, o, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "the run timed out after 1h0m0s (--timeout) and was cancelled: ") ||
			!errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want the timeout", err)
		}
		if calls != 1 {
			t.Errorf("%d attempts: a cancelled pipeline is not retried", calls)
		}
		ocNothingPublished(t, o.Output)
	})
	t.Run("waiting to retry", func(t *testing.T) {
		o := ocFixture(t, ocWeekly)
		deadline := newOCDeadline()
		o.Timeout, o.Retries, o.RetryDelay = time.Hour, 1, time.Hour
		o.Log = slog.New(ocOnMessage{"pipeline failed; retrying", deadline.expire}) // once the wait begins
		calls := 0
		ocReplacePipeline(t, func(context.Context, *pipeline.Plan, string) error { calls++; return errors.New("injected") })
		start := time.Now()
		err := Run(deadline, o, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "the run timed out after 1h0m0s (--timeout) and was cancelled: ") ||
			!strings.Contains(err.Error(), "(while waiting to retry after: injected)") {
			t.Fatalf("error %v, want the timeout during the wait", err)
		}
		if calls != 1 || time.Since(start) > time.Minute {
			t.Errorf("%d attempts in %s, want 1, the wait cut short", calls, time.Since(start))
		}
		ocNothingPublished(t, o.Output)
	})
}

// ocSuppressed is the JSON of one suppressed group of week 1.
func ocSuppressed(basis, segment, branch string) string {
	return fmt.Sprintf(`{"analysis_basis":%q,"segment":%q,"branch":%q,"analysis_period":"week","window_index":1}`, basis, segment, branch)
}

// --min-clients on the segments test (test_with_segments: one client per branch; the
// segment regular_user_v3 holds branch2's client and none of branch1's, so its count rows
// are 1 and 0). The groups (basis × segment × branch) and their sizes:
//
//	enrollments/exposures × all × branch1, branch2:     1 client each
//	enrollments/exposures × regular_user_v3 × branch1:  0
//	enrollments/exposures × regular_user_v3 × branch2:  1
//
// --min-clients 1 suppresses the two empty groups (their count rows: 36 → 34 rows);
// --min-clients 2 all eight (no row is published); 0 none.
func TestOpsCLIMinClients(t *testing.T) {
	all := loadFixtureTest(t, "test_with_segments").Rows
	if len(all) != 36 {
		t.Fatalf("expected.json: %d rows of test_with_segments, want 36", len(all))
	}
	o := ocFixture(t, fixtureSegmentsConfig)
	run := func(t *testing.T, minClients int) {
		t.Helper()
		o.MinClients = minClients
		if err := Run(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	suppressions := func(t *testing.T) string {
		t.Helper()
		return string(ocRead(t, filepath.Join(o.Output, "suppressions", "suppressions_test_experiment.json")))
	}
	checkMetadata := func(t *testing.T) {
		t.Helper()
		var meta map[string]json.RawMessage
		data := ocRead(t, filepath.Join(o.Output, "metadata", "metadata_test_experiment.json"))
		if err := json.Unmarshal(data, &meta); err != nil {
			t.Fatalf("metadata: %v\n%s", err, data)
		}
		var metrics map[string]any
		if err := json.Unmarshal(meta["metrics"], &metrics); err != nil || metrics["active_hours"] == nil || metrics["active_hours_2"] == nil {
			t.Errorf("metadata metrics %s (%v)", meta["metrics"], err)
		}
		for _, key := range []string{"min_clients", "suppressed", "publishing"} {
			if _, ok := meta[key]; ok {
				t.Errorf("metadata has %q, which its schema does not allow", key)
			}
		}
	}

	t.Run("2", func(t *testing.T) {
		run(t, 2)
		if doc := ocRead(t, filepath.Join(o.Output, ocWeeklyJSON)); string(doc) != "[]\n" {
			t.Errorf("weekly statistics %s, want no row: every group has fewer than 2 clients", doc)
		}
		table, err := export.ReadTable(filepath.Join(o.Output, "tables", "statistics_test_experiment_week_1.ndjson"))
		if err != nil || len(table) != 0 {
			t.Errorf("the statistics table keeps %d rows (%v), want none", len(table), err)
		}
		var groups []string
		for _, basis := range []string{"enrollments", "exposures"} {
			for _, segment := range []string{"all", "regular_user_v3"} {
				for _, branch := range []string{"branch1", "branch2"} {
					groups = append(groups, ocSuppressed(basis, segment, branch))
				}
			}
		}
		if got, want := suppressions(t), `{"min_clients":2,"suppressed":[`+strings.Join(groups, ",")+`]}`; got != want {
			t.Errorf("suppressions\n%s\nwant\n%s", got, want)
		}
		checkMetadata(t)
	})
	t.Run("1", func(t *testing.T) {
		run(t, 1)
		rows := ocWeekRows(t, o.Output)
		var want []statistics.Row
		for _, r := range all {
			if r.Segment == "regular_user_v3" && (r.Branch == "branch1" || r.ComparisonToBranch == "branch1") {
				continue // the empty groups: their count rows (no comparison with them exists)
			}
			want = append(want, r)
		}
		if len(rows) != 34 || len(want) != 34 {
			t.Errorf("%d rows published (%d expected rows kept), want 34", len(rows), len(want))
		}
		compareRows(t, rows, want)
		if got, want := suppressions(t), `{"min_clients":1,"suppressed":[`+ocSuppressed("enrollments", "regular_user_v3", "branch1")+","+
			ocSuppressed("exposures", "regular_user_v3", "branch1")+`]}`; got != want {
			t.Errorf("suppressions\n%s\nwant\n%s", got, want)
		}
		checkMetadata(t)
	})
	t.Run("0", func(t *testing.T) {
		// In the same output: the list of the earlier runs does not outlive them.
		run(t, 0)
		compareRows(t, ocWeekRows(t, o.Output), all)
		if _, err := os.Stat(filepath.Join(o.Output, "suppressions", "suppressions_test_experiment.json")); !os.IsNotExist(err) {
			t.Errorf("the suppressions of an earlier run outlive a run that suppresses nothing (stat: %v)", err)
		}
		checkMetadata(t)
	})
}

// ocSnapshot lists every file under dir with its size and modification time.
func ocSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[path] = fmt.Sprintf("%d %s", info.Size(), info.ModTime())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A dry run prints the plan and dry-runs the queries, writing nothing: not the output,
// not the enrollments table. Once the enrollments exist, the metrics queries are checked
// too, and one the warehouse refuses fails the dry run naming its table.
func TestOpsCLIDryRun(t *testing.T) {
	ctx := context.Background()
	o := ocFixture(t, ocWeekly)
	o.DryRun = true
	var out bytes.Buffer
	if err := Run(ctx, o, &out); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	want := "dry run: nothing is written\n\n" +
		"plan: 1 experiment, 1 window, 2 metrics queries\n" +
		"table                                    dry run  bytes processed\n" +
		"mozanalysis.enrollments_test_experiment  ok       -\n" +
		"2 metrics queries not checked: they read enrollments tables that the run writes first\n"
	if out.String() != want {
		t.Errorf("dry run output\n%s\nwant\n%s", out.String(), want)
	}
	if _, err := os.Stat(o.Output); !os.IsNotExist(err) {
		t.Errorf("the dry run created the output folder (%v)", err)
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	if exists, err := client.TableExists(ctx, "mozanalysis", "enrollments_test_experiment"); err != nil || exists {
		t.Errorf("the dry run wrote the enrollments table (exists %v, %v)", exists, err)
	}

	o.DryRun = false
	if err := Run(ctx, o, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := ocSnapshot(t, o.Output)
	o.DryRun = true
	out.Reset()
	if err := Run(ctx, o, &out); err != nil {
		t.Fatalf("dry run after the run: %v\n%s", err, out.String())
	}
	for _, line := range []string{
		"mozanalysis.enrollments_test_experiment  ok       -",
		"mozanalysis.test_experiment_enrollments_clients_daily_week_1  ok  -",
		"mozanalysis.test_experiment_exposures_clients_daily_week_1  ok  -",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), strings.Join(strings.Fields(line), " ")) {
			t.Errorf("dry run output lacks %q:\n%s", line, out.String())
		}
	}
	if strings.Contains(out.String(), "not checked") {
		t.Errorf("metrics queries left unchecked although their enrollments table exists:\n%s", out.String())
	}

	// A metric reading a column clients_daily does not have.
	ocWrite(t, o.ConfigFile, periodList("weekly", "active_hours")+bootstrapMetric("active_hours", "SUM(no_such_column)", "clients_daily", bothBases)+
		dataSources("clients_daily"))
	out.Reset()
	err = Run(ctx, o, &out)
	if err == nil || !strings.Contains(err.Error(), "mozanalysis.test_experiment_enrollments_clients_daily_week_1: ") ||
		!strings.Contains(err.Error(), "mozanalysis.test_experiment_exposures_clients_daily_week_1: ") || !strings.Contains(err.Error(), "no_such_column") {
		t.Fatalf("error %v, want both metrics tables named\n%s", err, out.String())
	}
	if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), "mozanalysis.test_experiment_enrollments_clients_daily_week_1 FAILED") {
		t.Errorf("the table does not show the failure:\n%s", out.String())
	}
	if ExitCode(err) != ExitFailure {
		t.Errorf("exit status %d, want %d", ExitCode(err), ExitFailure)
	}
	if after := ocSnapshot(t, o.Output); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the dry runs changed the output:\n%v\nwas\n%v", after, before)
	}
}

// --publish-only publishes what the job (here: pipeline.Run, as the Dataflow job runs it)
// wrote to --results-staging, the same as a run, and leaves the staging in place so that a
// retried publish step reads it again; an empty staging is refused.
func TestOpsCLIPublishOnly(t *testing.T) {
	ctx := context.Background()
	baseline := ocBaseline(t, ocWeekly)

	o := ocFixture(t, ocWeekly)
	// The job: the template's program prepares the enrollments and runs the pipeline.
	dialect, err := warehouse.DialectOf(o.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	decisions, _, err := runDecisions(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pipeline.NewPlan(decisions, dialect, pipeline.Options{Warehouse: o.Warehouse, Dataset: o.Dataset,
		EventsTable: o.EventsTable, Seed: o.Seed, Now: o.Now, ReadParts: o.ReadParts})
	if err != nil {
		t.Fatal(err)
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	if err := ensureEnrollments(ctx, client, plan, o, discardLogger, nil); err != nil {
		t.Fatal(err)
	}
	staging := t.TempDir()
	if err := pipeline.Run(ctx, plan, staging); err != nil {
		t.Fatal(err)
	}
	staged := map[string]string{}
	for _, name := range dirNames(t, staging) {
		staged[name] = string(ocRead(t, filepath.Join(staging, name)))
	}
	if staged["statistics_test_experiment_week_1.ndjson"] == "" {
		t.Fatalf("the job staged %v", dirNames(t, staging))
	}

	o.PublishOnly, o.ResultsStaging = true, staging
	ocReplacePipeline(t, func(context.Context, *pipeline.Plan, string) error {
		t.Error("--publish-only ran a pipeline")
		return errors.New("no pipeline")
	})
	for attempt := 1; attempt <= 2; attempt++ { // a retried publish step
		if err := Run(ctx, o, io.Discard); err != nil {
			t.Fatalf("publish %d: %v", attempt, err)
		}
		if got := ocRead(t, filepath.Join(o.Output, ocWeeklyJSON)); !bytes.Equal(got, baseline) {
			t.Errorf("publish %d: statistics differ from a run's:\n%s\nwant\n%s", attempt, got, baseline)
		}
		for name, data := range staged {
			if got, err := os.ReadFile(filepath.Join(staging, name)); err != nil || string(got) != data {
				t.Errorf("publish %d: staged %s changed or removed (%v)", attempt, name, err)
			}
		}
		if got := dirNames(t, staging); len(got) != len(staged) {
			t.Errorf("publish %d: staging holds %v", attempt, got)
		}
	}

	empty := ocFixture(t, ocWeekly)
	empty.PublishOnly, empty.ResultsStaging = true, t.TempDir()
	err = Run(ctx, empty, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--publish-only: ") || !strings.Contains(err.Error(), "holds no results for 1 experiments (e.g. test-experiment)") {
		t.Fatalf("error %v, want the empty staging refused", err)
	}
	if ExitCode(err) != ExitFailure {
		t.Errorf("exit status %d, want %d", ExitCode(err), ExitFailure)
	}
	ocNothingPublished(t, empty.Output)
}
