package statistics

import (
	"fmt"
	"slices"
)

// Replay computes a statistic as mozanalysis does right after `numpy.random.seed(seed)`,
// with reference as the only reference branch: the random draws come from numpy's legacy
// MT19937 stream in mozanalysis' order, so the rows match mozanalysis bit for bit (up to
// the summation order of means). inputs must be in the order branches first appear in the
// data (mozanalysis iterates `df.branch.unique()`); comparisons are against reference only.
//
// Draw order after seed(S) (see golden/statistics/README.md):
//
//	bootstrap_mean  one randint(2^32 − 1) per branch (first appearance) from the global
//	                stream, then R Dirichlet draws from RandomState(that seed)
//	binomial        per branch in sorted order, R beta(s+1, n−s+1) draws from the global stream
//	deciles         per branch (first appearance), per decile, R binomial(n−1, q) draws
//	population_ratio one randint(2^32 − 1) per branch (first appearance); replicate i draws
//	                randint(0, n, n) row positions from RandomState(that seed + i)
//
// Deterministic statistics (count, sum, empirical_cdf, kernel_density_estimate,
// linear_model_mean, per_client_dau_impact) need no stream and are computed as by Compute.
// population_ratio resamples clients by their row positions, which tallies do not keep: it
// needs each branch's (numerator, denominator) values in data-row order in ordered.
func Replay(name string, params map[string]any, inputs []Input, reference string, seed uint32, ordered map[string]OrderedPairs) ([]Row, []error) {
	st, err := NewWithOptions(name, params, Options{Engine: NumpyLegacy})
	if err != nil {
		return nil, []error{err}
	}
	if !slices.ContainsFunc(inputs, func(in Input) bool { return in.Branch == reference }) {
		return nil, []error{fmt.Errorf("reference branch %q has no data", reference)}
	}
	global := newMT19937(seed)
	var ests []Estimate
	var errs []error
	estimate := func(in Input, s uint64) (Estimate, bool) {
		e, err := st.Estimate(in.Branch, in.Tally, s)
		if err != nil {
			errs = append(errs, err)
		}
		return e, err == nil
	}
	switch s := st.(type) {
	case bootstrapMean:
		for _, in := range inputs {
			if e, ok := estimate(in, uint64(global.boundedUint32(4294967294))); ok {
				ests = append(ests, e)
			}
		}
	case binomial:
		sorted := slices.Clone(inputs)
		slices.SortFunc(sorted, func(a, b Input) int { return cmpString(a.Branch, b.Branch) })
		for _, in := range sorted {
			e, ok := estimate(in, 0)
			if !ok {
				continue
			}
			n, succ, _ := Successes(in.Tally)
			for i := range e.Replicates {
				e.Replicates[i] = global.beta(float64(succ+1), float64(n-succ+1))
			}
			ests = append(ests, e)
		}
	case deciles:
		for _, in := range inputs {
			if err := checkTally(s.Name(), in.Branch, in.Tally, true); err != nil {
				errs = append(errs, err)
				continue
			}
			os := newOrderStatistics(in.Tally)
			ests = append(ests, Estimate{Branch: in.Branch, N: os.n, Parameters: slices.Clone(decileLabels),
				Replicates: legacyDecileReplicates(global, os, decileProbabilities, s.numSamples)})
		}
	case populationRatio:
		for _, in := range inputs {
			rows, ok := ordered[in.Branch]
			if !ok || len(rows.X) == 0 {
				errs = append(errs, fmt.Errorf("%s: branch %q: no rows in data order to replay", s.Name(), in.Branch))
				continue
			}
			start := global.boundedUint32(4294967294)
			x, y := rows.X, rows.Y
			if s.dropHighest > 0 {
				hx, hy := Quantile(x, 1-s.dropHighest), Quantile(y, 1-s.dropHighest)
				x, y = slices.Clone(x), slices.Clone(y)
				for i := range x {
					x[i], y[i] = min(x[i], hx), min(y[i], hy)
				}
			}
			ests = append(ests, Estimate{Branch: in.Branch, N: int64(len(x)), Replicates: legacyRatioReplicates(x, y, s.numSamples, start)})
		}
	default:
		rows, errs := Compute(st, inputs, func(string) uint64 { return 0 })
		return onlyReference(rows, reference), errs
	}
	if len(ests) == 0 {
		return nil, errs
	}
	return onlyReference(st.Rows(ests), reference), errs
}

// OrderedPairs are one branch's clients' (x, y) values in data-row order.
type OrderedPairs struct{ X, Y []float64 }

// onlyReference keeps individual rows and comparisons against reference.
func onlyReference(rows []Row, reference string) []Row {
	out := rows[:0:0]
	for _, r := range rows {
		if r.Comparison == "" || r.ComparisonToBranch == reference {
			out = append(out, r)
		}
	}
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
