package transforms

import (
	"maps"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.Combiner3[statistics.Tally, float64, statistics.Tally](&tallyFn{})
	register.Combiner3[statistics.PairTally, Pair, statistics.PairTally](&pairTallyFn{})
	register.Combiner1[statistics.Tally](&mergeTallyFn{})
	register.Combiner1[statistics.PairTally](&mergePairTallyFn{})
	register.Combiner1[statistics.ModelTally](&mergeModelTallyFn{})
}

// MergeTallies combines the partial tallies of each (cell, branch) key (ReadClients emits
// one per query and key) into one, lifted.
func MergeTallies(s beam.Scope, partials beam.PCollection) beam.PCollection {
	s = s.Scope("MergeTallies")
	return beam.CombinePerKey(s, &mergeTallyFn{}, partials)
}

type mergeTallyFn struct{}

func (mergeTallyFn) MergeAccumulators(a, b statistics.Tally) statistics.Tally {
	t := statistics.MergeTallies(a, b)
	t.Compact()
	return t
}

// MergePairTallies is MergeTallies for the pair tallies of two-column statistics.
func MergePairTallies(s beam.Scope, partials beam.PCollection) beam.PCollection {
	s = s.Scope("MergePairTallies")
	return beam.CombinePerKey(s, &mergePairTallyFn{}, partials)
}

type mergePairTallyFn struct{}

func (mergePairTallyFn) MergeAccumulators(a, b statistics.PairTally) statistics.PairTally {
	t := statistics.MergePairTallies(a, b)
	t.Compact()
	return t
}

// MergeModelTallies is MergeTallies for the model tallies of covariate-adjusted linear
// models.
func MergeModelTallies(s beam.Scope, partials beam.PCollection) beam.PCollection {
	s = s.Scope("MergeModelTallies")
	return beam.CombinePerKey(s, &mergeModelTallyFn{}, partials)
}

type mergeModelTallyFn struct{}

func (mergeModelTallyFn) MergeAccumulators(a, b statistics.ModelTally) statistics.ModelTally {
	t := statistics.MergeModelTallies(a, b)
	t.Compact()
	return t
}

// TallyPerBranch combines the values of each (cell, branch) key into a value→count tally,
// a lifted combine: per-client values never cross the shuffle, only partial tallies do.
func TallyPerBranch(s beam.Scope, values beam.PCollection) beam.PCollection {
	s = s.Scope("TallyPerBranch")
	return beam.CombinePerKey(s, &tallyFn{}, values)
}

type tallyFn struct{}

func (tallyFn) CreateAccumulator() statistics.Tally { return statistics.Tally{} }

func (tallyFn) AddInput(t statistics.Tally, v float64) statistics.Tally {
	t.Add(v)
	return t
}

func (tallyFn) MergeAccumulators(a, b statistics.Tally) statistics.Tally {
	return statistics.MergeTallies(a, b)
}

func (tallyFn) Compact(t statistics.Tally) statistics.Tally {
	t.Compact()
	return t
}

func (tallyFn) ExtractOutput(t statistics.Tally) statistics.Tally {
	t.Compact()
	return t
}

// Pair is one client's two values of a two-column statistic.
type Pair struct{ X, Y float64 }

// PairTallyPerBranch combines the pairs of each (cell, branch) key into a pair→count tally,
// lifted like TallyPerBranch.
func PairTallyPerBranch(s beam.Scope, pairs beam.PCollection) beam.PCollection {
	s = s.Scope("PairTallyPerBranch")
	return beam.CombinePerKey(s, &pairTallyFn{}, pairs)
}

type pairTallyFn struct{}

func (pairTallyFn) CreateAccumulator() statistics.PairTally { return statistics.PairTally{} }

func (pairTallyFn) AddInput(t statistics.PairTally, p Pair) statistics.PairTally {
	t.Add(p.X, p.Y)
	return t
}

func (pairTallyFn) MergeAccumulators(a, b statistics.PairTally) statistics.PairTally {
	return statistics.MergePairTallies(a, b)
}

func (pairTallyFn) Compact(t statistics.PairTally) statistics.PairTally {
	t.Compact()
	return t
}

func (pairTallyFn) ExtractOutput(t statistics.PairTally) statistics.PairTally {
	t.Compact()
	return t
}

// Tallies are a reader's partial tallies per (cell, branch) key: how ReadClients tallies a
// query's rows before anything leaves the DoFn.
type Tallies map[string]*statistics.Tally

// Add counts the value v under key.
func (ts Tallies) Add(key string, v float64) { ts.At(key).Add(v) }

// At returns the tally of key, created empty if absent.
func (ts Tallies) At(key string) *statistics.Tally {
	t := ts[key]
	if t == nil {
		t = &statistics.Tally{}
		ts[key] = t
	}
	return t
}

// Prune compacts every tally and drops the empty ones (At creates a branch's tallies on
// its first row; some never get a value).
func (ts Tallies) Prune() {
	for key, t := range ts {
		if t.Compact(); len(t.Values) == 0 {
			delete(ts, key)
		}
	}
}

// Emit prunes the tallies and hands each to emit, in key order.
func (ts Tallies) Emit(emit func(string, statistics.Tally)) {
	ts.Prune()
	for _, key := range slices.Sorted(maps.Keys(ts)) {
		t := ts[key]
		emit(key, *t)
	}
}

// PairTallies are a reader's partial pair tallies per (cell, branch) key, as Tallies.
type PairTallies map[string]*statistics.PairTally

// Add counts the pair (x, y) under key.
func (ts PairTallies) Add(key string, x, y float64) { ts.At(key).Add(x, y) }

// At returns the pair tally of key, created empty if absent.
func (ts PairTallies) At(key string) *statistics.PairTally {
	t := ts[key]
	if t == nil {
		t = &statistics.PairTally{}
		ts[key] = t
	}
	return t
}

// Prune compacts every pair tally and drops the empty ones, as Tallies.Prune.
func (ts PairTallies) Prune() {
	for key, t := range ts {
		if t.Compact(); len(t.Counts) == 0 {
			delete(ts, key)
		}
	}
}

// Emit prunes the pair tallies and hands each to emit, in key order.
func (ts PairTallies) Emit(emit func(string, statistics.PairTally)) {
	ts.Prune()
	for _, key := range slices.Sorted(maps.Keys(ts)) {
		t := ts[key]
		emit(key, *t)
	}
}

// ModelTallies are a reader's partial model tallies per (cell, branch) key, as Tallies.
type ModelTallies map[string]*statistics.ModelTally

// At returns the model tally of key, created empty (with the tail fraction) if absent.
func (ts ModelTallies) At(key string, tailFraction float64) *statistics.ModelTally {
	t := ts[key]
	if t == nil {
		m := statistics.NewModelTally(tailFraction)
		t = &m
		ts[key] = t
	}
	return t
}

// Prune compacts every model tally and drops the empty ones, as Tallies.Prune.
func (ts ModelTallies) Prune() {
	for key, t := range ts {
		if t.Compact(); t.N() == 0 {
			delete(ts, key)
		}
	}
}

// Emit prunes the model tallies and hands each to emit, in key order.
func (ts ModelTallies) Emit(emit func(string, statistics.ModelTally)) {
	ts.Prune()
	for _, key := range slices.Sorted(maps.Keys(ts)) {
		emit(key, *ts[key])
	}
}
