package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// DefaultWarehouse is the local warehouse `jetstream sample-data` writes.
const DefaultWarehouse = "duckdb:sample/mozdata.duckdb"

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "analyse an experiment over a range of analysis dates and publish the results",
		Description: "Without flags, analyses the bundled sample experiment on the local sample warehouse\n" +
			"(generate it first with `jetstream sample-data`) over its whole duration.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "experiment", Usage: "Experimenter v8 JSON file (one record or a list); default: the bundled sample. Without --config: analyse its experiments with their metric-hub configs"},
			&cli.StringFlag{Name: "experimenter-url", Usage: "analyse the experiments of this Experimenter (e.g. " + experimenter.DefaultBaseURL + ") with their metric-hub configs"},
			&cli.StringSliceFlag{Name: "experiment-slug", Usage: "with --experimenter-url or --experiment: only this experiment, without the daily selection (repeatable)"},
			&cli.StringFlag{Name: "config", Usage: "Jetstream config TOML named <slug>.toml; default: the bundled sample's"},
			configRepoFlag,
			&cli.BoolFlag{Name: "config-only", Usage: "resolve the config alone, without the platform's default metrics (as Jetstream's own integration tests do)"},
			&cli.StringFlag{Name: "warehouse", Value: DefaultWarehouse, Usage: "warehouse URL: duckdb:PATH, or bigquery:PROJECT"},
			&cli.StringFlag{Name: "bigquery-endpoint",
				Usage: "BigQuery API endpoint, e.g. the emulator's http://127.0.0.1:9050, without credentials (default: BIGQUERY_EMULATOR_HOST, else Google's)"},
			&cli.StringFlag{Name: "dataset", Value: "mozanalysis", Usage: "dataset (schema) for enrollments tables"},
			&cli.BoolFlag{Name: "recreate-enrollments", Usage: "recompute the enrollments tables (needed after segments or the enrollment source change: they are computed once)"},
			&cli.StringFlag{Name: "events-table", Value: "mozdata.telemetry.events", Usage: "table with the enrollment and exposure events"},
			&cli.StringFlag{Name: "date", Usage: "analyse this single date (YYYY-MM-DD), as the daily run does"},
			&cli.StringFlag{Name: "from", Usage: "first analysis date (default: the experiment's start date)"},
			&cli.StringFlag{Name: "to", Usage: "last analysis date (default: its end date, or yesterday while it is live)"},
			&cli.StringSliceFlag{Name: "period", Usage: "only these analysis periods (day, week, days28, overall, preenrollment_week, preenrollment_days28)"},
			&cli.StringFlag{Name: "output", Value: "out", Usage: "folder for statistics tables, logs and (without --bucket) published JSON"},
			&cli.IntFlag{Name: "read-parts", Value: 1, Usage: "read each metrics table in this many parts, by different workers (results do not depend on it)"},
			&cli.StringFlag{Name: "results-staging", Usage: "where the pipeline writes its tables before they are published: gs://BUCKET/PREFIX, needed on Dataflow (default: a temporary folder in --output)"},
			&cli.StringFlag{Name: "bucket", Usage: "where the JSON documents are published: gs://BUCKET[/PREFIX], a folder, or none (default: the --output folder)"},
			&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "base random seed; each cell derives its own seed from it and its identity"},
			&cli.StringFlag{Name: "sql-output-dir", Usage: "also write every generated query to this folder, named after its table"},
		}, runnerFlags...),
		Action: func(c *cli.Context) error {
			if err := applyRunner(c); err != nil {
				return err
			}
			opts, err := runOptionsFrom(c)
			if err != nil {
				return err
			}
			return Run(c.Context, opts, c.App.Writer)
		},
	}
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
}

func runOptionsFrom(c *cli.Context) (RunOptions, error) {
	o := RunOptions{
		ExperimentFile:  c.String("experiment"),
		ConfigFile:      c.String("config"),
		ExperimenterURL: c.String("experimenter-url"),
		Slugs:           c.StringSlice("experiment-slug"),
		ConfigRepos:     c.StringSlice("config-repo"),
		ConfigOnly:      c.Bool("config-only"),
		Warehouse:       c.String("warehouse"),
		Dataset:         c.String("dataset"),
		EventsTable:     c.String("events-table"),
		Output:          c.String("output"),
		Seed:            c.Uint64("seed"),
		SQLOutputDir:    c.String("sql-output-dir"),
		Now:             time.Now().UTC(),
	}
	var err error
	if ep := c.String("bigquery-endpoint"); ep != "" {
		project, ok := strings.CutPrefix(o.Warehouse, "bigquery:")
		if !ok || strings.Contains(project, "?") {
			return o, fmt.Errorf("--bigquery-endpoint needs --warehouse bigquery:PROJECT, got %q", o.Warehouse)
		}
		if !strings.Contains(ep, "://") {
			ep = "http://" + ep // host:port, as BIGQUERY_EMULATOR_HOST
		}
		o.Warehouse = "bigquery:" + warehouse.BigQueryLocation(project, ep)
	}
	if d := c.String("date"); d != "" {
		if c.IsSet("from") || c.IsSet("to") {
			return o, fmt.Errorf("--date cannot be combined with --from or --to")
		}
		if o.From, err = parseDate("--date", d); err != nil {
			return o, err
		}
		o.To = o.From
	}
	if d := c.String("from"); d != "" {
		if o.From, err = parseDate("--from", d); err != nil {
			return o, err
		}
	}
	if d := c.String("to"); d != "" {
		if o.To, err = parseDate("--to", d); err != nil {
			return o, err
		}
	}
	for _, p := range c.StringSlice("period") {
		period, err := configs.ParsePeriod(p)
		if err != nil {
			return o, fmt.Errorf("--period: %w", err)
		}
		o.Periods = append(o.Periods, period)
	}
	if o.Output == "" {
		return o, fmt.Errorf("--output must not be empty")
	}
	return o, nil
}

func parseDate(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, fmt.Errorf("%s: want a date as YYYY-MM-DD, got %q", flag, s)
	}
	return t, nil
}

// Run analyses the experiments of the options (one config's, or Experimenter's): decide,
// plan, prepare the warehouse, run one pipeline for all of them, publish, summarise. Nothing
// is published unless the whole pipeline succeeds. An experiment that fails (its decision,
// its config) is reported and left out while the others are analysed; the run then ends
// with an error naming it.
func Run(ctx context.Context, o RunOptions, out io.Writer) error {
	if len(o.Slugs) > 0 && !o.experimenterMode() {
		return fmt.Errorf("--experiment-slug needs --experimenter-url or --experiment without --config")
	}
	dialect, err := warehouse.DialectOf(o.Warehouse)
	if err != nil {
		return err
	}
	store, err := export.OpenStore(ctx, storeLocation(o))
	if err != nil {
		return fmt.Errorf("--bucket: %w", err)
	}
	defer store.Close()
	decisions, coll, err := runDecisions(ctx, o, out)
	if err != nil {
		return err
	}
	plan, err := pipeline.NewPlan(decisions, dialect, pipeline.Options{
		Warehouse: o.Warehouse, Dataset: o.Dataset, EventsTable: o.EventsTable, Seed: o.Seed, Now: o.Now,
		ReadParts: o.ReadParts,
	})
	if err != nil {
		return err
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(out, "skipping %s: %s\n", s.Slug, s.Reason)
	}
	failed := failures(plan)
	for _, f := range plan.Failed {
		fmt.Fprintf(out, "failed: %v\n", f)
	}
	pub := publication{Output: o.Output, Store: store, Collection: coll, Dataset: o.Dataset, Start: o.Now, Staging: o.ResultsStaging}
	if len(plan.Queries) == 0 {
		if failed != nil && o.experimenterMode() {
			// Nothing to compute, but the daily run logs and publishes the failures as
			// Jetstream does. (A run of one config file that fails is bad input: nothing
			// is written.)
			return errors.Join(failed, publish(ctx, plan, pub, nil))
		}
		if failed != nil {
			return failed
		}
		fmt.Fprintln(out, "nothing to analyse")
		return nil
	}
	if o.SQLOutputDir != "" {
		if err := writeSQL(o.SQLOutputDir, plan, dialect); err != nil {
			return err
		}
	}
	if dataflowDryRun() {
		// Beam translates the pipeline and prints the Dataflow job: nothing runs, so the
		// warehouse is left alone and nothing is published.
		if err := pipeline.Run(ctx, plan, o.Output); err != nil {
			return err
		}
		return failed
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return err
	}
	for _, ep := range plan.Experiments {
		if o.RecreateEnrollments {
			if err := client.DropTable(ctx, o.Dataset, ep.Enrollments.TableName()); err != nil {
				return err
			}
		}
		if _, err := ep.Enrollments.Ensure(ctx, client, o.Dataset, o.Now); err != nil {
			return err
		}
	}
	pub.Warehouse = client
	if err := runAndPublish(ctx, plan, pub); err != nil {
		return err
	}
	if err := summarise(out, plan, o); err != nil {
		return err
	}
	return failed
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
