package transforms

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.DoFn3x1[string, func(*statistics.Estimate) bool, func(string, statistics.Row), error](&rowsFn{})
	register.Iter1[statistics.Estimate]()
	register.Emitter2[string, statistics.Row]()
}

// CompareBranches gathers the per-branch estimates of each cell and statistic (a handful of
// small elements per key) and turns them into statistic rows: individual rows for every
// branch and comparisons for every ordered pair of branches. Rows are keyed by their
// statistics table, statistics_<slug>_<period>_<window>.
func CompareBranches(s beam.Scope, cfg Config, estimates beam.PCollection) beam.PCollection {
	s = s.Scope("CompareBranches")
	grouped := beam.GroupByKey(s, estimates)
	return beam.ParDo(s, &rowsFn{Config: cfg}, grouped)
}

type rowsFn struct {
	Config Config
}

func (f *rowsFn) ProcessElement(key string, next func(*statistics.Estimate) bool, emit func(string, statistics.Row)) error {
	i := strings.LastIndex(key, sep)
	cell, err := ParseCell(key[:i])
	if err != nil {
		return err
	}
	name := key[i+1:]
	exp, ok := f.Config.experiment(cell.Experiment)
	if !ok {
		return fmt.Errorf("cell %s: experiment not in the plan", cell.Key())
	}
	var ests []statistics.Estimate
	var e statistics.Estimate
	for next(&e) {
		ests = append(ests, e)
	}
	sortByBranch(ests, exp.Branches)
	sc := StatisticConfig{Name: name}
	if cell.Metric != Identity {
		stats, err := f.Config.statistics(cell)
		if err != nil {
			return err
		}
		for _, c := range stats {
			if c.Name == name {
				sc = c
			}
		}
	}
	stat, err := newStatistic(sc)
	if err != nil {
		return fmt.Errorf("%s: %w", cell.Key(), err)
	}
	rows := stat.Rows(ests)
	if cell.Metric == Identity {
		rows = append(rows, missingBranchCounts(ests, exp.Branches)...)
	}
	table := cell.StatisticsTable(exp.TableSlug)
	for _, r := range rows {
		r.Metric, r.Segment, r.AnalysisBasis = cell.Metric, cell.Segment, cell.Basis
		emit(table, r)
	}
	return nil
}

// missingBranchCounts gives Jetstream's point = 0 count rows for configured branches that
// have no clients in the cell.
func missingBranchCounts(ests []statistics.Estimate, branches []string) []statistics.Row {
	present := map[string]bool{}
	for _, e := range ests {
		present[e.Branch] = true
	}
	var rows []statistics.Row
	for _, b := range branches {
		if !present[b] {
			nan := math.NaN()
			rows = append(rows, statistics.Row{Statistic: "count", Branch: b, CIWidth: nan, Point: 0, Lower: nan, Upper: nan})
		}
	}
	return rows
}

// sortByBranch orders estimates as the experiment lists its branches, unknown ones last by name.
func sortByBranch(ests []statistics.Estimate, branches []string) {
	rank := map[string]int{}
	for i, b := range branches {
		rank[b] = i + 1
	}
	sort.Slice(ests, func(i, j int) bool {
		ri, rj := rank[ests[i].Branch], rank[ests[j].Branch]
		if ri == 0 {
			ri = len(branches) + 1
		}
		if rj == 0 {
			rj = len(branches) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return ests[i].Branch < ests[j].Branch
	})
}
