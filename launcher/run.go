package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// DefaultWarehouse is the local warehouse `jetstream sample-data` writes.
const DefaultWarehouse = "duckdb:sample/mozdata.duckdb"

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "analyse experiments over a date (the daily run) or a range of dates, and publish the results",
		Description: "Without flags, analyses the bundled sample experiment on the local sample warehouse\n" +
			"(generate it first with `jetstream sample-data`) over its whole duration.\n\n" +
			"Examples:\n" +
			"  jetstream run                                         # the bundled sample, locally\n" +
			"  jetstream run --experimenter-url https://experimenter.services.mozilla.com --date 2026-12-06 \\\n" +
			"      --warehouse bigquery:moz-fx-data-experiments --bucket gs://mozanalysis --log-to-bigquery\n" +
			"  jetstream run --config my-experiment.toml --experiment my-experiment.json --dry-run\n\n" +
			exitStatusHelp,
		Flags: append(dateRangeFlags(), analysisFlags()...),
		Action: func(c *cli.Context) error {
			o, err := commandOptions(c)
			if err != nil {
				return err
			}
			return Run(c.Context, o, c.App.Writer)
		},
	}
}

// commandOptions checks the runner flags (setting Beam's options) and reads the options of
// an analysing command.
func commandOptions(c *cli.Context) (RunOptions, error) {
	if c.NArg() > 0 {
		// urfave/cli stops reading flags at the first argument: `run 2026-12-06 --date …`
		// would otherwise analyse with every later flag ignored.
		return RunOptions{}, usageError{fmt.Errorf("%s takes no arguments, got %q (flags after it are not read)", c.Command.Name, c.Args().First())}
	}
	if err := applyRunner(c); err != nil {
		return RunOptions{}, usageError{err}
	}
	o, err := runOptionsFrom(c)
	if err != nil {
		return o, usageError{err}
	}
	o.Log = newLogger(c.App.ErrWriter)
	return o, nil
}

// RunOptions are the inputs of one run.
type RunOptions struct {
	ExperimentFile string // "" = bundled sample
	ConfigFile     string // "" = bundled sample
	// Bucket is where statistics, metadata and errors JSON go: gs://bucket[/prefix], a
	// folder, or "none"; "" means the Output folder.
	Bucket string
	// ReadParts is how many parts each metrics table is read in (≤ 1: one).
	ReadParts int
	// ExactBootstrap: bootstrap_mean draws every distinct value (--exact-bootstrap).
	ExactBootstrap bool
	// ResultsStaging is where the pipeline writes its tables before they are published:
	// "" for a temporary folder in Output, or gs://bucket/prefix (Dataflow).
	ResultsStaging string
	// RecreateEnrollments drops the experiments' enrollments tables before the run, which
	// then computes them again (Jetstream's --recreate-enrollments).
	RecreateEnrollments bool
	// ExperimenterURL, when set, is where the experiments come from (all of them, or Slugs).
	ExperimenterURL string
	Slugs           []string // experiments to analyse in Experimenter mode; empty: the daily selection
	// ConfigRepos are metric-hub-shaped folders merged over the embedded metric-hub, whose
	// platform defaults, outcomes and definitions the config is resolved with.
	ConfigRepos  []string
	ConfigOnly   bool // resolve the config without platform defaults
	Warehouse    string
	Dataset      string
	EventsTable  string
	From, To     time.Time // zero = from the experiment's dates
	Periods      []configs.Period
	Output       string
	Seed         uint64
	SQLOutputDir string    // "" = do not write the queries
	Now          time.Time // the clock that decides Live/Complete and "yesterday"

	// WholeLife analyses every date of the experiments, from their start to their end (or
	// yesterday), also in Experimenter mode (rerun); Rerun first deletes their results.
	WholeLife, Rerun bool
	// StatisticsOnly reads the metrics tables an earlier run wrote instead of querying.
	StatisticsOnly bool
	// MinClients: statistics of groups with fewer clients are not published (0: all are).
	MinClients int
	// LogToBigQuery appends the log rows to monitoring.logs of the BigQuery warehouse.
	LogToBigQuery bool
	// Parallelism is the most experiments one pipeline analyses (0: all in one).
	Parallelism int
	// Retries is how often a failed pipeline is run again, after RetryDelay, doubling.
	Retries    int
	RetryDelay time.Duration
	// Timeout ends the run (cancelling its pipeline) when it passes (0: never).
	Timeout time.Duration
	// DryRun writes nothing: the plan is printed and every query dry-run.
	DryRun bool
	// PublishOnly publishes what a submitted job wrote to ResultsStaging, without running
	// a pipeline (the second step of a Flex Template run).
	PublishOnly bool
	// Log receives progress and events (nil: discarded).
	Log *slog.Logger
}

// Run analyses the experiments of the options (one config's, or Experimenter's): decide,
// plan, prepare the warehouse, run the pipeline (one for all experiments, or one per
// --parallelism of them), publish, summarise. Nothing of a pipeline is published unless it
// succeeds. An experiment that fails (its decision, its config, its pipeline) is reported
// and left out while the others are analysed; the run then ends with a partialError
// naming it, or a plain error when nothing was analysed.
func Run(ctx context.Context, o RunOptions, out io.Writer) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	err := run(ctx, o, out)
	if err != nil && o.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the run timed out after %s (--timeout) and was cancelled: %w", o.Timeout, err)
	}
	return err
}

func run(ctx context.Context, o RunOptions, out io.Writer) error {
	log := o.logger()
	if len(o.Slugs) > 0 && !o.experimenterMode() {
		return usageError{fmt.Errorf("--experiment-slug needs --experimenter-url or --experiment without --config")}
	}
	dialect, err := warehouse.DialectOf(o.Warehouse)
	if err != nil {
		return usageError{fmt.Errorf("--warehouse: %w", err)}
	}
	log.Info("planning", "warehouse", o.Warehouse)
	decisions, coll, err := runDecisions(ctx, o, out)
	if err != nil {
		return err
	}
	plan, err := pipeline.NewPlan(decisions, dialect, pipeline.Options{
		Warehouse: o.Warehouse, Dataset: o.Dataset, EventsTable: o.EventsTable, Seed: o.Seed, Now: o.Now,
		ReadParts: o.ReadParts, StatisticsOnly: o.StatisticsOnly, ShardDraws: shardDraws(), ExactBootstrap: o.ExactBootstrap,
	})
	if err != nil {
		return err
	}
	log.Info("planned", "experiments", len(plan.Experiments), "queries", len(plan.Queries),
		"skipped", len(plan.Skipped), "failed", len(plan.Failed))
	for _, s := range plan.Skipped {
		fmt.Fprintf(out, "skipping %s: %s\n", s.Slug, s.Reason)
	}
	failed := failures(plan)
	for _, f := range plan.Failed {
		fmt.Fprintf(out, "failed: %v\n", f)
	}
	if o.SQLOutputDir != "" && len(plan.Queries) > 0 {
		if err := writeSQL(o.SQLOutputDir, plan, dialect); err != nil {
			return err
		}
	}
	if o.DryRun {
		return errors.Join(dryRun(ctx, plan, o, out), failed)
	}
	store, err := export.OpenStore(ctx, storeLocation(o))
	if err != nil {
		return fmt.Errorf("--bucket: %w", err)
	}
	store = export.GuardedStore(store)
	defer store.Close()
	pub := publication{Output: o.Output, Store: store, Collection: coll, Dataset: o.Dataset, Start: o.Now,
		Staging: o.ResultsStaging, MinClients: o.MinClients, LogToBigQuery: o.LogToBigQuery, PublishOnly: o.PublishOnly}
	if len(plan.Queries) == 0 {
		if failed != nil && o.experimenterMode() {
			// Nothing to compute, but the daily run logs and publishes the failures as
			// Jetstream does. (A run of one config file that fails is bad input: nothing
			// is written.)
			if o.LogToBigQuery {
				if pub.Warehouse, err = warehouse.Open(o.Warehouse); err != nil {
					return err
				}
			}
			return errors.Join(failed, publish(ctx, plan, pub, nil))
		}
		if failed != nil {
			return failed
		}
		fmt.Fprintln(out, "nothing to analyse")
		return nil
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return err
	}
	pub.Warehouse = client
	if o.Rerun {
		if err := deleteResults(ctx, client, plan, o, log); err != nil {
			return err
		}
	}
	if !o.PublishOnly {
		if err := ensureEnrollments(ctx, client, plan, o, log, nil); err != nil {
			return err
		}
	}
	if templateSubmission() {
		// The Flex Template's program: Beam writes the job for the template launcher,
		// which starts it after this returns; `run --publish-only` publishes its results.
		if err := pipeline.Run(ctx, plan, o.ResultsStaging); err != nil {
			return err
		}
		fmt.Fprintf(out, "job submitted: it writes its tables to %s; publish them after it ends with `jetstream run --publish-only` and the same flags\n", o.ResultsStaging)
		// Failed experiments do not stop the job's launch (a non-zero exit would): the
		// publish step plans them again, logs and publishes their errors and exits 3.
		return nil
	}
	analysed, err := runBatches(ctx, plan, pub, o, log)
	if err != nil && len(analysed.Experiments) == 0 {
		return err
	}
	if err := recordConfigs(ctx, client, o.Dataset, analysed, o.Now, o.Rerun); err != nil {
		return err
	}
	if err := summarise(out, analysed, o); err != nil {
		return err
	}
	printOutcome(out, plan, analysed)
	if err := errors.Join(err, failed); err != nil {
		return partialError{err}
	}
	return nil
}

// ensureEnrollments writes the enrollments table of every experiment of the plan unless it
// exists (after dropping it, with --recreate-enrollments); show, when not nil, is told
// each table and whether it was written.
func ensureEnrollments(ctx context.Context, client warehouse.Client, plan *pipeline.Plan, o RunOptions, log *slog.Logger,
	show func(table string, written bool)) error {
	for _, ep := range plan.Experiments {
		table := ep.Enrollments.TableName()
		if o.RecreateEnrollments {
			if err := client.DropTable(ctx, o.Dataset, table); err != nil {
				return err
			}
		}
		created, err := ep.Enrollments.Ensure(ctx, client, o.Dataset, o.Now)
		if err != nil {
			return fmt.Errorf("experiment %q: %w", ep.Analysis.Slug, err)
		}
		log.Info("enrollments", "experiment", ep.Analysis.Slug, "table", o.Dataset+"."+table, "written", created)
		if show != nil {
			show(o.Dataset+"."+table, created)
		}
	}
	return nil
}

// runBatches runs the plan's pipeline — one for all experiments, or with --parallelism N
// one per N experiments, in turn — and publishes each after it succeeds. It returns the
// plan of the experiments analysed and published, and the error of the batches that
// failed (their experiments are not published; the others are).
func runBatches(ctx context.Context, plan *pipeline.Plan, pub publication, o RunOptions, log *slog.Logger) (*pipeline.Plan, error) {
	parallelism := o.Parallelism
	if o.PublishOnly {
		parallelism = 0 // the job analysed all experiments at once
	}
	batches := splitPlan(plan, parallelism)
	analysed := &pipeline.Plan{Config: plan.Config, Skipped: plan.Skipped, Failed: plan.Failed}
	var errs []error
	done := 0
	for i, batch := range batches {
		var slugs []string
		for _, ep := range batch.Experiments {
			slugs = append(slugs, ep.Analysis.Slug)
		}
		log.Info("pipeline", "batch", fmt.Sprintf("%d/%d", i+1, len(batches)), "experiments", strings.Join(slugs, ","),
			"done", done, "total", len(plan.Experiments), "queries", len(batch.Queries))
		start := time.Now()
		stop := reportProgress(log, i+1, len(batches), start)
		err := runAndPublish(ctx, batch, pub, o.Retries, o.RetryDelay, log)
		stop()
		if err != nil {
			log.Error("pipeline failed", "batch", fmt.Sprintf("%d/%d", i+1, len(batches)), "experiments", strings.Join(slugs, ","), "error", err.Error())
			errs = append(errs, fmt.Errorf("experiments %s: %w", strings.Join(slugs, ", "), err))
			if ctx.Err() != nil {
				break // timed out or interrupted: no later batch can run
			}
			continue
		}
		done += len(batch.Experiments)
		analysed.Experiments = append(analysed.Experiments, batch.Experiments...)
		analysed.Queries = append(analysed.Queries, batch.Queries...)
		log.Info("published", "batch", fmt.Sprintf("%d/%d", i+1, len(batches)), "done", done, "total", len(plan.Experiments),
			"seconds", time.Since(start).Round(time.Millisecond).Seconds())
	}
	return analysed, errors.Join(errs...)
}

// splitPlan cuts the plan into plans of at most n experiments each (n ≤ 0: one plan). The
// first carries the plan's skipped and failed experiments, which are published once.
func splitPlan(plan *pipeline.Plan, n int) []*pipeline.Plan {
	if n <= 0 || len(plan.Experiments) <= n {
		return []*pipeline.Plan{plan}
	}
	var out []*pipeline.Plan
	for start := 0; start < len(plan.Experiments); start += n {
		batch := &pipeline.Plan{Config: plan.Config, Experiments: plan.Experiments[start:min(start+n, len(plan.Experiments))]}
		if start == 0 {
			batch.Skipped, batch.Failed = plan.Skipped, plan.Failed
		}
		in := map[string]bool{}
		for _, ep := range batch.Experiments {
			in[ep.Analysis.Slug] = true
		}
		for _, q := range plan.Queries {
			if in[q.Experiment] {
				batch.Queries = append(batch.Queries, q)
			}
		}
		out = append(out, batch)
	}
	return out
}

// reportProgress logs, every progressInterval until stop is called, that the pipeline of
// a batch is still running: a long local run shows it is alive.
func reportProgress(log *slog.Logger, batch, batches int, start time.Time) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(progressInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				log.Info("pipeline running", "batch", fmt.Sprintf("%d/%d", batch, batches),
					"elapsed", time.Since(start).Round(time.Second).String())
			}
		}
	}()
	return func() { close(done) }
}

var progressInterval = 30 * time.Second

// printOutcome ends the run's output with what happened to every experiment.
func printOutcome(out io.Writer, plan, analysed *pipeline.Plan) {
	published := map[string]bool{}
	for _, ep := range analysed.Experiments {
		published[ep.Analysis.Slug] = true
	}
	var notPublished []string
	for _, ep := range plan.Experiments {
		if !published[ep.Analysis.Slug] {
			notPublished = append(notPublished, ep.Analysis.Slug)
		}
	}
	fmt.Fprintf(out, "\nsummary: %d analysed, %d skipped, %d failed\n", len(analysed.Experiments), len(plan.Skipped), len(plan.Failed)+len(notPublished))
	for _, s := range plan.Skipped {
		fmt.Fprintf(out, "  skipped %s: %s\n", s.Slug, s.Reason)
	}
	for _, f := range plan.Failed {
		fmt.Fprintf(out, "  failed %s: %s\n", f.Slug, f.Reason)
	}
	for _, slug := range notPublished {
		fmt.Fprintf(out, "  failed %s: its pipeline failed (see the error)\n", slug)
	}
}

func (o RunOptions) logger() *slog.Logger {
	if o.Log == nil {
		return discardLogger
	}
	return o.Log
}

// failures is the error of a run in which experiments failed, nil when none did.
func failures(plan *pipeline.Plan) error {
	switch len(plan.Failed) {
	case 0:
		return nil
	case 1:
		return plan.Failed[0]
	}
	var slugs []string
	for _, f := range plan.Failed {
		slugs = append(slugs, f.Slug)
	}
	return fmt.Errorf("%d experiments failed (%s); first: %w", len(plan.Failed), strings.Join(slugs, ", "), plan.Failed[0])
}

// writeSQL writes the enrollments query and every metrics query of the plan, each named
// after the table Jetstream writes it to (enrollments_<slug>.sql,
// <slug>_<basis>_<data source>_<period>_<window>.sql), so that a data scientist can run or
// inspect them.
func writeSQL(dir string, plan *pipeline.Plan, d warehouse.Dialect) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--sql-output-dir: %w", err)
	}
	files := map[string]string{}
	for _, ep := range plan.Experiments {
		q, err := ep.Enrollments.Query(d)
		if err != nil {
			return err
		}
		files[ep.Enrollments.TableName()] = q
	}
	for _, q := range plan.Queries {
		files[q.Table] = q.SQL
	}
	for name, sql := range files {
		if err := export.WriteFileAtomic(filepath.Join(dir, name+".sql"), []byte(sql+"\n")); err != nil {
			return fmt.Errorf("--sql-output-dir: %w", err)
		}
	}
	return nil
}
