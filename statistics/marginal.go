package statistics

import (
	"math"
	"sort"
)

// gridSize is the number of covariate quantiles in marginaleffects'
// datagrid as mozanalysis builds it: probabilities np.arange(0, 1, 0.0001).
const gridSize = 10000

// gridProbability is the i-th datagrid probability as numpy and pandas
// compute it: np.arange gives i·0.0001, pandas' Series.quantile passes
// q·100 to np.percentile, which divides by 100 again.
func gridProbability(i int) float64 {
	q := float64(i) * 0.0001
	return float64(q*100) / 100
}

// gridMean is q̄, the mean of the gridSize pooled quantiles of the
// (clipped) covariate at gridProbability(0..9999), numpy type 7, averaged
// with numpy's pairwise sum. Every datagrid row gets each branch once, so
// the average prediction of the grid under branch b is α_b + γ·q̄.
func gridMean(t Tally) float64 {
	t = t.Compacted()
	n := t.N()
	if n == 0 {
		return math.NaN()
	}
	cum := make([]int64, len(t.Counts)) // cum[k] = number of values ≤ Values[k]
	var c int64
	for k, cnt := range t.Counts {
		c += cnt
		cum[k] = c
	}
	at := func(idx int) float64 {
		k := sort.Search(len(cum), func(k int) bool { return cum[k] > int64(idx) })
		return t.Values[k]
	}
	qs := make([]float64, gridSize)
	for i := range qs {
		qs[i] = quantileAt(int(n), at, gridProbability(i))
	}
	return pairwiseSum(qs) / gridSize
}

// lnRatio is marginaleffects' "lnratioavg" contrast of the grid's average
// predictions under the focus branch and under the reference:
//
//	θ(β) = ln((β₀ + β_k + γ·q̄) / (β₀ + γ·q̄)).
func lnRatio(beta [3]float64, qbar float64) float64 {
	lo := beta[0] + beta[2]*qbar
	hi := lo + beta[1]
	return math.Log(hi / lo)
}

// relativeUplift is the relative_uplift row of linear_model_mean
// (marginaleffects 0.1.4 avg_comparisons(comparison="lnratioavg",
// transform=np.exp)): with θ = lnRatio(β) and the delta-method standard
// error SE = √(J·V·Jᵀ), J the forward finite-difference Jacobian of θ with
// steps h_j = max(|β_j|·√(2.22e-16), 1e-10),
//
//	point = e^θ − 1,  lower/upper = e^(θ ∓ t·SE) − 1,
//
// t = t_{0.975, df_resid}. Coefficients other than (β₀, β_k, γ) do not
// enter θ, so their Jacobian entries are 0.
func relativeUplift(beta [3]float64, cov [3][3]float64, qbar, t float64) (point, lower, upper float64) {
	theta := lnRatio(beta, qbar)
	var jac [3]float64
	for j := range jac {
		h := max(math.Abs(beta[j])*math.Sqrt(2.22e-16), 1e-10)
		b := beta
		b[j] += h
		jac[j] = (lnRatio(b, qbar) - theta) / h
	}
	v := 0.0
	for i := range jac {
		for j := range jac {
			v += jac[i] * cov[i][j] * jac[j]
		}
	}
	se := math.Sqrt(v)
	return math.Exp(theta) - 1, math.Exp(theta-t*se) - 1, math.Exp(theta+t*se) - 1
}
