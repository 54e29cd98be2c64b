package launcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// Output layout. The output folder plays Jetstream's BigQuery datasets; the bucket (by
// default the same folder) plays its GCS bucket:
//
//	<output>/tables/statistics_<slug>_<period>_<window>.ndjson   statistics tables
//	<output>/tables/errors_<slug>.ndjson                         analysis errors of the last run
//	<output>/logs/logs.ndjson                                    the logs table (appended)
//	<bucket>/statistics/statistics_<slug>_<suffix>.json          published JSON, all windows
//	<bucket>/metadata/metadata_<slug>.json                       metrics and outcomes shown
//	<bucket>/errors/errors_<slug>.json                           errors of the weekly cycle
const (
	tablesDir     = "tables"
	statisticsDir = "statistics"
	logsFile      = "logs/logs.ndjson"
)

// publication is what publishing one run needs besides the plan.
type publication struct {
	Output     string
	Store      export.Store
	Collection *configs.Collection
	Warehouse  warehouse.Client // BigQuery: statistics tables and views are loaded into Dataset
	Dataset    string
	Start      time.Time // the analysis start time (metadata, log timestamps)
	// Staging is where the pipeline writes its tables before they are published: "" for a
	// temporary folder in Output, or gs://bucket/prefix (Dataflow).
	Staging string
}

// runAndPublish runs the pipeline, which writes its tables to a staging store (a temporary
// folder in the output, or pub.Staging — gs://… for Dataflow, whose workers cannot reach
// the launcher's disk), then moves the tables into place and publishes every experiment's
// documents. A failed pipeline publishes nothing.
func runAndPublish(ctx context.Context, plan *pipeline.Plan, pub publication) error {
	if err := os.MkdirAll(pub.Output, 0o755); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	location := pub.Staging
	if location == "" {
		dir, err := os.MkdirTemp(pub.Output, ".staging-")
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		defer os.RemoveAll(dir)
		if location, err = filepath.Abs(dir); err != nil {
			return err
		}
	} else {
		location = strings.TrimSuffix(location, "/") + fmt.Sprintf("/run-%d", time.Now().UnixNano())
	}
	staging, err := export.OpenStore(ctx, location)
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	defer staging.Close()
	if err := pipeline.Run(ctx, plan, location); err != nil {
		return err
	}
	staged, err := staging.List(ctx, "")
	if err != nil {
		return err
	}
	tables := filepath.Join(pub.Output, tablesDir)
	if err := os.MkdirAll(tables, 0o755); err != nil {
		return err
	}
	for _, ep := range plan.Experiments {
		// This run's error log replaces the previous one, even when it is empty.
		_ = os.Remove(filepath.Join(tables, transforms.ErrorsFile(ep.Analysis.Slug)))
	}
	for _, name := range staged {
		data, err := staging.Get(ctx, name)
		if err == nil {
			err = export.WriteFileAtomic(filepath.Join(tables, name), data)
		}
		if err == nil {
			err = staging.Delete(ctx, name)
		}
		if err != nil {
			return fmt.Errorf("publishing %s: %w", name, err)
		}
	}
	return publish(ctx, plan, pub, staged)
}

// publish writes, after the tables: the logs rows of the run, the statistics tables to
// BigQuery when the warehouse is BigQuery, and to the bucket every analysed experiment's
// statistics JSON (each period it touched), metadata and errors, and the errors of every
// experiment that failed.
func publish(ctx context.Context, plan *pipeline.Plan, pub publication, staged []string) error {
	tables := filepath.Join(pub.Output, tablesDir)
	var slugs []string
	for _, ep := range plan.Experiments {
		slugs = append(slugs, ep.Analysis.Slug)
	}
	analysisErrors, err := transforms.ReadErrorsDir(tables, slugs)
	if err != nil {
		return err
	}
	logs := logRows(plan, analysisErrors, pub.Start)
	all, err := appendLogs(filepath.Join(pub.Output, logsFile), logs)
	if err != nil {
		return err
	}
	if onBigQuery(pub) && len(logs) > 0 {
		var columns []warehouse.Column
		for _, f := range export.LogsTableSchema() {
			columns = append(columns, warehouse.Column{Name: f.Name, Type: f.Type})
		}
		if err := warehouse.AppendJSON(ctx, pub.Warehouse, export.LogsDataset, export.LogsTable, columns, export.EncodeLogTable(logs)); err != nil {
			return err
		}
	}
	var errs []error
	for _, ep := range plan.Experiments {
		if err := publishExperiment(ctx, ep, pub, staged, all); err != nil {
			errs = append(errs, fmt.Errorf("publishing %s: %w", ep.Analysis.Slug, err))
		}
	}
	for _, f := range plan.Failed {
		since := export.ErrorsSince(pub.Start, f.Date)
		doc := export.ErrorsJSON(export.ExperimentLogs(all, f.Slug, since))
		if err := pub.Store.Put(ctx, "errors/"+export.ErrorsFile(warehouse.NormalizeName(f.Slug)), doc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func publishExperiment(ctx context.Context, ep pipeline.ExperimentPlan, pub publication, staged []string, logs []export.LogRow) error {
	tables := filepath.Join(pub.Output, tablesDir)
	periods := map[configs.Period]bool{}
	for _, w := range ep.Windows {
		periods[w.Period] = true
	}
	if onBigQuery(pub) {
		if err := loadStatistics(ctx, ep, pub, staged); err != nil {
			return err
		}
	}
	for _, period := range slices.Sorted(maps.Keys(periods)) {
		windows, err := export.ReadPeriod(tables, ep.TableSlug, string(period))
		if err != nil {
			return err
		}
		if dups := export.Duplicates(windows); len(dups) > 0 {
			return fmt.Errorf("statistics of %s %s: %d duplicate rows, e.g. %s", ep.Analysis.Slug, period, len(dups), dups[0])
		}
		name := statisticsDir + "/" + export.StatisticsFile(ep.TableSlug, period.Suffix())
		if err := pub.Store.Put(ctx, name, export.StatisticsJSON(windows)); err != nil {
			return err
		}
	}
	meta, err := export.NewMetadata(ep.Analysis, ep.Experiment, pub.Collection, export.MetadataOptions{AnalysisStartTime: pub.Start})
	switch {
	case errors.Is(err, export.ErrPrivate):
		// Jetstream publishes no metadata for private experiments.
	case err != nil:
		return err
	default:
		if err := pub.Store.Put(ctx, "metadata/"+export.MetadataFile(ep.TableSlug), export.MetadataJSON(meta)); err != nil {
			return err
		}
	}
	since := export.ErrorsSince(pub.Start, ep.Dates.LastEnrollment)
	doc := export.ErrorsJSON(export.ExperimentLogs(logs, ep.Analysis.Slug, since))
	return pub.Store.Put(ctx, "errors/"+export.ErrorsFile(ep.TableSlug), doc)
}

// loadStatistics loads the experiment's statistics tables of this run into BigQuery and
// re-creates the views of their periods.
func loadStatistics(ctx context.Context, ep pipeline.ExperimentPlan, pub publication, staged []string) error {
	var rows []warehouse.StatisticsRows
	suffixes := map[string]string{}
	for _, w := range ep.Windows {
		name := warehouse.StatisticsTable(ep.Analysis.Slug, string(w.Period), w.Index)
		if !slices.Contains(staged, export.TableFile(name)) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(pub.Output, tablesDir, export.TableFile(name)))
		if err != nil {
			return err
		}
		rows = append(rows, warehouse.StatisticsRows{Name: name, Period: string(w.Period), Rows: data})
		suffixes[string(w.Period)] = w.Period.Suffix()
	}
	return warehouse.PublishStatistics(ctx, pub.Warehouse, pub.Dataset, ep.Analysis.Slug, ep.TableSlug, rows, suffixes, pub.Start)
}

// logRows are the logs table rows of a run: every analysis error and every failed
// experiment, at ERROR level, stamped with the analysis start time.
func logRows(plan *pipeline.Plan, errs []transforms.AnalysisError, start time.Time) []export.LogRow {
	var rows []export.LogRow
	for _, e := range errs {
		rows = append(rows, export.LogRow{Timestamp: start, Source: "jetstream", Experiment: e.Experiment, Metric: e.Metric,
			Statistic: e.Statistic, AnalysisBasis: e.AnalysisBasis, Segment: e.Segment,
			AnalysisPeriod: fmt.Sprintf("%s_%d", e.Period, e.Window), Message: e.Message, LogLevel: "ERROR",
			Exception: e.ExceptionType + ": " + e.Message, ExceptionType: e.ExceptionType})
	}
	for _, f := range plan.Failed {
		rows = append(rows, export.LogRow{Timestamp: start, Source: "jetstream", Experiment: f.Slug, Message: f.Message,
			LogLevel: "ERROR", Exception: f.Reason + ": " + f.Message, ExceptionType: f.Reason})
	}
	return rows
}

// appendLogs appends rows to the local logs table and returns all its rows. The file is
// rewritten atomically, so a failed run never leaves half a line.
func appendLogs(path string, rows []export.LogRow) ([]export.LogRow, error) {
	var old []export.LogRow
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if old, err = export.DecodeLogTable(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(rows) == 0 {
		return old, nil
	}
	all := append(old, rows...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := export.WriteFileAtomic(path, export.EncodeLogTable(all)); err != nil {
		return nil, err
	}
	return all, nil
}

// onBigQuery tells whether the run's warehouse is BigQuery, which then also receives the
// statistics tables, their views and the logs rows.
func onBigQuery(pub publication) bool {
	return pub.Warehouse != nil && pub.Warehouse.Dialect().Name() == "bigquery"
}

// storeLocation is where published files go: --bucket, or the output folder.
func storeLocation(o RunOptions) string {
	if strings.TrimSpace(o.Bucket) != "" {
		return o.Bucket
	}
	return o.Output
}
