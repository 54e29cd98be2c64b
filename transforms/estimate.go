package transforms

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.DoFn4x1[string, statistics.Tally, func(string, statistics.Estimate), func(AnalysisError), error](&estimateFn{})
	register.Emitter2[string, statistics.Estimate]()
	register.Emitter1[AnalysisError]()
}

// Estimate computes every configured statistic of each (cell, branch) tally, once per
// branch: comparisons later pair these replicates, so no branch is bootstrapped twice.
// It returns estimates keyed by cell|statistic, and the errors of statistics that failed.
func Estimate(s beam.Scope, cfg Config, tallies beam.PCollection) (estimates, errors beam.PCollection) {
	s = s.Scope("Estimate")
	return beam.ParDo2(s, &estimateFn{Config: cfg}, tallies)
}

type estimateFn struct {
	Config Config
}

func (f *estimateFn) ProcessElement(key string, t statistics.Tally, emit func(string, statistics.Estimate), fail func(AnalysisError)) error {
	cell, branch, err := ParseBranchKey(key)
	if err != nil {
		return err
	}
	stats, err := f.Config.statistics(cell)
	if err != nil {
		return err
	}
	for _, sc := range stats {
		stat, err := newStatistic(sc)
		if err != nil {
			return fmt.Errorf("%s: %w", cell.Key(), err)
		}
		seed := statistics.Seed(f.Config.Seed, cell.Key(), branch, sc.Name)
		est, err := stat.Estimate(branch, t, seed)
		if err != nil {
			fail(newError(cell, sc.Name, err))
			continue
		}
		emit(cell.Key()+sep+sc.Name, est)
	}
	return nil
}

// countStatistic is the identity count every cell population gets.
var countStatistic = StatisticConfig{Name: "count"}

// statistics lists the statistics configured for the cell's metric.
func (c Config) statistics(cell Cell) ([]StatisticConfig, error) {
	if cell.Metric == Identity {
		return []StatisticConfig{countStatistic}, nil
	}
	exp, ok := c.experiment(cell.Experiment)
	if !ok {
		return nil, fmt.Errorf("cell %s: experiment not in the plan", cell.Key())
	}
	m, ok := exp.metric(cell.Metric)
	if !ok {
		return nil, fmt.Errorf("cell %s: metric not in the plan", cell.Key())
	}
	return m.Statistics, nil
}

func newStatistic(sc StatisticConfig) (statistics.Statistic, error) {
	params, err := DecodeParams(sc.Params)
	if err != nil {
		return nil, fmt.Errorf("statistic %q: %w", sc.Name, err)
	}
	return statistics.New(sc.Name, params)
}
