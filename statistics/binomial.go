package statistics

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// binomialSamples is mozanalysis' fixed number of posterior draws for
// binomial comparisons (not configurable from Jetstream).
const binomialSamples = 10000

// binomial is Jetstream's `binomial` (mozanalysis bayesian_stats.binary),
// output "binomial". Values must be 0 or 1. With n clients and s ones, the
// posterior under a uniform Beta(1, 1) prior is
//
//	p | data ~ Beta(α = s + 1, β = n − s + 1).
//
// Individual rows are exact: point = α/(α + β) = (s + 1)/(n + 2), bounds =
// Beta quantiles. Comparisons use 10000 posterior draws per branch, paired by
// index (see comparisonRows). mozanalysis summarises both at
// DEFAULT_QUANTILES only, so every bound is NULL unless ci ∈ {0.95, 0.99}.
type binomial struct {
	ci      float64
	sampler sampler
}

// newBinomial reads confidence_interval (default 0.95, in (0, 1)).
func newBinomial(p *paramReader, s sampler) (Statistic, error) {
	ci, err := p.confidenceInterval()
	if err != nil {
		return nil, err
	}
	return binomial{ci: ci, sampler: s}, nil
}

func (binomial) Name() string   { return "binomial" }
func (binomial) Output() string { return "binomial" }

// Successes returns (n, s): the number of values and the number of ones of
// a 0/1 tally, or an error naming the first value that is neither 0 nor 1.
func Successes(t Tally) (n, s int64, err error) {
	c := t.Compacted()
	for i, v := range c.Values {
		switch v {
		case 0:
		case 1:
			s += c.Counts[i]
		default:
			return 0, 0, errNotBinary(v)
		}
		n += c.Counts[i]
	}
	return n, s, nil
}

type errNotBinary float64

func (e errNotBinary) Error() string {
	return "value " + strconv.FormatFloat(float64(e), 'g', -1, 64) + " is not 0 or 1"
}

func (b binomial) Estimate(branch string, t Tally, seed uint64) (Estimate, error) {
	if err := checkTally(b.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	n, s, err := Successes(t)
	if err != nil {
		return Estimate{}, fmt.Errorf("%s: branch %q: %w", b.Name(), branch, err)
	}
	alpha, beta := float64(s+1), float64(n-s+1)
	post := distuv.Beta{Alpha: alpha, Beta: beta}
	lower, upper := math.NaN(), math.NaN()
	cp := lowerProbability(b.ci)
	if q, ok := defaultQuantile(cp); ok {
		lower = post.Quantile(q)
	}
	if q, ok := defaultQuantile(1 - cp); ok {
		upper = post.Quantile(q)
	}
	row := Row{
		Statistic: b.Output(), Branch: branch, CIWidth: b.ci,
		Point: null(alpha / (alpha + beta)), Lower: null(lower), Upper: null(upper),
	}
	return Estimate{
		Branch:     branch,
		N:          n,
		Replicates: b.sampler.betas(alpha, beta, binomialSamples, seed),
		Individual: []Row{row},
	}, nil
}

func (b binomial) Rows(estimates []Estimate) []Row {
	return comparativeRows(b.Name(), b.Output(), b.ci, estimates)
}
