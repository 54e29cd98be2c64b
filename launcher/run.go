package launcher

import (
	"context"
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
	"github.com/jetstream-beam/jetstream/samples"
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
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "experiment", Usage: "Experimenter v8 JSON file (one record or a list); default: the bundled sample"},
			&cli.StringFlag{Name: "config", Usage: "Jetstream config TOML named <slug>.toml; default: the bundled sample's"},
			configRepoFlag,
			&cli.BoolFlag{Name: "config-only", Usage: "resolve the config alone, without the platform's default metrics (as Jetstream's own integration tests do)"},
			&cli.StringFlag{Name: "warehouse", Value: DefaultWarehouse, Usage: "warehouse URL: duckdb:PATH, or bigquery:PROJECT"},
			&cli.StringFlag{Name: "bigquery-endpoint",
				Usage: "BigQuery API endpoint, e.g. the emulator's http://127.0.0.1:9050, without credentials (default: BIGQUERY_EMULATOR_HOST, else Google's)"},
			&cli.StringFlag{Name: "dataset", Value: "mozanalysis", Usage: "dataset (schema) for enrollments tables"},
			&cli.StringFlag{Name: "events-table", Value: "mozdata.telemetry.events", Usage: "table with the enrollment and exposure events"},
			&cli.StringFlag{Name: "date", Usage: "analyse this single date (YYYY-MM-DD), as the daily run does"},
			&cli.StringFlag{Name: "from", Usage: "first analysis date (default: the experiment's start date)"},
			&cli.StringFlag{Name: "to", Usage: "last analysis date (default: its end date, or yesterday while it is live)"},
			&cli.StringSliceFlag{Name: "period", Usage: "only these analysis periods (day, week, days28, overall, preenrollment_week, preenrollment_days28)"},
			&cli.StringFlag{Name: "output", Value: "output", Usage: "folder for statistics tables and published JSON"},
			&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "base random seed; each cell derives its own seed from it and its identity"},
			&cli.StringFlag{Name: "sql-output-dir", Usage: "also write every generated query to this folder, named after its table"},
		},
		Action: func(c *cli.Context) error {
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
		ExperimentFile: c.String("experiment"),
		ConfigFile:     c.String("config"),
		ConfigRepos:    c.StringSlice("config-repo"),
		ConfigOnly:     c.Bool("config-only"),
		Warehouse:      c.String("warehouse"),
		Dataset:        c.String("dataset"),
		EventsTable:    c.String("events-table"),
		Output:         c.String("output"),
		Seed:           c.Uint64("seed"),
		SQLOutputDir:   c.String("sql-output-dir"),
		Now:            time.Now().UTC(),
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

// Run analyses one experiment: resolve, plan, prepare the warehouse, run the pipeline,
// publish, summarise. Nothing is published unless the whole pipeline succeeds.
func Run(ctx context.Context, o RunOptions, out io.Writer) error {
	a, exp, err := loadAnalysis(o)
	if err != nil {
		return err
	}
	from, to := o.From, o.To
	if from.IsZero() {
		from = a.StartDate
	}
	if to.IsZero() {
		to = a.EndDate
		if to.IsZero() || to.After(o.Now) {
			to = o.Now.Truncate(24*time.Hour).AddDate(0, 0, -1)
		}
	}
	dialect, err := warehouse.DialectOf(o.Warehouse)
	if err != nil {
		return err
	}
	if to.Before(from) {
		return fmt.Errorf("analysis dates: %s is after %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	periods := o.Periods
	if len(periods) == 0 {
		periods = configs.Periods
	}
	var decisions []pipeline.Decision
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		decisions = append(decisions, pipeline.Decide(a, exp, d, periods))
	}
	plan, err := pipeline.NewPlan(decisions, dialect, pipeline.Options{
		Warehouse: o.Warehouse, Dataset: o.Dataset, EventsTable: o.EventsTable, Seed: o.Seed,
	})
	if err != nil {
		return err
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(out, "skipping %s: %s\n", s.Slug, s.Reason)
	}
	if len(plan.Queries) == 0 {
		fmt.Fprintln(out, "nothing to analyse")
		return nil
	}
	if o.SQLOutputDir != "" {
		if err := writeSQL(o.SQLOutputDir, plan, dialect); err != nil {
			return err
		}
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return err
	}
	for _, ep := range plan.Experiments {
		if _, err := ep.Enrollments.Ensure(ctx, client, o.Dataset, o.Now); err != nil {
			return err
		}
	}
	if err := runAndPublish(ctx, plan, o.Output); err != nil {
		return err
	}
	return summarise(out, plan, o)
}

// loadAnalysis reads the experiment and its config and resolves them.
func loadAnalysis(o RunOptions) (*configs.Analysis, experimenter.Experiment, error) {
	expData, expName := samples.ExperimentJSON, "bundled sample experiment"
	if o.ExperimentFile != "" {
		data, err := os.ReadFile(o.ExperimentFile)
		if err != nil {
			return nil, experimenter.Experiment{}, fmt.Errorf("experiment: %w", err)
		}
		expData, expName = data, o.ExperimentFile
	}
	var spec *configs.Spec
	var err error
	if o.ConfigFile == "" {
		spec, err = configs.Parse(samples.ConfigName, samples.ConfigTOML)
	} else {
		spec, err = configs.LoadFile(o.ConfigFile)
	}
	if err != nil {
		return nil, experimenter.Experiment{}, err
	}
	collection, err := configs.MetricHubWith(o.ConfigRepos...)
	if err != nil {
		return nil, experimenter.Experiment{}, err
	}
	exps, err := experimenter.Parse(expData, o.Now)
	if err != nil {
		return nil, experimenter.Experiment{}, fmt.Errorf("%s: %w", expName, err)
	}
	slug := strings.TrimSuffix(filepath.Base(spec.File), ".toml")
	for _, e := range exps {
		if e.Slug == slug {
			if o.ConfigOnly {
				a, err := configs.Resolve(spec, e)
				return a, e, err
			}
			a, err := collection.Resolve(spec, e)
			return a, e, err
		}
	}
	return nil, experimenter.Experiment{}, fmt.Errorf("%s: no experiment with slug %q (the config file is named after the experiment's slug)", expName, slug)
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
