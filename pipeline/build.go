package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
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
	if len(plan.Queries) == 0 {
		return fmt.Errorf("the plan has nothing to compute")
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, plan, location)
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}
