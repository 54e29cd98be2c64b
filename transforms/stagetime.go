package transforms

import (
	"context"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// MetricsNamespace is the namespace of the pipeline's Beam metrics.
const MetricsNamespace = "jetstream"

// Names of the stage counters: the nanoseconds spent inside the DoFns of each stage of the
// analysis. They are busy times, summed over every bundle and worker: with several workers
// (Prism runs bundles in parallel, one per core) a stage's busy time can exceed the
// pipeline's wall time, and the stages overlap.
//
//	sql        prepareFn writing each query's metrics table (nothing with Query.Reuse)
//	read       readFn: the read of a metrics table part, the tallying of its rows, and the
//	           emission of its partial tallies (which runs the lifted combine's
//	           pre-combining, fused into the same stage)
//	combine    computeFn gathering a cell's branch tallies (iterating the grouped partial
//	           tallies and merging them per branch). The merge CombineFns' MergeAccumulators
//	           are not timed: register.Combiner* accepts no context.Context, and a Beam
//	           counter needs the bundle's context
//	bootstrap  computeFn's pre-treatments and statistics (except the shard tasks it hands
//	           out, which shardFn times), shardFn, assembleFn
//	write      writeTableFn and writeErrorsFn
const (
	CounterClientRows     = "client_rows"
	CounterStageSQL       = "stage_ns_sql"
	CounterStageRead      = "stage_ns_read"
	CounterStageCombine   = "stage_ns_combine"
	CounterStageBootstrap = "stage_ns_bootstrap"
	CounterStageWrite     = "stage_ns_write"
)

var (
	stageSQL       = beam.NewCounter(MetricsNamespace, CounterStageSQL)
	stageRead      = beam.NewCounter(MetricsNamespace, CounterStageRead)
	stageCombine   = beam.NewCounter(MetricsNamespace, CounterStageCombine)
	stageBootstrap = beam.NewCounter(MetricsNamespace, CounterStageBootstrap)
	stageWrite     = beam.NewCounter(MetricsNamespace, CounterStageWrite)
)

// addSince adds the time elapsed since start to a stage counter.
func addSince(ctx context.Context, stage beam.Counter, start time.Time) {
	stage.Inc(ctx, int64(time.Since(start)))
}
