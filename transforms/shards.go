package transforms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.DoFn3x1[context.Context, ShardTask, func(string, ShardResult), error](&shardFn{})
	register.DoFn5x1[context.Context, string, func(*ShardResult) bool, func(string, statistics.Row), func(AnalysisError), error](&assembleFn{})
	register.Emitter1[ShardTask]()
	register.Emitter2[string, ShardResult]()
	register.Iter1[ShardResult]()
}

// DefaultShardDraws is the bootstrap work (distinct values × replicates) above which a
// branch's replicates are spread over shards, and the work of one shard: about a second
// of one core (the kernel draws a value in ~1.1 ns).
const DefaultShardDraws = 1 << 30

// ShardTask is a range of replicate blocks of one branch of one cell's statistic.
type ShardTask struct {
	Cell        string // cell key
	Statistic   string // the statistic's config name, unique within the cell's metric
	Branch      string
	Tally       statistics.Tally // after pre-treatments
	Seed        uint64
	First, Last int // blocks [First, Last)
}

// ShardResult is the replicates of a ShardTask, or its error.
type ShardResult struct {
	Branch     string
	First      int
	N          int64
	Replicates []float64
	Err        string
}

// shards splits a branch's bootstrap into tasks when its work exceeds the shard size: nil
// when it is small enough to compute in place.
func (c Config) shards(st statistics.Statistic, in statistics.Input) (first []int, ok bool) {
	sh, isSharded := st.(statistics.Sharded)
	size := c.ShardDraws
	if size == 0 {
		size = DefaultShardDraws
	}
	if !isSharded || size < 0 {
		return nil, false
	}
	work := int64(len(in.Tally.Values)+1) * int64(sh.Blocks()) * statistics.BlockSize
	if work <= size {
		return nil, false
	}
	perShard := max(1, int(size/(int64(len(in.Tally.Values)+1)*statistics.BlockSize)))
	for b := 0; b < sh.Blocks(); b += perShard {
		first = append(first, b)
	}
	return append(first, sh.Blocks()), true
}

// computeSharded computes, from the shard tasks, the rows of the statistics whose branches
// were split (see ComputeCells): every task's replicates, then per (cell, statistic) the
// branches' estimates joined in block order and the statistic's rows — exactly what
// computing in place gives, since a block's replicates depend on its index alone.
func computeSharded(s beam.Scope, cfg Config, tasks beam.PCollection) (rows, errs beam.PCollection) {
	s = s.Scope("Shards")
	// Without the reshuffle the runner fuses shardFn with computeFn, and a cell's shards
	// all run in the bundle, on the worker, that emitted them.
	results := beam.ParDo(s, &shardFn{Config: cfg}, beam.Reshuffle(s, tasks))
	return beam.ParDo2(s, &assembleFn{Config: cfg}, beam.GroupByKey(s, results))
}

type shardFn struct{ Config Config }

func (f *shardFn) ProcessElement(ctx context.Context, task ShardTask, emit func(string, ShardResult)) error {
	defer addSince(ctx, stageBootstrap, time.Now())
	sc, err := f.Config.statistic(task.Cell, task.Statistic)
	if err != nil {
		return err
	}
	st, err := newStatistic(sc, f.Config)
	if err != nil {
		return err
	}
	sh, ok := st.(statistics.Sharded)
	if !ok {
		return fmt.Errorf("%s: statistic %q cannot be computed in shards", task.Cell, task.Statistic)
	}
	res := ShardResult{Branch: task.Branch, First: task.First}
	e, err := sh.EstimateBlocks(task.Branch, task.Tally, task.Seed, task.First, task.Last)
	if err != nil {
		res.Err = err.Error()
	} else {
		res.N, res.Replicates = e.N, e.Replicates
	}
	emit(task.Cell+sep+task.Statistic, res)
	return nil
}

type assembleFn struct{ Config Config }

func (f *assembleFn) ProcessElement(ctx context.Context, key string, next func(*ShardResult) bool, emit func(string, statistics.Row), fail func(AnalysisError)) error {
	defer addSince(ctx, stageBootstrap, time.Now())
	i := strings.LastIndex(key, sep)
	cellKey, name := key[:i], key[i+1:]
	cell, err := ParseCell(cellKey)
	if err != nil {
		return err
	}
	sc, err := f.Config.statistic(cellKey, name)
	if err != nil {
		return err
	}
	st, err := newStatistic(sc, f.Config)
	if err != nil {
		return err
	}
	byBranch := map[string][]ShardResult{}
	var r ShardResult
	for next(&r) {
		byBranch[r.Branch] = append(byBranch[r.Branch], r)
		r = ShardResult{}
	}
	var ests []statistics.Estimate
	for _, b := range slices.Sorted(maps.Keys(byBranch)) {
		parts := byBranch[b]
		slices.SortFunc(parts, func(x, y ShardResult) int { return x.First - y.First })
		var pieces []statistics.Estimate
		var failed error
		for _, p := range parts {
			if p.Err != "" {
				failed = errors.New(p.Err)
				break
			}
			pieces = append(pieces, statistics.Estimate{Branch: b, N: p.N, Replicates: p.Replicates})
		}
		if failed != nil {
			fail(newError(cell, sc.Name, failed))
			continue
		}
		ests = append(ests, statistics.JoinBlocks(pieces))
	}
	if len(ests) == 0 {
		return nil
	}
	exp, _ := f.Config.experiment(cell.Experiment)
	table := cell.StatisticsTable(exp.TableSlug)
	for _, row := range st.Rows(ests) {
		row.Metric, row.Segment, row.AnalysisBasis = cell.Metric, cell.Segment, cell.Basis
		emit(table, row)
	}
	return nil
}

// statistic finds a statistic of the cell's metric by config name.
func (c Config) statistic(cellKey, name string) (StatisticConfig, error) {
	cell, err := ParseCell(cellKey)
	if err != nil {
		return StatisticConfig{}, err
	}
	stats, err := c.statistics(cell)
	if err != nil {
		return StatisticConfig{}, err
	}
	for _, sc := range stats {
		if sc.Name == name {
			return sc, nil
		}
	}
	return StatisticConfig{}, fmt.Errorf("cell %s: no statistic %q", cellKey, name)
}
