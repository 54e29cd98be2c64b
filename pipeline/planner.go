package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// Planner decides, date by date, what Jetstream's daily run (or a rerun of named
// experiments) does with each experiment. Configs are resolved once per experiment and
// only when the daily filters let the experiment through, as Jetstream does.
type Planner struct {
	Collection *configs.Collection // metric-hub: defaults, outcomes, definitions, experiment configs
	Periods    []configs.Period    // periods to consider; empty: all
	// ConfigOnly resolves each experiment's config file alone, without platform defaults
	// and outcomes (as Jetstream's own integration tests do); experiments without a config
	// file then fail.
	ConfigOnly bool
	resolved   map[string]resolution
}

type resolution struct {
	analysis *configs.Analysis
	err      error
}

// Day decides every experiment of exps on date d. With no slugs it is the daily run:
// Jetstream's executor filters first (SelectDaily), then each selected experiment's checks.
// With slugs only those experiments are decided, in the order given, without the daily
// filters (a rerun or backfill); a slug that is in no record is an error.
func (p *Planner) Day(exps []experimenter.Experiment, d time.Time, slugs []string) ([]Decision, error) {
	if len(slugs) == 0 {
		out := make([]Decision, 0, len(exps))
		for _, e := range exps {
			if r := SelectDaily(e, d); r != nil {
				out = append(out, Decision{Slug: e.NormandySlug, Date: d, Experiment: e}.refuse(r))
				continue
			}
			out = append(out, p.decide(e, d))
		}
		return out, nil
	}
	chosen, err := Find(exps, slugs)
	if err != nil {
		return nil, err
	}
	out := make([]Decision, 0, len(chosen))
	for _, e := range chosen {
		out = append(out, p.decide(e, d))
	}
	return out, nil
}

// Range decides the named experiments (or the daily selection, without slugs) on every date
// from first to last inclusive: what a backfill computes.
func (p *Planner) Range(exps []experimenter.Experiment, first, last time.Time, slugs []string) ([][]Decision, error) {
	if last.Before(first) {
		return nil, fmt.Errorf("dates: %s is after %s", dateString(first), dateString(last))
	}
	var out [][]Decision
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day, err := p.Day(exps, d, slugs)
		if err != nil {
			return nil, err
		}
		out = append(out, day)
	}
	return out, nil
}

// Resolve returns the experiment's resolved config, as the planner uses it (resolved once).
func (p *Planner) Resolve(e experimenter.Experiment) (*configs.Analysis, error) {
	r := p.resolve(e)
	return r.analysis, r.err
}

func (p *Planner) decide(e experimenter.Experiment, d time.Time) Decision {
	r := p.resolve(e)
	if r.err != nil {
		return Decision{Slug: e.NormandySlug, Date: d, Experiment: e, Outcome: Failed, Reason: ReasonConfig, Message: r.err.Error()}
	}
	periods := p.Periods
	if len(periods) == 0 {
		periods = configs.Periods
	}
	return Decide(r.analysis, e, d, periods)
}

func (p *Planner) resolve(e experimenter.Experiment) resolution {
	if p.resolved == nil {
		p.resolved = map[string]resolution{}
	}
	if r, ok := p.resolved[e.NormandySlug]; ok {
		return r
	}
	coll := p.Collection
	if coll == nil {
		coll = configs.MetricHub()
	}
	var a *configs.Analysis
	var err error
	if p.ConfigOnly {
		spec, ok := coll.Configs[e.NormandySlug]
		if !ok {
			spec, ok = coll.Configs[e.Slug]
		}
		if !ok {
			err = fmt.Errorf("no config file for the experiment (a config-only run analyses configured experiments only)")
		} else {
			a, err = configs.Resolve(spec, e)
		}
	} else {
		a, err = coll.Resolve(nil, e)
	}
	if err != nil {
		err = fmt.Errorf("experiment %q: config: %w", e.NormandySlug, err)
	}
	r := resolution{analysis: a, err: err}
	p.resolved[e.NormandySlug] = r
	return r
}

// Find returns the experiments named by slugs (Experimenter or Normandy slug), in the order
// of slugs. Slugs that match no experiment are an error naming them, with a suggestion.
func Find(exps []experimenter.Experiment, slugs []string) ([]experimenter.Experiment, error) {
	bySlug := map[string]experimenter.Experiment{}
	var known []string
	for _, e := range exps {
		bySlug[e.Slug] = e
		bySlug[e.NormandySlug] = e
		known = append(known, e.Slug)
	}
	var out []experimenter.Experiment
	var missing []string
	for _, s := range slugs {
		e, ok := bySlug[s]
		if !ok {
			msg := fmt.Sprintf("%q", s)
			if c := configs.Closest(s, known); c != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", c)
			}
			missing = append(missing, msg)
			continue
		}
		out = append(out, e)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no experiment with slug %s among the %d experiments read", strings.Join(missing, ", "), len(exps))
	}
	return out, nil
}
