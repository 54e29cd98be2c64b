package transforms

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.Function2x2[string, statistics.Tally, string, BranchTally](byCell)
	register.Function2x2[string, statistics.PairTally, string, BranchTally](byPairCell)
	register.Function2x2[string, statistics.ModelTally, string, BranchTally](byModelCell)
	register.Function1x2[string, string, BranchTally](populationMarker)
	register.DoFn6x1[context.Context, string, func(*BranchTally) bool, func(string, statistics.Row), func(AnalysisError), func(ShardTask), error](&computeFn{})
	register.Iter1[BranchTally]()
	register.Emitter2[string, BranchTally]()
	register.Emitter2[string, statistics.Row]()
	register.Emitter1[AnalysisError]()
}

// BranchTally is one branch's tally, pair tally or model tally within a cell.
type BranchTally struct {
	Branch string
	Tally  statistics.Tally
	Pairs  statistics.PairTally
	Model  statistics.ModelTally
}

// ComputeCells gathers the branch tallies of each cell (a handful of compact tallies per
// key, never per-client data) and computes every statistic configured for the cell's
// metric over all its branches: per-branch rows and every ordered branch comparison, keyed
// by statistics table (statistics_<slug>_<period>_<window>). Each branch is estimated once,
// with a seed derived from (run seed, cell, branch, statistic). Statistics that fail for a
// branch become AnalysisErrors; the rest of the cell still produces rows.
//
// modelTallies may be a zero PCollection (no covariate-adjusted linear model reads model
// tallies). populations (cell keys, from ReadClients) name the identity cells that must
// have count rows even when no client is in them, as Jetstream publishes zero counts for
// an experiment without enrollments.
func ComputeCells(s beam.Scope, cfg Config, tallies, pairTallies, modelTallies beam.PCollection, populations ...beam.PCollection) (rows, errs beam.PCollection) {
	s = s.Scope("ComputeCells")
	cells := []beam.PCollection{beam.ParDo(s, byCell, tallies), beam.ParDo(s, byPairCell, pairTallies)}
	if modelTallies.IsValid() {
		cells = append(cells, beam.ParDo(s, byModelCell, modelTallies))
	}
	for _, p := range populations {
		cells = append(cells, beam.ParDo(s, populationMarker, p))
	}
	grouped := beam.GroupByKey(s, beam.Flatten(s, cells...))
	out := beam.ParDoN(s, &computeFn{Config: cfg}, grouped)
	shardRows, shardErrs := computeSharded(s, cfg, out[2])
	return beam.Flatten(s, out[0], shardRows), beam.Flatten(s, out[1], shardErrs)
}

// populationMarker is an empty BranchTally (Branch "") that makes a cell exist.
func populationMarker(key string) (string, BranchTally) { return key, BranchTally{} }

func byCell(key string, t statistics.Tally) (string, BranchTally) {
	cell, branch, err := ParseBranchKey(key)
	if err != nil {
		panic(err) // keys are built by Cell.BranchKey upstream
	}
	return cell.Key(), BranchTally{Branch: branch, Tally: t}
}

func byPairCell(key string, p statistics.PairTally) (string, BranchTally) {
	cell, branch, err := ParseBranchKey(key)
	if err != nil {
		panic(err) // keys are built by Cell.BranchKey upstream
	}
	return cell.Key(), BranchTally{Branch: branch, Pairs: p}
}

func byModelCell(key string, m statistics.ModelTally) (string, BranchTally) {
	cell, branch, err := ParseBranchKey(key)
	if err != nil {
		panic(err) // keys are built by Cell.BranchKey upstream
	}
	return cell.Key(), BranchTally{Branch: branch, Model: m}
}

type computeFn struct {
	Config Config
}

// ProcessElement times the cell's gathering as the combine stage and its statistics as the
// bootstrap stage. The shard tasks it hands out are left out: shardFn may run inside shard
// (fused into this stage) and times itself.
func (f *computeFn) ProcessElement(ctx context.Context, key string, next func(*BranchTally) bool, emit func(string, statistics.Row),
	fail func(AnalysisError), shard func(ShardTask)) error {
	start := time.Now()
	inputs := gatherInputs(next)
	addSince(ctx, stageCombine, start)
	start = time.Now()
	var handedOut time.Duration
	timedShard := func(t ShardTask) {
		s := time.Now()
		shard(t)
		handedOut += time.Since(s)
	}
	err := f.Config.computeCell(key, inputs, emit, fail, timedShard)
	stageBootstrap.Inc(ctx, int64(time.Since(start)-handedOut))
	return err
}

// computeCell computes every statistic configured for the cell key from its inputs (one per
// branch, in branch order): rows go to emit keyed by statistics table, statistics that fail
// for a branch to fail. With shard, a statistic with a big branch is handed out as shard
// tasks instead (see Config.ShardDraws); without, everything is computed in place.
func (c Config) computeCell(key string, inputs []statistics.Input, emit func(string, statistics.Row), fail func(AnalysisError), shard func(ShardTask)) error {
	cell, err := ParseCell(key)
	if err != nil {
		return err
	}
	exp, ok := c.experiment(cell.Experiment)
	if !ok {
		return fmt.Errorf("cell %s: experiment not in the plan", key)
	}
	stats, err := c.statistics(cell)
	if err != nil {
		return err
	}
	table := cell.StatisticsTable(exp.TableSlug)
	for _, sc := range stats {
		stat, err := newStatistic(sc, c)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		treated, err := preTreat(sc, stat, inputs, exp.windowDays(cell.Period, cell.Window))
		if err != nil {
			fail(newError(cell, sc.Name, err))
			continue
		}
		seed := func(branch string) uint64 { return statistics.Seed(c.Seed, key, branch, sc.Name) }
		if shard != nil && c.emitShards(key, sc.Name, stat, treated, seed, shard) {
			continue // computeSharded computes and assembles this statistic
		}
		rows, errs := statistics.Compute(stat, treated, seed)
		for _, e := range errs {
			fail(newError(cell, sc.Name, e))
		}
		if cell.Metric == Identity {
			rows = append(rows, missingBranchCounts(inputs, exp.Branches)...)
		}
		for _, r := range rows {
			r.Metric, r.Segment, r.AnalysisBasis = cell.Metric, cell.Segment, cell.Basis
			emit(table, r)
		}
	}
	return nil
}

// emitShards splits a statistic's bootstrap into shard tasks when one of its branches is
// big (Config.ShardDraws); every branch of the statistic then goes through the shards, so
// that its rows are assembled in one place. It reports whether it did.
func (c Config) emitShards(cell, name string, stat statistics.Statistic, inputs []statistics.Input, seed statistics.Seeder, shard func(ShardTask)) bool {
	big := false
	for _, in := range inputs {
		if _, ok := c.shards(stat, in); ok {
			big = true
		}
	}
	if !big {
		return false
	}
	for _, in := range inputs {
		cuts, ok := c.shards(stat, in)
		if !ok {
			cuts = []int{0, stat.(statistics.Sharded).Blocks()}
		}
		for i := 0; i+1 < len(cuts); i++ {
			shard(ShardTask{Cell: cell, Statistic: name, Branch: in.Branch, Tally: in.Tally, Seed: seed(in.Branch), First: cuts[i], Last: cuts[i+1]})
		}
	}
	return true
}

// gatherInputs merges the cell's elements per branch — a branch may have a tally and a
// pair or model tally (a covariate-adjusted metric) — in branch order, so that the result does not
// depend on the order the shuffle delivers them.
func gatherInputs(next func(*BranchTally) bool) []statistics.Input {
	byBranch := map[string]*statistics.Input{}
	var bt BranchTally
	for next(&bt) {
		if bt.Branch == "" {
			continue // a population marker: the cell exists, maybe with no client
		}
		in := byBranch[bt.Branch]
		if in == nil {
			in = &statistics.Input{Branch: bt.Branch}
			byBranch[bt.Branch] = in
		}
		in.Tally = statistics.MergeTallies(in.Tally, bt.Tally)
		in.Pairs = statistics.MergePairTallies(in.Pairs, bt.Pairs)
		if bt.Model.N() > 0 {
			in.Model = statistics.MergeModelTallies(in.Model, bt.Model)
		}
		bt = BranchTally{}
	}
	inputs := make([]statistics.Input, 0, len(byBranch))
	for _, b := range slices.Sorted(maps.Keys(byBranch)) {
		inputs = append(inputs, *byBranch[b])
	}
	return inputs
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

func newStatistic(sc StatisticConfig, c Config) (statistics.Statistic, error) {
	params, err := DecodeParams(sc.Params)
	if err != nil {
		return nil, fmt.Errorf("statistic %q: %w", sc.Name, err)
	}
	return statistics.NewWithOptions(sc.Name, params, statistics.Options{Workers: c.Workers, ExactBootstrap: c.ExactBootstrap})
}

// preTreat applies the statistic's pre-treatments to the cell's inputs. Model tallies are
// left out for statistics that do not read them (the pipeline reads the pairs of a linear
// model with pre-treatments as pairs, see PairColumns.Model; another statistic of the
// metric may have pre-treatments of its own).
func preTreat(sc StatisticConfig, stat statistics.Statistic, inputs []statistics.Input, periodLength int) ([]statistics.Input, error) {
	if len(sc.PreTreatments) == 0 {
		return inputs, nil
	}
	if _, ok := statistics.ModelTailFraction(stat, 0.5); !ok {
		inputs = slices.Clone(inputs)
		for i := range inputs {
			inputs[i].Model = statistics.ModelTally{}
		}
	}
	pts := make([]statistics.PreTreatment, 0, len(sc.PreTreatments))
	for _, pc := range sc.PreTreatments {
		params, err := DecodeParams(pc.Params)
		if err != nil {
			return nil, fmt.Errorf("pre-treatment %q: %w", pc.Name, err)
		}
		pt, err := statistics.NewPreTreatment(pc.Name, params)
		if err != nil {
			return nil, err
		}
		pts = append(pts, pt)
	}
	return statistics.ApplyPreTreatments(pts, inputs, statistics.PreTreatmentContext{PeriodLength: periodLength})
}

// missingBranchCounts gives Jetstream's point = 0 count rows for configured branches that
// have no clients in the cell.
func missingBranchCounts(inputs []statistics.Input, branches []string) []statistics.Row {
	var rows []statistics.Row
	for _, b := range branches {
		if !slices.ContainsFunc(inputs, func(in statistics.Input) bool { return in.Branch == b }) {
			nan := math.NaN()
			rows = append(rows, statistics.Row{Statistic: "count", Branch: b, CIWidth: nan, Point: 0, Lower: nan, Upper: nan})
		}
	}
	return rows
}
