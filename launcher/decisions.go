package launcher

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/samples"
)

// runDecisions decides what a run computes, in one of two modes:
//
//   - a config file (--config, or the bundled sample's by default): the experiment named by
//     the file, read from --experiment (or the bundled sample's record), over the dates given
//     or, without dates, its whole life up to yesterday;
//   - Experimenter (--experimenter-url, or --experiment FILE without --config): every
//     experiment of the records with its metric-hub config — the daily run of --date
//     (yesterday by default) with Jetstream's selection rules, or, with --experiment-slug,
//     those experiments over the dates given (a rerun or backfill).
//
// Records that cannot be parsed are reported on errOut and left out, as Jetstream does.
func runDecisions(ctx context.Context, o RunOptions, errOut io.Writer) ([]pipeline.Decision, *configs.Collection, error) {
	coll, err := configs.MetricHubWith(o.ConfigRepos...)
	if err != nil {
		return nil, nil, err
	}
	decisions, err := decideWith(ctx, coll, o, errOut)
	return decisions, coll, err
}

func decideWith(ctx context.Context, coll *configs.Collection, o RunOptions, errOut io.Writer) ([]pipeline.Decision, error) {
	planner := &pipeline.Planner{Collection: coll, Periods: o.Periods, ConfigOnly: o.ConfigOnly}
	if o.experimenterMode() {
		exps, rejected, err := loadExperiments(ctx, o.ExperimentFile, o.ExperimenterURL, o.Now)
		if err != nil {
			return nil, err
		}
		for _, r := range rejected {
			fmt.Fprintf(errOut, "warning: %v (record skipped)\n", r)
		}
		if o.WholeLife {
			return wholeLives(planner, exps, o)
		}
		from, to := o.From, o.To
		if from.IsZero() {
			from = yesterday(o.Now)
		}
		if to.IsZero() {
			to = from
		}
		return flatten(planner.Range(exps, from, to, o.Slugs))
	}

	spec, expData, expName, err := configSource(o)
	if err != nil {
		return nil, err
	}
	slug := strings.TrimSuffix(filepath.Base(spec.File), ".toml")
	coll.Configs[slug] = spec
	exps, err := experimenter.Parse(expData, o.Now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expName, err)
	}
	chosen, err := pipeline.Find(exps, []string{slug})
	if err != nil {
		return nil, fmt.Errorf("%s: no experiment with slug %q (the config file is named after the experiment's slug)", expName, slug)
	}
	exp := chosen[0]
	coll.Configs[exp.NormandySlug] = spec
	a, err := planner.Resolve(exp)
	if err != nil {
		return nil, err
	}
	from, to := lifetime(a, o.Now)
	if !o.From.IsZero() {
		from = o.From
	}
	if !o.To.IsZero() {
		to = o.To
	}
	if to.Before(from) {
		return nil, fmt.Errorf("analysis dates: %s is after %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return flatten(planner.Range([]experimenter.Experiment{exp}, from, to, []string{exp.Slug}))
}

// experimenterMode tells whether the run reads experiments from Experimenter (or a file of
// records) rather than analysing the experiment of one config file.
func (o RunOptions) experimenterMode() bool {
	return o.ExperimenterURL != "" || (o.ExperimentFile != "" && o.ConfigFile == "")
}

// configSource reads the config file (or the bundled sample's) and the experiment records.
func configSource(o RunOptions) (spec *configs.Spec, expData []byte, expName string, err error) {
	expData, expName = samples.ExperimentJSON, "bundled sample experiment"
	if o.ExperimentFile != "" {
		if expData, err = os.ReadFile(o.ExperimentFile); err != nil {
			return nil, nil, "", fmt.Errorf("experiment: %w", err)
		}
		expName = o.ExperimentFile
	}
	if o.ConfigFile == "" {
		spec, err = configs.Parse(samples.ConfigName, samples.ConfigTOML)
	} else {
		spec, err = configs.LoadFile(o.ConfigFile)
	}
	return spec, expData, expName, err
}

// wholeLives decides every date of each experiment of o.Slugs, from its start date to its
// end date, or to yesterday while it is live (a rerun).
func wholeLives(planner *pipeline.Planner, exps []experimenter.Experiment, o RunOptions) ([]pipeline.Decision, error) {
	chosen, err := pipeline.Find(exps, o.Slugs)
	if err != nil {
		return nil, err
	}
	var out []pipeline.Decision
	for _, exp := range chosen {
		a, err := planner.Resolve(exp)
		if err != nil {
			return nil, err
		}
		from, to := lifetime(a, o.Now)
		if to.Before(from) {
			continue // starts today or later: nothing to analyse yet
		}
		days, err := flatten(planner.Range([]experimenter.Experiment{exp}, from, to, []string{exp.Slug}))
		if err != nil {
			return nil, err
		}
		out = append(out, days...)
	}
	return out, nil
}

// lifetime is the range of analysis dates of an experiment: its start date to its end
// date, or to yesterday while it is live.
func lifetime(a *configs.Analysis, now time.Time) (from, to time.Time) {
	from, to = a.StartDate, a.EndDate
	if to.IsZero() || to.After(now) {
		to = yesterday(now)
	}
	return from, to
}

func flatten(days [][]pipeline.Decision, err error) ([]pipeline.Decision, error) {
	var out []pipeline.Decision
	for _, d := range days {
		out = append(out, d...)
	}
	return out, err
}

// yesterday is the date the daily run of now analyses.
func yesterday(now time.Time) time.Time { return now.Truncate(24*time.Hour).AddDate(0, 0, -1) }
