package launcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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
	// MinClients: the statistics of smaller groups are not published (0: all are).
	MinClients int
	// LogToBigQuery appends the log rows to monitoring.logs of the BigQuery Warehouse.
	LogToBigQuery bool
	// PublishOnly publishes what a submitted job wrote to Staging: no pipeline runs.
	PublishOnly bool
	// suppressed are the groups left out, per experiment (filled by runAndPublish).
	suppressed map[string][]export.Suppression
}

// runAndPublish runs the pipeline, which writes its tables to a staging store (a temporary
// folder in the output, or pub.Staging — gs://… for Dataflow, whose workers cannot reach
// the launcher's disk), then moves the tables into place and publishes every experiment's
// documents. A failed pipeline is run again up to retries times, after delay, 2·delay, …;
// a pipeline that still fails publishes nothing.
func runAndPublish(ctx context.Context, plan *pipeline.Plan, pub publication, retries int, delay time.Duration, log *slog.Logger) error {
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
	} else if !pub.PublishOnly {
		location = strings.TrimSuffix(location, "/") + fmt.Sprintf("/run-%d", time.Now().UnixNano())
	}
	staging, err := export.OpenStore(ctx, location)
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	defer staging.Close()
	if pub.PublishOnly {
		if err := checkStaged(ctx, plan, staging, location); err != nil {
			return err
		}
	} else if err := runPipeline(ctx, plan, location, staging, retries, delay, log); err != nil {
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
	pub.suppressed = map[string][]export.Suppression{}
	for _, name := range staged {
		data, err := staging.Get(ctx, name)
		if err == nil {
			data, err = pub.guard(plan, name, data)
		}
		if err == nil {
			err = export.WriteFileAtomic(filepath.Join(tables, name), data)
		}
		if err == nil && !pub.PublishOnly {
			// A published job's staging is kept: a retried publish step (a new pod,
			// without this one's output folder) reads it again.
			err = staging.Delete(ctx, name)
		}
		if err != nil {
			return fmt.Errorf("publishing %s: %w", name, err)
		}
	}
	return publish(ctx, plan, pub, staged)
}

// checkStaged checks, before publishing what a submitted job wrote, that the job wrote
// something for every experiment of the plan (a statistics table or its errors): publishing
// the results of another date, or of a job that never ran, would otherwise succeed quietly.
func checkStaged(ctx context.Context, plan *pipeline.Plan, staging export.Store, location string) error {
	staged, err := staging.List(ctx, "")
	if err != nil {
		return err
	}
	var missing []string
	for _, ep := range plan.Experiments {
		wrote := slices.ContainsFunc(staged, func(name string) bool {
			return name == transforms.ErrorsFile(ep.Analysis.Slug) || strings.HasPrefix(name, "statistics_"+ep.TableSlug+"_")
		})
		if !wrote {
			missing = append(missing, ep.Analysis.Slug)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("--publish-only: %s holds no results for %d experiments (e.g. %s): did the job end successfully, and were its flags the same?", location, len(missing), missing[0])
	}
	return nil
}

// runPipelineOnce runs a plan's pipeline: pipeline.RunWithStats, replaced by tests of the
// retries.
var runPipelineOnce = pipeline.RunWithStats

// runPipeline runs the plan's pipeline, and again after a failure, up to retries times,
// waiting delay, then twice as long each time; each attempt starts from an empty staging
// store. The run's context ends the waiting too.
func runPipeline(ctx context.Context, plan *pipeline.Plan, location string, staging export.Store, retries int, delay time.Duration, log *slog.Logger) error {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		stats, err := runPipelineOnce(ctx, plan, location)
		if err == nil {
			logPipelineStats(log, stats, time.Since(start))
		}
		if err == nil || attempt == retries || ctx.Err() != nil {
			if err != nil && attempt > 0 {
				err = fmt.Errorf("after %d attempts: %w", attempt+1, err)
			}
			return err
		}
		log.Warn("pipeline failed; retrying", "attempt", attempt+1, "retries", retries, "in", delay.String(), "error", err.Error())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay *= 2
		leftovers, err := staging.List(ctx, "")
		for _, name := range leftovers {
			if err == nil {
				err = staging.Delete(ctx, name)
			}
		}
		if err != nil {
			return fmt.Errorf("clearing the staging store for a retry: %w", err)
		}
	}
}

// logPipelineStats logs how long a pipeline took, how fast it read per-client rows, and the
// busy time of each stage (pipeline.Stats: summed over workers, so the stages may add up
// to more than the pipeline's seconds).
func logPipelineStats(log *slog.Logger, stats pipeline.Stats, took time.Duration) {
	args := []any{"seconds", took.Round(time.Millisecond).Seconds()}
	if stats.ClientRows >= 0 {
		args = append(args, "client_rows", stats.ClientRows)
		if took > 0 {
			args = append(args, "rows_per_second", int64(float64(stats.ClientRows)/took.Seconds()))
		}
		seconds := func(d time.Duration) float64 { return d.Round(time.Microsecond).Seconds() }
		args = append(args, "sql_seconds", seconds(stats.SQL), "read_seconds", seconds(stats.Read),
			"combine_seconds", seconds(stats.Combine), "bootstrap_seconds", seconds(stats.Bootstrap),
			"write_seconds", seconds(stats.Write))
	}
	log.Info("pipeline finished", args...)
}

// guard checks a staged table before it is moved into place: statistics tables lose the
// rows of groups with fewer than MinClients clients (remembered for the experiment's
// metadata), and nothing client-level passes.
func (pub publication) guard(plan *pipeline.Plan, name string, data []byte) ([]byte, error) {
	if pub.MinClients > 0 {
		for _, ep := range plan.Experiments {
			for _, w := range ep.Windows {
				table := warehouse.StatisticsTable(ep.Analysis.Slug, string(w.Period), w.Index)
				if name != export.TableFile(table) {
					continue
				}
				rows, err := export.DecodeTable(data)
				if err != nil {
					return nil, err
				}
				kept, suppressed := export.SuppressSmallGroups(rows, pub.MinClients)
				for i := range suppressed {
					suppressed[i].AnalysisPeriod, suppressed[i].WindowIndex = string(w.Period), w.Index
				}
				pub.suppressed[ep.Analysis.Slug] = append(pub.suppressed[ep.Analysis.Slug], suppressed...)
				data = export.EncodeTable(kept)
			}
		}
	}
	return data, export.CheckAggregate(name, data)
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
	if pub.LogToBigQuery && len(logs) > 0 {
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
		windows, err := pub.readPeriod(ctx, ep.TableSlug, period)
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
	var publishing *export.Publishing
	if pub.MinClients > 0 {
		publishing = &export.Publishing{MinClients: pub.MinClients, Suppressed: pub.suppressed[ep.Analysis.Slug]}
		export.SortSuppressions(publishing.Suppressed)
	}
	meta, err := export.NewMetadata(ep.Analysis, ep.Experiment, pub.Collection,
		export.MetadataOptions{AnalysisStartTime: pub.Start, Publishing: publishing})
	switch {
	case errors.Is(err, export.ErrPrivate):
		// Jetstream publishes no metadata for private experiments.
	case err != nil:
		return err
	default:
		if err := pub.Store.Put(ctx, "metadata/"+export.MetadataFile(ep.TableSlug), export.MetadataJSON(meta)); err != nil {
			return err
		}
		// Written on every run, even when nothing is suppressed, so that an earlier
		// run's list does not outlive it; a run without a threshold (--min-clients 0)
		// deletes it.
		name := "suppressions/" + export.SuppressionsFile(ep.TableSlug)
		if doc := export.SuppressionsJSON(meta); doc != nil {
			if err := pub.Store.Put(ctx, name, doc); err != nil {
				return err
			}
		} else if err := pub.Store.Delete(ctx, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	since := export.ErrorsSince(pub.Start, ep.Dates.LastEnrollment)
	doc := export.ErrorsJSON(export.ExperimentLogs(logs, ep.Analysis.Slug, since))
	return pub.Store.Put(ctx, "errors/"+export.ErrorsFile(ep.TableSlug), doc)
}

// readPeriod reads every window table of an experiment's period: from BigQuery, which
// holds the windows of earlier runs too (Jetstream exports the period's view), or from the
// output folder.
func (pub publication) readPeriod(ctx context.Context, tableSlug string, period configs.Period) ([]export.Window, error) {
	if onBigQuery(pub) {
		return readPeriodFrom(ctx, pub.Warehouse, pub.Dataset, tableSlug, string(period))
	}
	return export.ReadPeriod(filepath.Join(pub.Output, tablesDir), tableSlug, string(period))
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
