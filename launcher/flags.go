package launcher

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// DefaultMinClients is the smallest group (branch × segment × basis × window) whose
// statistics are published.
const DefaultMinClients = 10

// analysisFlags are the flags of every command that analyses experiments (run, rerun,
// backfill, rerun-config-changed, ensure-enrollments): where experiments, configs and data
// come from, where results go, and how the run behaves. They are new flags each time
// (urfave/cli keeps a value read from the environment in the flag itself).
func analysisFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "experiment", Usage: "Experimenter v8 JSON file (one record or a list); default: the bundled sample. Without --config: analyse its experiments with their metric-hub configs"},
		&cli.StringFlag{Name: "experimenter-url", Usage: "analyse the experiments of this Experimenter (e.g. " + experimenter.DefaultBaseURL + ") with their metric-hub configs"},
		&cli.StringSliceFlag{Name: "experiment-slug", Usage: "only this experiment, without the daily selection (repeatable)"},
		&cli.StringFlag{Name: "config", Usage: "Jetstream config TOML named <slug>.toml; default: the bundled sample's"},
		configRepoFlag(),
		&cli.BoolFlag{Name: "config-only", Usage: "resolve the config alone, without the platform's default metrics (as Jetstream's own integration tests do)"},
		&cli.StringFlag{Name: "warehouse", Value: DefaultWarehouse, Usage: "warehouse URL: duckdb:PATH, or bigquery:PROJECT"},
		&cli.StringFlag{Name: "bigquery-endpoint",
			Usage: "BigQuery API endpoint, e.g. the emulator's http://127.0.0.1:9050, without credentials (default: BIGQUERY_EMULATOR_HOST, else Google's)"},
		&cli.StringFlag{Name: "dataset-id", Aliases: []string{"dataset"}, Value: "mozanalysis", Usage: "dataset (schema) of the enrollments, metrics and statistics tables"},
		&cli.BoolFlag{Name: "recreate-enrollments", Usage: "recompute the enrollments tables (needed after segments or the enrollment source change: they are computed once)"},
		&cli.StringFlag{Name: "events-table", Value: "mozdata.telemetry.events", Usage: "table with the enrollment and exposure events"},
		&cli.StringSliceFlag{Name: "analysis-periods", Aliases: []string{"period"}, Usage: "only these analysis periods (day, week, days28, overall, preenrollment_week, preenrollment_days28; repeatable or comma-separated)"},
		&cli.StringFlag{Name: "output", Value: "out", Usage: "folder for statistics tables, logs and (without --bucket) published JSON"},
		&cli.IntFlag{Name: "read-parts", Value: 0, Usage: "read each metrics table in this many parts, by different workers (results do not depend on it); 0: one per CPU of this machine"},
		&cli.StringFlag{Name: "results-staging", Usage: "where the pipeline writes its tables before they are published: gs://BUCKET/PREFIX, needed on Dataflow (default: a temporary folder in --output)"},
		&cli.StringFlag{Name: "bucket", Usage: "where the JSON documents are published: gs://BUCKET[/PREFIX], a folder, or none (default: the --output folder)"},
		&cli.Uint64Flag{Name: "seed", Value: 0, Usage: "base random seed; each cell derives its own seed from it and its identity"},
		&cli.BoolFlag{Name: "exact-bootstrap", Usage: "bootstrap_mean draws a weight for every distinct value in every replicate, instead of drawing runs of close values as one bin (exact first two moments, at most 1e-4 of the variance approximated: see README, Statistical validity); slower on continuous metrics"},
		&cli.StringFlag{Name: "sql-output-dir", Usage: "also write every generated query to this folder, named after its table"},
		&cli.BoolFlag{Name: "statistics-only", Aliases: []string{"stats-only"}, Usage: "recompute the statistics from the metrics tables an earlier run wrote, without running the metric queries"},
		&cli.IntFlag{Name: "min-clients", Value: DefaultMinClients, Usage: "publish no statistic of a branch, segment and window with fewer clients than this (listed in suppressions/suppressions_<slug>.json instead); 0 publishes all"},
		&cli.BoolFlag{Name: "log-to-bigquery", Usage: "also append the run's log rows to the monitoring.logs table of the BigQuery warehouse"},
		&cli.IntFlag{Name: "parallelism", Usage: "analyse at most this many experiments per pipeline, in successive pipelines (0: all in one)"},
		&cli.IntFlag{Name: "retries", Usage: "retry a failed pipeline this many times, waiting 30 s, 60 s, … between attempts (the daily DAG passes 2)"},
		&cli.BoolFlag{Name: "publish-only", Usage: "publish what a Dataflow job started from the Flex Template wrote to --results-staging, without running a pipeline (the template's program only submits the job: run this, with the same flags, after the job ends)"},
		&cli.DurationFlag{Name: "timeout", Usage: "give up after this long (e.g. 6h): the pipeline is cancelled, nothing more is published, and the run fails (0: no limit)"},
	}
	return append(flags, newRunnerFlags()...)
}

// dateRangeFlags are run's dates.
func dateRangeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "date", Usage: "analyse this single date (YYYY-MM-DD), as the daily run does"},
		&cli.StringFlag{Name: "from", Usage: "first analysis date (default: the experiment's start date)"},
		&cli.StringFlag{Name: "to", Usage: "last analysis date (default: its end date, or yesterday while it is live)"},
	}
}

// runOptionsFrom reads the analysis flags (and the date flags, when the command has them).
func runOptionsFrom(c *cli.Context) (RunOptions, error) {
	o := RunOptions{
		ExperimentFile:      c.String("experiment"),
		ConfigFile:          c.String("config"),
		ExperimenterURL:     c.String("experimenter-url"),
		Slugs:               c.StringSlice("experiment-slug"),
		ConfigRepos:         c.StringSlice("config-repo"),
		ConfigOnly:          c.Bool("config-only"),
		Warehouse:           c.String("warehouse"),
		Dataset:             c.String("dataset-id"),
		EventsTable:         c.String("events-table"),
		Output:              c.String("output"),
		Bucket:              c.String("bucket"),
		ReadParts:           readParts(c.Int("read-parts")),
		ResultsStaging:      c.String("results-staging"),
		RecreateEnrollments: c.Bool("recreate-enrollments"),
		Seed:                c.Uint64("seed"),
		ExactBootstrap:      c.Bool("exact-bootstrap"),
		SQLOutputDir:        c.String("sql-output-dir"),
		StatisticsOnly:      c.Bool("statistics-only"),
		MinClients:          c.Int("min-clients"),
		LogToBigQuery:       c.Bool("log-to-bigquery"),
		Parallelism:         c.Int("parallelism"),
		Retries:             c.Int("retries"),
		RetryDelay:          30 * time.Second,
		Timeout:             c.Duration("timeout"),
		DryRun:              c.Bool("dry-run"),
		PublishOnly:         c.Bool("publish-only"),
		Now:                 time.Now().UTC(),
	}
	for _, check := range []struct {
		flag string
		v    int
	}{{"read-parts", o.ReadParts}, {"min-clients", o.MinClients}, {"parallelism", o.Parallelism}, {"retries", o.Retries}} {
		if check.v < 0 {
			return o, fmt.Errorf("--%s: want a number ≥ 0, got %d", check.flag, check.v)
		}
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("--timeout: want a duration ≥ 0, got %s", o.Timeout)
	}
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
	if o.PublishOnly && !strings.HasPrefix(o.ResultsStaging, "gs://") && o.ResultsStaging == "" {
		return o, errors.New("--publish-only needs --results-staging, where the job wrote the tables")
	}
	if o.LogToBigQuery && !strings.HasPrefix(o.Warehouse, "bigquery:") {
		return o, fmt.Errorf("--log-to-bigquery needs --warehouse bigquery:PROJECT, got %q", o.Warehouse)
	}
	if err := readDates(c, &o); err != nil {
		return o, err
	}
	for _, list := range c.StringSlice("analysis-periods") {
		for _, p := range strings.Split(list, ",") {
			period, err := configs.ParsePeriod(strings.TrimSpace(p))
			if err != nil {
				return o, fmt.Errorf("--analysis-periods: %w", err)
			}
			o.Periods = append(o.Periods, period)
		}
	}
	if o.Output == "" {
		return o, fmt.Errorf("--output must not be empty")
	}
	return o, nil
}

// readDates reads --date or --from/--to, for the commands that have them.
func readDates(c *cli.Context, o *RunOptions) error {
	var err error
	if d := c.String("date"); d != "" {
		if c.IsSet("from") || c.IsSet("to") {
			return fmt.Errorf("--date cannot be combined with --from or --to")
		}
		if o.From, err = parseDate("--date", d); err != nil {
			return err
		}
		o.To = o.From
	}
	if d := c.String("from"); d != "" {
		if o.From, err = parseDate("--from", d); err != nil {
			return err
		}
	}
	if d := c.String("to"); d != "" {
		if o.To, err = parseDate("--to", d); err != nil {
			return err
		}
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return fmt.Errorf("--to %s is before --from %s", o.To.Format(time.DateOnly), o.From.Format(time.DateOnly))
	}
	return nil
}

func parseDate(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, fmt.Errorf("%s: want a date as YYYY-MM-DD, got %q", flag, s)
	}
	return t, nil
}

// withEnvironment gives every flag of the commands (and their subcommands) that has none
// the environment variable JETSTREAM_<NAME>, e.g. JETSTREAM_DATASET_ID for --dataset-id,
// so that a deployment can configure jetstream without a command line.
func withEnvironment(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			setEnvVar(f, envVars(f.Names()[0])[0])
		}
		withEnvironment(cmd.Subcommands)
	}
	return cmds
}

// envVars is the environment variable of the flag --name: JETSTREAM_<NAME>, e.g.
// JETSTREAM_DATASET_ID for --dataset-id. Commands built outside App (tests, the flags
// urfave/cli parses on its own) name it with this too.
func envVars(name string) []string {
	return []string{"JETSTREAM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// setEnvVar sets the flag's EnvVars (a field every urfave/cli flag type has) unless the
// flag names its own.
func setEnvVar(f cli.Flag, name string) {
	v := reflect.ValueOf(f)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	field := v.FieldByName("EnvVars")
	if !field.IsValid() || !field.CanSet() {
		panic(fmt.Sprintf("flag --%s: %T has no EnvVars", f.Names()[0], f))
	}
	if field.Len() == 0 {
		field.Set(reflect.ValueOf([]string{name}))
	}
}

// readParts resolves --read-parts: 0 is one part per CPU, so that a local run reads each
// metrics table on every core (at 1M clients a table took 16 s to read in one part).
func readParts(n int) int {
	if n == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}
