package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/jetstream-beam/jetstream/transforms"
)

// Build adds the whole analysis of a plan to the pipeline: read per-client rows, tally per
// (cell, branch) — values, and pairs for the two-column statistics — estimate each statistic
// once per branch, compare every ordered pair of branches, and write one statistics table
// per experiment, period and window, plus each experiment's error log, to the store at
// location (a folder, or gs://bucket/prefix; see export.OpenStore).
func Build(s beam.Scope, plan *Plan, location string) {
	s = s.Scope("Analysis")
	queries := beam.CreateList(s, plan.Queries)
	tallies, pairTallies, modelTallies, populations, readErrs := transforms.ReadClients(s, queries)
	rows, errs := transforms.ComputeCells(s, plan.Config, transforms.MergeTallies(s, tallies),
		transforms.MergePairTallies(s, pairTallies), transforms.MergeModelTallies(s, modelTallies), populations)
	transforms.WriteTables(s, location, rows)
	transforms.WriteErrors(s, location, beam.Flatten(s, errs, readErrs))
}

// Analyse turns per-client values keyed by (cell, branch) into statistic rows keyed by
// statistics table, and the errors of statistics that could not be computed. populations
// name the identity cells counted even when empty (from transforms.ReadClients).
func Analyse(s beam.Scope, cfg transforms.Config, values, pairs beam.PCollection, populations ...beam.PCollection) (rows, errs beam.PCollection) {
	return transforms.ComputeCells(s, cfg, transforms.TallyPerBranch(s, values), transforms.PairTallyPerBranch(s, pairs), beam.PCollection{}, populations...)
}

// Run builds and runs the plan's pipeline on the runner chosen by Beam's --runner option
// (Prism, in-process, by default), writing tables to the store at location.
func Run(ctx context.Context, plan *Plan, location string) error {
	_, err := RunWithStats(ctx, plan, location)
	return err
}

// Stats are figures of a finished pipeline, from its metrics.
//
// The stage times are busy times: the time spent inside the stage's DoFns, summed over
// every bundle and worker (see transforms.CounterStageSQL). With parallel workers a stage
// can be busy longer than the pipeline's wall time (Prism runs a bundle per core), and
// stages overlap; the time between the DoFns (encoding, shuffles, the runner's own work)
// is in no stage.
type Stats struct {
	// ClientRows is the number of per-client rows read (-1: the runner reports no metrics,
	// e.g. a job submitted for a template; the stage times are then 0).
	ClientRows int64
	// SQL is the metrics queries' time, writing each query's metrics table (0 when the
	// tables are reused: statistics only).
	SQL time.Duration
	// Read is reading the metrics tables and tallying their rows.
	Read time.Duration
	// Combine is gathering each cell's partial tallies per branch before its statistics
	// (the merge CombineFns themselves are not timed: they get no context).
	Combine time.Duration
	// Bootstrap is computing the statistics: pre-treatments, estimates, comparisons,
	// shard tasks and their assembly.
	Bootstrap time.Duration
	// Write is writing the statistics tables and error logs to the staging store.
	Write time.Duration
}

// RunWithStats is Run, also returning the pipeline's figures.
func RunWithStats(ctx context.Context, plan *Plan, location string) (Stats, error) {
	if len(plan.Queries) == 0 {
		return Stats{}, fmt.Errorf("the plan has nothing to compute")
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, plan, location)
	result, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return Stats{}, fmt.Errorf("pipeline: %w", err)
	}
	if result == nil {
		return Stats{ClientRows: -1}, nil
	}
	return statsOf(result.Metrics()), nil
}

// statsOf reads the pipeline's figures from its jetstream counters (ClientRows -1 when
// the runner reported none).
func statsOf(m metrics.Results) Stats {
	sums := map[string]int64{}
	counters := m.Query(func(r metrics.SingleResult) bool {
		return r.Namespace() == transforms.MetricsNamespace
	}).Counters()
	for _, c := range counters {
		sums[c.Name()] += c.Result()
	}
	stats := Stats{ClientRows: -1,
		SQL:       time.Duration(sums[transforms.CounterStageSQL]),
		Read:      time.Duration(sums[transforms.CounterStageRead]),
		Combine:   time.Duration(sums[transforms.CounterStageCombine]),
		Bootstrap: time.Duration(sums[transforms.CounterStageBootstrap]),
		Write:     time.Duration(sums[transforms.CounterStageWrite]),
	}
	if n, ok := sums[transforms.CounterClientRows]; ok {
		stats.ClientRows = n
	}
	return stats
}
