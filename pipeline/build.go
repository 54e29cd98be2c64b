package pipeline

import (
	"context"
	"fmt"

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
	tallies, pairTallies, populations, readErrs := transforms.ReadClients(s, queries)
	rows, errs := transforms.ComputeCells(s, plan.Config, transforms.MergeTallies(s, tallies),
		transforms.MergePairTallies(s, pairTallies), populations)
	transforms.WriteTables(s, location, rows)
	transforms.WriteErrors(s, location, beam.Flatten(s, errs, readErrs))
}

// Analyse turns per-client values keyed by (cell, branch) into statistic rows keyed by
// statistics table, and the errors of statistics that could not be computed. populations
// name the identity cells counted even when empty (from transforms.ReadClients).
func Analyse(s beam.Scope, cfg transforms.Config, values, pairs beam.PCollection, populations ...beam.PCollection) (rows, errs beam.PCollection) {
	return transforms.ComputeCells(s, cfg, transforms.TallyPerBranch(s, values), transforms.PairTallyPerBranch(s, pairs), populations...)
}

// Run builds and runs the plan's pipeline on the runner chosen by Beam's --runner option
// (Prism, in-process, by default), writing tables to the store at location.
func Run(ctx context.Context, plan *Plan, location string) error {
	_, err := RunWithStats(ctx, plan, location)
	return err
}

// Stats are figures of a finished pipeline, from its metrics.
type Stats struct {
	// ClientRows is the number of per-client rows read (-1: the runner reports no metrics,
	// e.g. a job submitted for a template).
	ClientRows int64
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
	stats := Stats{ClientRows: -1}
	if result == nil {
		return stats, nil
	}
	counters := result.Metrics().Query(func(r metrics.SingleResult) bool {
		return r.Namespace() == "jetstream" && r.Name() == "client_rows"
	}).Counters()
	for i, c := range counters {
		if i == 0 {
			stats.ClientRows = 0
		}
		stats.ClientRows += c.Result()
	}
	return stats, nil
}
