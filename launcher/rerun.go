package launcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

func rerunCommand() *cli.Command {
	return &cli.Command{
		Name:      "rerun",
		Usage:     "delete experiments' results and analyse every date of their lives again",
		ArgsUsage: " ",
		Description: "Deletes the statistics and metrics tables (and, with --recreate-enrollments, the\n" +
			"enrollments table) of each experiment, then analyses every date from its start to its\n" +
			"end, or to yesterday while it is live — Jetstream's rerun. With --statistics-only the\n" +
			"metrics tables are kept and the statistics computed from them again.\n\n" +
			"Examples:\n" +
			"  jetstream rerun --experimenter-url https://experimenter.services.mozilla.com \\\n" +
			"      --experiment-slug my-experiment --warehouse bigquery:moz-fx-data-experiments\n" +
			"  jetstream rerun --config my-experiment.toml --experiment my-experiment.json\n\n" +
			exitStatusHelp,
		Flags: analysisFlags(),
		Action: func(c *cli.Context) error {
			o, err := commandOptions(c)
			if err != nil {
				return err
			}
			if len(o.Slugs) == 0 && o.experimenterMode() {
				return usageError{errors.New("rerun: --experiment-slug is required (declining to rerun every experiment for all time)")}
			}
			o.WholeLife, o.Rerun = true, true
			return Run(c.Context, o, c.App.Writer)
		},
	}
}

func backfillCommand() *cli.Command {
	return &cli.Command{
		Name:  "backfill",
		Usage: "analyse one experiment over a range of dates",
		Description: "Analyses each date from --start-date to --end-date (inclusive) as the daily run would\n" +
			"have, overwriting those dates' results.\n\n" +
			"Example:\n" +
			"  jetstream backfill --experimenter-url https://experimenter.services.mozilla.com \\\n" +
			"      --experiment-slug my-experiment --start-date 2026-11-01 --end-date 2026-11-30\n\n" +
			exitStatusHelp,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "start-date", Required: true, Usage: "first date to analyse, YYYY-MM-DD"},
			&cli.StringFlag{Name: "end-date", Required: true, Usage: "last date to analyse, YYYY-MM-DD (at most yesterday)"},
		}, analysisFlags()...),
		Action: func(c *cli.Context) error {
			o, err := commandOptions(c)
			if err != nil {
				return err
			}
			if o.From, err = parseDate("--start-date", c.String("start-date")); err != nil {
				return usageError{err}
			}
			if o.To, err = parseDate("--end-date", c.String("end-date")); err != nil {
				return usageError{err}
			}
			if o.To.Before(o.From) {
				return usageError{fmt.Errorf("--end-date %s is before --start-date %s", c.String("end-date"), c.String("start-date"))}
			}
			if y := yesterday(o.Now); o.To.After(y) {
				return usageError{fmt.Errorf("--end-date %s: the last date with complete data is yesterday, %s", c.String("end-date"), y.Format(time.DateOnly))}
			}
			if len(o.Slugs) == 0 && o.experimenterMode() {
				return usageError{errors.New("backfill: --experiment-slug is required")}
			}
			return Run(c.Context, o, c.App.Writer)
		},
	}
}

func rerunConfigChangedCommand() *cli.Command {
	return &cli.Command{
		Name:  "rerun-config-changed",
		Usage: "rerun the experiments whose resolved config changed since they were last analysed",
		Description: "An experiment's first analysis, and each rerun, records the hash of its resolved config\n" +
			"(its own TOML merged with the platform defaults, outcomes and definitions) in the table\n" +
			"<dataset>.config_<slug>; the daily run and backfills keep the record, as the experiment's\n" +
			"other results are still the recorded config's. This command resolves every experiment\n" +
			"that has such a record again and reruns (as `jetstream rerun`) those whose hash differs.\n" +
			"The daily DAG runs it after the daily run.\n\n" +
			"Example:\n" +
			"  jetstream rerun-config-changed --experimenter-url https://experimenter.services.mozilla.com \\\n" +
			"      --warehouse bigquery:moz-fx-data-experiments --bucket gs://mozanalysis\n\n" +
			exitStatusHelp,
		Flags: analysisFlags(),
		Action: func(c *cli.Context) error {
			o, err := commandOptions(c)
			if err != nil {
				return err
			}
			if !o.experimenterMode() {
				return usageError{errors.New("rerun-config-changed needs the experiments: --experimenter-url or --experiment FILE (without --config)")}
			}
			return RerunConfigChanged(c.Context, o, c.App.Writer)
		},
	}
}

// RerunConfigChanged reruns the experiments (of o's Experimenter or file, restricted to
// o.Slugs when given) whose resolved config hash differs from the one recorded at their
// last analysis. Experiments never analysed are left to the daily run.
func RerunConfigChanged(ctx context.Context, o RunOptions, out io.Writer) error {
	coll, err := configs.MetricHubWith(o.ConfigRepos...)
	if err != nil {
		return err
	}
	exps, _, err := loadExperiments(ctx, o.ExperimentFile, o.ExperimenterURL, o.Now)
	if err != nil {
		return err
	}
	if len(o.Slugs) > 0 {
		if exps, err = pipeline.Find(exps, o.Slugs); err != nil {
			return err
		}
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return err
	}
	planner := &pipeline.Planner{Collection: coll, Periods: o.Periods, ConfigOnly: o.ConfigOnly}
	var changed []string
	for _, exp := range exps {
		rec, ok, err := recordedConfig(ctx, client, o.Dataset, exp.Slug)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		a, err := planner.Resolve(exp)
		if err != nil {
			fmt.Fprintf(out, "%s: not rerun, its config does not resolve: %v\n", exp.Slug, err)
			continue
		}
		hash, err := configHash(a)
		if err != nil {
			return err
		}
		if hash != rec.Hash {
			fmt.Fprintf(out, "%s: config changed since its analysis of %s (%s → %s): rerunning\n", exp.Slug, rec.At.Format(time.RFC3339), rec.Hash, hash)
			changed = append(changed, exp.Slug)
		}
	}
	if len(changed) == 0 {
		fmt.Fprintln(out, "no experiment's config changed since its last analysis")
		return nil
	}
	o.Slugs, o.WholeLife, o.Rerun = changed, true, true
	return Run(ctx, o, out)
}

// configRecord is what an analysis records of the config it used.
type configRecord struct {
	Hash string
	At   time.Time
}

// configTable is the table holding the config record of an experiment.
func configTable(slug string) string { return "config_" + warehouse.NormalizeName(slug) }

// configHash is a short hash of the experiment's resolved config, without what changes
// with the experiment's life rather than its config (its end date and status).
func configHash(a *configs.Analysis) (string, error) {
	r := a.Report()
	r.Experiment.EndDate, r.Experiment.Status = nil, ""
	data, err := r.JSON()
	if err != nil {
		return "", fmt.Errorf("experiment %q: config hash: %w", a.Slug, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
}

// recordConfigs records, for every analysed experiment, the hash of the config it was
// analysed with and when — on its first analysis, and on a rerun (rerun true), which
// replaces all its results. Another run (the daily run, a backfill) keeps the record: its
// results of other dates are still those of the recorded config, so that a config changed
// since is still seen as changed by rerun-config-changed, though this run used it.
func recordConfigs(ctx context.Context, client warehouse.Client, dataset string, plan *pipeline.Plan, now time.Time, rerun bool) error {
	for _, ep := range plan.Experiments {
		if !rerun {
			_, recorded, err := recordedConfig(ctx, client, dataset, ep.Analysis.Slug)
			if err != nil {
				return err
			}
			if recorded {
				continue
			}
		}
		hash, err := configHash(ep.Analysis)
		if err != nil {
			return err
		}
		sql := fmt.Sprintf("SELECT '%s' AS config_hash, '%s' AS analysed_at", hash, now.UTC().Format(time.RFC3339))
		err = warehouse.WriteTable(ctx, client, dataset, configTable(ep.Analysis.Slug), sql, warehouse.WriteTruncate,
			warehouse.TableInfo{Description: ep.Analysis.Slug, LastUpdated: now})
		if err != nil {
			return fmt.Errorf("experiment %q: recording its config: %w", ep.Analysis.Slug, err)
		}
	}
	return nil
}

// recordedConfig reads the config record of an experiment; ok is false when it has none.
func recordedConfig(ctx context.Context, client warehouse.Client, dataset, slug string) (rec configRecord, ok bool, err error) {
	table := configTable(slug)
	if exists, err := client.TableExists(ctx, dataset, table); err != nil || !exists {
		return rec, false, err
	}
	err = client.Query(ctx, "SELECT config_hash, analysed_at FROM "+client.Dialect().Table(dataset, table), func(_ []string, v []any) error {
		rec.Hash, _ = v[0].(string)
		at, _ := v[1].(string)
		rec.At, _ = time.Parse(time.RFC3339, at)
		ok = rec.Hash != ""
		return nil
	})
	if err != nil {
		return rec, false, fmt.Errorf("experiment %q: reading %s.%s: %w", slug, dataset, table, err)
	}
	return rec, ok, nil
}

// periodNames are the analysis periods as table names spell them, longest first so that a
// pattern prefers preenrollment_week over week.
const periodNames = `preenrollment_days28|preenrollment_week|days28|overall|week|day`

// resultTables matches the tables and views of an experiment's results (table slug s):
// its metrics tables s_<basis>_<data source>_<period>_<n>, its statistics tables
// statistics_s_<period>_<n> and their views statistics_s_<suffix>.
func resultTables(tableSlug string) *regexp.Regexp {
	s := regexp.QuoteMeta(tableSlug)
	return regexp.MustCompile(`^(` + s + `_(enrollments|exposures)_.+_(` + periodNames + `)_[0-9]+` +
		`|statistics_` + s + `_(` + periodNames + `)_[0-9]+` +
		`|statistics_` + s + `_(daily|weekly|days28|overall|preenrollment_weekly|preenrollment_days28))$`)
}

// deleteResults deletes, before a rerun, the results of every experiment of the plan: its
// tables and views in the warehouse and its statistics tables in the output folder, so
// that no window from an earlier config survives. Enrollments tables are left to
// --recreate-enrollments, and with --statistics-only the metrics tables, which the rerun
// computes the statistics from, are kept.
func deleteResults(ctx context.Context, client warehouse.Client, plan *pipeline.Plan, o RunOptions, log *slog.Logger) error {
	tables, err := client.ListTables(ctx, o.Dataset)
	if err != nil {
		return err
	}
	for _, ep := range plan.Experiments {
		pattern := resultTables(ep.TableSlug)
		deleted := 0
		for _, t := range tables {
			m := pattern.FindStringSubmatch(t)
			if m == nil || (o.StatisticsOnly && m[2] != "") { // m[2]: the basis of a metrics table
				continue
			}
			if err := client.DropTable(ctx, o.Dataset, t); err != nil {
				return fmt.Errorf("rerun of %s: %w", ep.Analysis.Slug, err)
			}
			deleted++
		}
		files, err := os.ReadDir(filepath.Join(o.Output, tablesDir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, f := range files {
			if name, ok := strings.CutSuffix(f.Name(), ".ndjson"); ok && pattern.MatchString(name) {
				if err := os.Remove(filepath.Join(o.Output, tablesDir, f.Name())); err != nil {
					return fmt.Errorf("rerun of %s: %w", ep.Analysis.Slug, err)
				}
				deleted++
			}
		}
		log.Info("deleted results", "experiment", ep.Analysis.Slug, "tables", deleted)
	}
	return nil
}
