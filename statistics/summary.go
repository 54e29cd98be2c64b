package statistics

import (
	"math"
	"slices"
)

// DefaultQuantiles are mozanalysis' DEFAULT_QUANTILES. mozanalysis
// summarises comparisons (and binomial posteriors) only at these
// probabilities, so a row's lower/upper exist only when (1 − ci)/2 is within
// [quantileMatchTolerance] of one of them (ci ∈ {0.95, 0.99}).
var DefaultQuantiles = [...]float64{0.005, 0.025, 0.5, 0.975, 0.995}

// quantileMatchTolerance is Jetstream's `_extract_ci` threshold: a summary
// quantile labelled p is used for the bound at probability q when |p − q| < 1e-5.
const quantileMatchTolerance = 1e-5

// defaultQuantile returns the entry of DefaultQuantiles within 1e-5 of p, as
// Jetstream's `_extract_ci` would find it, and whether one exists.
func defaultQuantile(p float64) (float64, bool) {
	for _, d := range DefaultQuantiles {
		if math.Abs(d-p) < quantileMatchTolerance {
			return d, true
		}
	}
	return math.NaN(), false
}

// lowerProbability returns cp = (1 − ci)/2, the probability of the lower
// bound of a central interval of width ci; the upper bound is at 1 − cp.
func lowerProbability(ci float64) float64 { return (1 - ci) / 2 }

// lerp is numpy's `_lerp`: the interpolation between neighbouring order
// statistics a ≤ b with weight t,
//
//	a + (b − a)·t      if t < 0.5
//	b − (b − a)·(1 − t) otherwise.
//
// (It is evaluated even when t = 0, so an infinite neighbour gives NaN.)
// The explicit float64 conversions forbid fused multiply-adds, keeping the
// result identical on every platform.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// quantileAt computes numpy's default ("linear", Hyndman–Fan type 7)
// quantile of n sorted values read through at:
//
//	h = (n − 1)·q,  i = ⌊h⌋,  Q(q) = lerp(x_i, x_{i+1}, h − i)
//
// For h ≥ n − 1 numpy uses i = −1 (the last element on both sides) and
// weight h + 1; this is reproduced. It returns NaN when n == 0 or q is
// outside [0, 1] or NaN.
func quantileAt(n int, at func(int) float64, q float64) float64 {
	if n == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	h := float64(n-1) * q
	if h >= float64(n-1) {
		last := at(n - 1)
		return lerp(last, last, h+1)
	}
	i := math.Floor(h)
	k := int(i)
	return lerp(at(k), at(k+1), h-i)
}

// quantileSorted is quantileAt over a sorted slice.
func quantileSorted(sorted []float64, q float64) float64 {
	return quantileAt(len(sorted), func(i int) float64 { return sorted[i] }, q)
}

// Quantile returns numpy's default (type 7, "linear") q-quantile of x. If
// any element of x is NaN the result is NaN, as with np.quantile. x is not
// modified.
func Quantile(x []float64, q float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s) // NaN sorts first
	if len(s) > 0 && math.IsNaN(s[0]) {
		return math.NaN()
	}
	return quantileSorted(s, q)
}

// pairwiseBlock is numpy's PW_BLOCKSIZE.
const pairwiseBlock = 128

// pairwiseSum is numpy's pairwise summation (`pairwise_sum_DOUBLE`): blocks
// of up to 128 values are summed with eight interleaved accumulators and
// blocks are combined pairwise. It is deterministic and has O(ε·log n) error.
func pairwiseSum(x []float64) float64 {
	n := len(x)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s
	case n <= pairwiseBlock:
		var r [8]float64
		copy(r[:], x[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += x[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += x[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(x[:n2]) + pairwiseSum(x[n2:])
	}
}

// nanMean is pandas' Series.mean: the mean of the non-NaN values,
//
//	mean = Σ_{x_i not NaN} x_i / #{x_i not NaN}
//
// summed pairwise in index order (NaN replaced by 0, as pandas does). ±Inf is
// not skipped. It returns NaN when every value is NaN.
func nanMean(x []float64) float64 {
	count := 0
	for _, v := range x {
		if !math.IsNaN(v) {
			count++
		}
	}
	if count == 0 {
		return math.NaN()
	}
	if count < len(x) {
		filled := make([]float64, len(x))
		for i, v := range x {
			if !math.IsNaN(v) {
				filled[i] = v
			}
		}
		x = filled
	}
	return pairwiseSum(x) / float64(count)
}

// summarize is mozanalysis' summary of one set of replicates s_1..s_R:
//
//	point = nanmean(s),  lower = Q(s, pLower),  upper = Q(s, pUpper)
//
// with Q numpy's type-7 quantile (NaN if any replicate is NaN). A NaN
// probability means "bound not available" and yields NaN. NaN and ±Inf
// results are returned as NaN (NULL).
func summarize(reps []float64, pLower, pUpper float64) (point, lower, upper float64) {
	point = null(nanMean(reps))
	lower, upper = math.NaN(), math.NaN()
	if math.IsNaN(pLower) && math.IsNaN(pUpper) {
		return point, lower, upper
	}
	sorted := slices.Clone(reps)
	slices.Sort(sorted)
	if len(sorted) == 0 || math.IsNaN(sorted[0]) {
		return point, lower, upper
	}
	return point, null(quantileSorted(sorted, pLower)), null(quantileSorted(sorted, pUpper))
}

// replicateRow summarises the replicates of one branch into its individual
// row, with bounds at cp = (1 − ci)/2 and 1 − cp (mozanalysis'
// individual_summary_quantiles).
func replicateRow(output, branch string, ci float64, reps []float64) Row {
	cp := lowerProbability(ci)
	point, lower, upper := summarize(reps, cp, 1-cp)
	return Row{
		Statistic: output, Branch: branch, CIWidth: ci,
		Point: point, Lower: lower, Upper: upper,
	}
}

// comparisonRows summarises focus replicates f_i against reference
// replicates r_i, paired by index:
//
//	difference:      d_i = f_i − r_i
//	relative_uplift: u_i = f_i / r_i − 1
//
// point = nanmean, bounds = type-7 quantiles at the DefaultQuantiles entries
// matching cp and 1 − cp (NULL when ci ∉ {0.95, 0.99}: mozanalysis'
// comparative summary is fixed to DEFAULT_QUANTILES).
func comparisonRows(output, focus, ref string, ci float64, f, r []float64) [2]Row {
	if len(f) != len(r) {
		panic("statistics: comparing branches " + focus + " and " + ref +
			" with different numbers of replicates (estimates from different statistics?)")
	}
	cp := lowerProbability(ci)
	pl, _ := defaultQuantile(cp)
	pu, _ := defaultQuantile(1 - cp)
	diff := make([]float64, len(f))
	rel := make([]float64, len(f))
	for i := range f {
		diff[i] = f[i] - r[i]
		rel[i] = f[i]/r[i] - 1
	}
	var rows [2]Row
	for k, c := range [2]struct {
		name string
		reps []float64
	}{{Difference, diff}, {RelativeUplift, rel}} {
		point, lower, upper := summarize(c.reps, pl, pu)
		rows[k] = Row{
			Statistic: output, Branch: focus, Comparison: c.name, ComparisonToBranch: ref,
			CIWidth: ci, Point: point, Lower: lower, Upper: upper,
		}
	}
	return rows
}
