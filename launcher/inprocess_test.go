//go:build cgo

package launcher

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
	"github.com/jetstream-beam/jetstream/transforms"
)

// TestInProcessMatchesPipeline: the plain-Go reference of the benchmark
// (transforms.TallyInProcess + ComputeInProcess), run on the plan of a real run after its
// pipeline, reads the metrics tables the pipeline wrote and computes byte-identical
// statistics tables, from as many client rows. The run is the benchmark's (week 1 of the
// sample experiment: segments, bootstrap means, a covariate-adjusted linear model, deciles,
// binomials) on 400 sample clients, read in two parts by the pipeline and in one here.
func TestInProcessMatchesPipeline(t *testing.T) {
	dir := t.TempDir()
	design, err := sampleDesign()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sampledata.WriteDuckDB(dir, sampledata.Options{Clients: 400, Seed: 1, Design: design}); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join("testdata", "bench_e2e.toml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, samples.ConfigName)
	if err := os.WriteFile(config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	checked := 0
	old := runPipelineOnce
	runPipelineOnce = func(ctx context.Context, plan *pipeline.Plan, location string) (pipeline.Stats, error) {
		stats, err := pipeline.RunWithStats(ctx, plan, location)
		if err != nil {
			return stats, err
		}
		checked += compareInProcess(t, ctx, plan, location, stats)
		return stats, nil
	}
	t.Cleanup(func() { runPipelineOnce = old })
	date := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	o := RunOptions{ConfigOnly: true, ConfigFile: config, Warehouse: "duckdb:" + filepath.Join(dir, sampledata.DatabaseFile),
		Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: date, To: date,
		Periods: []configs.Period{configs.Week}, Output: filepath.Join(dir, "output"), ReadParts: 2,
		Now: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), Log: newLogger(io.Discard)}
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	if checked != 1 {
		t.Fatalf("%d statistics tables compared, want 1 (week 1)", checked)
	}
}

// compareInProcess computes the plan in process and compares its tables with the ones the
// pipeline staged at location; it returns how many tables it compared.
func compareInProcess(t *testing.T, ctx context.Context, plan *pipeline.Plan, location string, stats pipeline.Stats) int {
	t.Helper()
	ct, err := transforms.TallyInProcess(ctx, plan.Queries)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Rows != stats.ClientRows || ct.Rows == 0 {
		t.Errorf("in process: %d client rows, pipeline %d", ct.Rows, stats.ClientRows)
	}
	tables, errs, err := transforms.ComputeInProcess(plan.Config, ct)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("in process: %d analysis errors, e.g. %+v", len(errs), errs[0])
	}
	staged, err := filepath.Glob(filepath.Join(location, "statistics_*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range tables {
		names = append(names, export.TableFile(name))
	}
	for i := range staged {
		staged[i] = filepath.Base(staged[i])
	}
	slices.Sort(names)
	slices.Sort(staged)
	if !slices.Equal(names, staged) {
		t.Fatalf("in process: tables %v, pipeline %v", names, staged)
	}
	for name, rows := range tables {
		want, err := os.ReadFile(filepath.Join(location, export.TableFile(name)))
		if err != nil {
			t.Fatal(err)
		}
		got := export.EncodeTable(rows)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: in process (%d rows) differs from the pipeline's table:\n%.2000s\n---\n%.2000s", name, len(rows), got, want)
		}
	}
	return len(tables)
}
