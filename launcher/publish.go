package launcher

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/transforms"
)

// Output layout, mirroring Jetstream's BigQuery dataset and GCS bucket:
//
//	<output>/tables/statistics_<slug>_<period>_<window>.ndjson   statistics tables
//	<output>/tables/errors_<slug>.ndjson                         analysis errors of the last run
//	<output>/statistics/statistics_<slug>_<suffix>.json          published JSON, all windows
const (
	tablesDir     = "tables"
	statisticsDir = "statistics"
)

// runAndPublish runs the pipeline into a staging folder, then moves its tables into place
// and re-exports the JSON of every period it touched. A failed pipeline publishes nothing.
func runAndPublish(ctx context.Context, plan *pipeline.Plan, output string) error {
	if err := os.MkdirAll(output, 0o755); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	staging, err := os.MkdirTemp(output, ".staging-")
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer os.RemoveAll(staging)
	abs, err := filepath.Abs(staging)
	if err != nil {
		return err
	}
	if err := pipeline.Run(ctx, plan, abs); err != nil {
		return err
	}
	tables := filepath.Join(output, tablesDir)
	if err := os.MkdirAll(tables, 0o755); err != nil {
		return err
	}
	for _, ep := range plan.Experiments {
		// This run's error log replaces the previous one, even when it is empty.
		_ = os.Remove(filepath.Join(tables, transforms.ErrorsFile(ep.Analysis.Slug)))
	}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(staging, e.Name()), filepath.Join(tables, e.Name())); err != nil {
			return fmt.Errorf("publishing %s: %w", e.Name(), err)
		}
	}
	return exportStatistics(plan, output)
}

// exportStatistics writes statistics_<slug>_<suffix>.json for every period of the plan,
// with the rows of all its windows (the statistics view's export).
func exportStatistics(plan *pipeline.Plan, output string) error {
	for _, ep := range plan.Experiments {
		done := map[configs.Period]bool{}
		for _, w := range ep.Windows {
			if done[w.Period] {
				continue
			}
			done[w.Period] = true
			windows, err := export.ReadPeriod(filepath.Join(output, tablesDir), ep.TableSlug, string(w.Period))
			if err != nil {
				return err
			}
			if dups := export.Duplicates(windows); len(dups) > 0 {
				return fmt.Errorf("statistics of %s %s: %d duplicate rows, e.g. %s", ep.Analysis.Slug, w.Period, len(dups), dups[0])
			}
			path := filepath.Join(output, statisticsDir, export.StatisticsFile(ep.TableSlug, w.Period.Suffix()))
			if err := export.WriteFileAtomic(path, export.StatisticsJSON(windows)); err != nil {
				return err
			}
		}
	}
	return nil
}
