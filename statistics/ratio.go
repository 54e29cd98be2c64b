package statistics

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// populationRatio is Jetstream's `population_ratio` (output
// "population_ratio"): mozanalysis' frequentist (percentile) bootstrap of
// mean(numerator)/mean(denominator), per branch. It is a CellStatistic
// because it needs two columns: use Compute.
//
// # Data contract (Input)
//
// Input.Pairs holds one pair (X = numerator, Y = denominator) per client
// whose numerator and denominator are both non-null (the caller reads the
// columns named by the `numerator` and `denominator` parameters).
// Input.Tally is not used.
//
// # Algorithm, per branch
//
//  1. Winsorize each column at its own per-branch quantile:
//     x ← min(x, Q(x, 1 − drop_highest)), y ← min(y, Q(y, 1 − drop_highest))
//     (numpy type 7; a no-op for drop_highest = 0).
//  2. R replicates: resample the n clients with replacement and compute
//     Σ x*/Σ y* (= mean(x*)/mean(y*)).
//
// Rows as bootstrap_mean (see comparativeRows): individual bounds at cp and
// 1 − cp, comparative bounds only for ci ∈ {0.95, 0.99}.
//
// The Fast engine draws each resampled client as a uniform index into the
// n clients (Lemire's multiply-shift on 64 random bits; bias < n/2⁶⁴) mapped
// to its distinct pair through the cumulative counts, block-seeded and
// parallel over blocks like the other statistics. The NumpyLegacy engine
// replays mozanalysis: replicate i uses RandomState(seed + i) and
// randint(0, n, n) over the clients expanded in pair order (sorted by
// (x, y)). mozanalysis indexes its rows in query order, so the legacy
// replicates are bit-identical to mozanalysis only when the data are given
// in that order (see legacyRatioReplicates).
type populationRatio struct {
	numerator, denominator string
	numSamples             int
	dropHighest            float64
	ci                     float64
	sampler                sampler
}

func newPopulationRatio(p *paramReader, s sampler) (Statistic, error) {
	num, err := requiredString(p, "numerator")
	if err != nil {
		return nil, err
	}
	den, err := requiredString(p, "denominator")
	if err != nil {
		return nil, err
	}
	r, drop, ci, err := p.resampling()
	if err != nil {
		return nil, err
	}
	return populationRatio{numerator: num, denominator: den, numSamples: r, dropHighest: drop, ci: ci, sampler: s}, nil
}

// requiredString reads a mandatory string parameter.
func requiredString(p *paramReader, name string) (string, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return "", p.errorf("missing required parameter %s", name)
	}
	s, ok := raw.(string)
	if !ok || s == "" {
		return "", p.errorf("parameter %s = %#v (%T): want a metric name", name, raw, raw)
	}
	return s, nil
}

func (populationRatio) Name() string   { return "population_ratio" }
func (populationRatio) Output() string { return "population_ratio" }

// Columns returns the names of the numerator and denominator metrics.
func (s populationRatio) Columns() (numerator, denominator string) {
	return s.numerator, s.denominator
}

// Estimate is not available: population_ratio needs Input.Pairs.
func (s populationRatio) Estimate(string, Tally, uint64) (Estimate, error) {
	return Estimate{}, fmt.Errorf("%s: needs (numerator, denominator) pairs: use Compute", s.Name())
}

// Rows combines per-branch estimates (from ComputeCell) into rows.
func (s populationRatio) Rows(estimates []Estimate) []Row {
	return comparativeRows(s.Name(), s.Output(), s.ci, estimates)
}

// ComputeCell estimates each branch from its pairs with seed(branch), then
// compares every ordered pair of branches.
func (s populationRatio) ComputeCell(inputs []Input, seed Seeder) ([]Row, []error) {
	return estimateEach(s, inputs, func(in Input) (Estimate, error) {
		return s.estimatePairs(in.Branch, in.Pairs, seed(in.Branch))
	})
}

// WinsorizePairs clips each column of p from above at its own quantile
// Q(1 − dropHighest) (mozanalysis' filter_outliers on a 2-column array); the
// result is compacted. dropHighest = 0 returns p compacted.
func WinsorizePairs(p PairTally, dropHighest float64) PairTally {
	c := p.Compacted()
	if dropHighest == 0 || len(c.X) == 0 {
		return c
	}
	xt, yt := c.Columns()
	hx, hy := xt.Quantile(1-dropHighest), yt.Quantile(1-dropHighest)
	xs := make([]float64, len(c.X))
	ys := make([]float64, len(c.X))
	for k := range c.X {
		xs[k], ys[k] = min(c.X[k], hx), min(c.Y[k], hy)
	}
	return newPairTally(xs, ys, c.Counts)
}

// newPairTally builds a compacted PairTally from (x, y, count) triples in
// any order (equal pairs merged).
func newPairTally(xs, ys []float64, counts []int64) PairTally {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if xs[i] != xs[j] {
			if xs[i] < xs[j] {
				return -1
			}
			return 1
		}
		switch {
		case ys[i] < ys[j]:
			return -1
		case ys[i] > ys[j]:
			return 1
		}
		return 0
	})
	var out PairTally
	for _, i := range idx {
		if counts[i] <= 0 {
			continue
		}
		if k := len(out.X); k > 0 && out.X[k-1] == xs[i] && out.Y[k-1] == ys[i] {
			out.Counts[k-1] += counts[i]
			continue
		}
		out.X, out.Y, out.Counts = append(out.X, xs[i]), append(out.Y, ys[i]), append(out.Counts, counts[i])
	}
	return out
}

func (s populationRatio) estimatePairs(branch string, p PairTally, seed uint64) (Estimate, error) {
	c := p.Compacted()
	if slices.ContainsFunc(c.X, math.IsNaN) || slices.ContainsFunc(c.Y, math.IsNaN) {
		return Estimate{}, fmt.Errorf("%s: branch %q: data contains NaN (drop clients with a null numerator or denominator)", s.Name(), branch)
	}
	if len(c.X) == 0 {
		return Estimate{}, fmt.Errorf("%s: branch %q: no values", s.Name(), branch)
	}
	w := WinsorizePairs(c, s.dropHighest)
	var reps []float64
	switch sm := s.sampler.(type) {
	case legacySampler:
		num, den := expandPairs(w)
		reps = legacyRatioReplicates(num, den, s.numSamples, uint32(seed))
	case fastSampler:
		reps = sm.ratioReplicates(w, s.numSamples, seed)
	default:
		return Estimate{}, fmt.Errorf("%s: unsupported engine %T", s.Name(), s.sampler)
	}
	return Estimate{Branch: branch, N: c.N(), Replicates: reps}, nil
}

// expandPairs lists the clients of a compacted pair tally, in pair order.
func expandPairs(p PairTally) (num, den []float64) {
	n := p.N()
	num, den = make([]float64, 0, n), make([]float64, 0, n)
	for k, c := range p.Counts {
		for range c {
			num, den = append(num, p.X[k]), append(den, p.Y[k])
		}
	}
	return num, den
}

// ratioReplicates draws r bootstrap replicates Σx*/Σy* of a compacted pair
// tally: each of the n resampled clients is a uniform index u ∈ [0, n)
// (⌊2⁻⁶⁴·n·bits⌋ of one 64-bit draw) looked up in owner[u], the distinct
// pair of the u-th client. The two sums are accumulated left to right.
func (s fastSampler) ratioReplicates(p PairTally, r int, seed uint64) []float64 {
	n := p.N()
	owner := make([]uint32, n)
	i := 0
	for k, c := range p.Counts {
		for range c {
			owner[i] = uint32(k)
			i++
		}
	}
	xs, ys := p.X, p.Y
	un := uint64(n)
	return s.run(r, seed, int(min(n, 1<<30)), func(g *rng, out []float64) {
		for j := range out {
			var sx, sy float64
			for range un {
				hi, _ := bits.Mul64(g.next(), un)
				k := owner[hi]
				sx += xs[k]
				sy += ys[k]
			}
			out[j] = sx / sy
		}
	})
}
