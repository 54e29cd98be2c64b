package statistics

import (
	"errors"
	"sort"
)

// Input is one branch's data in one cell (experiment, basis, period, window, segment,
// metric): the metric's values and, for statistics that need a second column, the pairs.
type Input struct {
	Branch string
	Tally  Tally     // the metric's non-null values
	Pairs  PairTally // (metric, covariate) or (numerator, denominator) pairs; empty when unused
	// Model is linear_model_mean's compact form of the (metric, covariate) pairs, which the
	// pipeline reads instead of Pairs when no pre-treatment needs the pairs themselves.
	Model ModelTally
}

// Seeder gives the seed of one branch of the cell being computed (see Seed).
type Seeder func(branch string) uint64

// CellStatistic is implemented by statistics that need every branch of a cell at once
// (pooled thresholds, a model fitted over all branches). Compute prefers it to the
// per-branch Estimate/Rows path.
type CellStatistic interface {
	Statistic
	ComputeCell(inputs []Input, seed Seeder) ([]Row, []error)
}

// Compute runs a statistic over every branch of one cell: for a CellStatistic, its
// ComputeCell; otherwise Estimate for each branch, then Rows over the branches that
// succeeded. A branch that fails is reported in errs and left out of the rows (Jetstream
// likewise skips a reference branch whose computation raised). Inputs are used in branch
// name order, so the result does not depend on the order they arrive in.
func Compute(s Statistic, inputs []Input, seed Seeder) (rows []Row, errs []error) {
	inputs = append([]Input(nil), inputs...)
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].Branch < inputs[j].Branch })
	for i := 1; i < len(inputs); i++ {
		if inputs[i].Branch == inputs[i-1].Branch {
			return nil, []error{errors.New(s.Name() + ": two inputs for branch " + inputs[i].Branch)}
		}
	}
	if cs, ok := s.(CellStatistic); ok {
		return cs.ComputeCell(inputs, seed)
	}
	return estimateEach(s, inputs, func(in Input) (Estimate, error) {
		return s.Estimate(in.Branch, in.Tally, seed(in.Branch))
	})
}

// estimateEach estimates every branch with estimate and combines the branches that
// succeeded with s.Rows; the others are returned as errors.
func estimateEach(s Statistic, inputs []Input, estimate func(Input) (Estimate, error)) ([]Row, []error) {
	var ests []Estimate
	var errs []error
	for _, in := range inputs {
		e, err := estimate(in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ests = append(ests, e)
	}
	if len(ests) == 0 {
		return nil, errs
	}
	return s.Rows(ests), errs
}
