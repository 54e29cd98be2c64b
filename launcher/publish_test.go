package launcher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// The end-to-end acceptance of publishing: the sample (its own config, week 1) through
// DuckDB and Prism, published once to a GCS bucket (fake-gcs-server in this process, reached
// through STORAGE_EMULATOR_HOST as in production) and once to a local folder. The bucket
// and the folder hold the same documents byte for byte (statistics, metadata, errors); and
// every exported statistic row of the enrollments basis equals what package statistics
// computes directly from the per-client rows of the same metrics query, with the same seeds.
func TestRunPublishesToGCSAndFolder(t *testing.T) {
	url, _ := defaultSample(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "jetstream-results"})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())

	ctx := context.Background()
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	base := RunOptions{ConfigOnly: true, Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events",
		From: day, To: day, Periods: []configs.Period{configs.Week}, Now: testNow}
	gcsRun, folderRun := base, base
	gcsRun.Output, gcsRun.Bucket = filepath.Join(dir, "gcs-run"), "gs://jetstream-results/v1"
	gcsRun.ResultsStaging = "gs://jetstream-results/staging" // the pipeline's tables go through GCS, as on Dataflow
	folderRun.Output, folderRun.Bucket = filepath.Join(dir, "folder-run"), filepath.Join(dir, "bucket")
	for _, o := range []RunOptions{gcsRun, folderRun} {
		if err := Run(ctx, o, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	gcs, err := export.OpenStore(ctx, gcsRun.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer gcs.Close()
	folder, err := export.OpenStore(ctx, folderRun.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	names, err := gcs.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"errors/errors_sample_sidebar_redesign.json", "metadata/metadata_sample_sidebar_redesign.json",
		"statistics/statistics_sample_sidebar_redesign_weekly.json"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("bucket objects %v, want %v", names, wantNames)
	}
	staging, err := export.OpenStore(ctx, gcsRun.ResultsStaging)
	if err != nil {
		t.Fatal(err)
	}
	if left, err := staging.List(ctx, ""); err != nil || len(left) != 0 {
		t.Errorf("staging objects left behind: %v (%v)", left, err)
	}
	if tables, _ := os.ReadDir(filepath.Join(gcsRun.Output, "tables")); len(tables) != 1 || tables[0].Name() != "statistics_sample_sidebar_redesign_week_1.ndjson" {
		t.Errorf("tables staged through GCS: %v, want the week 1 table", tables)
	}
	if local, _ := folder.List(ctx, ""); !slices.Equal(local, wantNames) {
		t.Errorf("folder files %v, want %v", local, wantNames)
	}
	for _, name := range wantNames {
		a, errA := gcs.Get(ctx, name)
		b, errB := folder.Get(ctx, name)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: bucket and folder differ (%v, %v)", name, errA, errB)
		}
	}
	if doc, _ := gcs.Get(ctx, "errors/errors_sample_sidebar_redesign.json"); string(doc) != "[]" {
		t.Errorf("errors document %s, want []", doc)
	}

	// The oracle: the statistics of week 1, computed directly.
	data, err := gcs.Get(ctx, "statistics/statistics_sample_sidebar_redesign_weekly.json")
	if err != nil {
		t.Fatal(err)
	}
	windows, err := export.ParseStatisticsJSON(data)
	if err != nil || len(windows) != 1 {
		t.Fatalf("weekly JSON: %v, %d windows", err, len(windows))
	}
	want := directStatistics(t, base)
	var got []string
	for _, r := range windows[0].Rows {
		if r.AnalysisBasis == "enrollments" && r.Segment == transforms.SegmentAll && r.Metric != transforms.Identity {
			got = append(got, rowString(r))
		}
	}
	slices.Sort(got)
	if len(want) < 20 || !slices.Equal(got, want) {
		t.Errorf("exported rows (%d) differ from the direct computation (%d):\n%s\nwant\n%s", len(got), len(want),
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// directStatistics computes, without Beam, every statistic of the plan's enrollments-basis
// cells of segment "all": per-client values from the metrics queries, tallied per branch,
// estimated with the seeds the pipeline derives from the cell's identity.
func directStatistics(t *testing.T, o RunOptions) []string {
	t.Helper()
	ctx := context.Background()
	decisions, _, err := runDecisions(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pipeline.NewPlan(decisions, client.Dialect(), pipeline.Options{Warehouse: o.Warehouse, Dataset: o.Dataset, EventsTable: o.EventsTable})
	if err != nil {
		t.Fatal(err)
	}
	exp := plan.Config.Experiments[0]
	var out []string
	for _, q := range plan.Queries {
		if q.Basis != "enrollments" || len(q.Pairs) > 0 {
			continue
		}
		tallies := map[string]map[string]*statistics.Tally{} // metric → branch → tally
		first := len(warehouse.MetricsKeyColumns) + len(q.Segments)
		err := client.Query(ctx, q.SQL, func(_ []string, v []any) error {
			for i, m := range q.Metrics {
				x, ok, err := transforms.Numeric(v[first+i])
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				if tallies[m] == nil {
					tallies[m] = map[string]*statistics.Tally{}
				}
				branch := v[1].(string)
				if tallies[m][branch] == nil {
					tallies[m][branch] = &statistics.Tally{}
				}
				tallies[m][branch].Add(x)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, mc := range exp.Metrics {
			byBranch, ok := tallies[mc.Name]
			if !ok {
				continue
			}
			var inputs []statistics.Input
			for _, b := range slices.Sorted(func(yield func(string) bool) {
				for b := range byBranch {
					if !yield(b) {
						return
					}
				}
			}) {
				tally := *byBranch[b]
				tally.Compact()
				inputs = append(inputs, statistics.Input{Branch: b, Tally: tally})
			}
			cell := transforms.Cell{Experiment: q.Experiment, Basis: q.Basis, Period: q.Period, Window: q.Window,
				Segment: transforms.SegmentAll, Metric: mc.Name}
			for _, sc := range mc.Statistics {
				params, err := transforms.DecodeParams(sc.Params)
				if err != nil {
					t.Fatal(err)
				}
				st, err := statistics.New(sc.Name, params)
				if err != nil {
					t.Fatal(err)
				}
				rows, errs := statistics.Compute(st, inputs, func(branch string) uint64 {
					return statistics.Seed(plan.Config.Seed, cell.Key(), branch, sc.Name)
				})
				if len(errs) > 0 {
					t.Fatalf("%s %s: %v", mc.Name, sc.Name, errs)
				}
				for _, r := range rows {
					r.Metric, r.Segment, r.AnalysisBasis = mc.Name, transforms.SegmentAll, "enrollments"
					out = append(out, rowString(r))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// rowString renders a row as the JSON export keeps it (NaN/±Inf are absent there).
func rowString(r statistics.Row) string {
	num := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "null"
		}
		return fmt.Sprint(x)
	}
	return strings.Join([]string{r.Metric, r.Statistic, r.Parameter, r.Branch, r.Comparison, r.ComparisonToBranch,
		num(r.CIWidth), num(r.Point), num(r.Lower), num(r.Upper), r.Segment, r.AnalysisBasis}, "|")
}

// --bucket none publishes no document (Jetstream's --bucket none) while the tables and the
// logs of the run are still written; a bad bucket stops the run before anything is computed.
func TestRunBucketNoneAndBadBucket(t *testing.T) {
	o := fixtureRun(t)
	config := periodList("weekly", "active_hours") + bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) + dataSources("clients_daily")
	if err := os.WriteFile(o.ConfigFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Bucket = "none"
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"tables"}) {
		t.Errorf("output holds %v, want only the tables (no published documents, no logs without errors)", names)
	}

	o.Bucket, o.Output = "gs://", o.Output+"2"
	err = Run(context.Background(), o, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "--bucket: ") {
		t.Errorf("bad bucket: error %v, want one naming --bucket", err)
	}
	if _, err := os.Stat(o.Output); !os.IsNotExist(err) {
		t.Errorf("a run with a bad bucket wrote %s", o.Output)
	}
}
