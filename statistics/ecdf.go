package statistics

import "sort"

// empiricalCDF is Jetstream's `empirical_cdf` (statsmodels ECDF on
// Jetstream's grid), output "empirical_cdf". Per branch, with n values,
//
//	F(t) = #{x_i ≤ t} / n
//
// (right-continuous: a grid point equal to a data value counts it),
// evaluated at every point of the branch's grid (see gridSpec.points). One
// row per grid point: parameter = StoredParameter(t), point = F(t); no
// bounds, no ci_width, no comparisons. The count is read from the tally's
// cumulative counts by binary search, O(log K) per point.
type empiricalCDF struct {
	grid gridSpec
}

// newEmpiricalCDF reads grid_size (default 256) and log_space (default false).
func newEmpiricalCDF(p *paramReader, _ sampler) (Statistic, error) {
	g, err := readGridSpec(p)
	if err != nil {
		return nil, err
	}
	return empiricalCDF{grid: g}, nil
}

func (empiricalCDF) Name() string   { return "empirical_cdf" }
func (empiricalCDF) Output() string { return "empirical_cdf" }

// ecdf returns F(t) for each t in ts over the order statistics os.
func ecdf(os orderStatistics, ts []float64) []float64 {
	out := make([]float64, len(ts))
	n := float64(os.n)
	for i, t := range ts {
		k := sort.Search(len(os.values), func(k int) bool { return os.values[k] > t })
		if k > 0 {
			out[i] = float64(os.cum[k-1]) / n
		}
	}
	return out
}

func (e empiricalCDF) Estimate(branch string, t Tally, _ uint64) (Estimate, error) {
	if err := checkTally(e.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	os := newOrderStatistics(t)
	if err := checkFinite(e.Name(), branch, os.values); err != nil {
		return Estimate{}, err
	}
	xs := e.grid.points(os.values)
	return curveEstimate(e.Output(), branch, os.n, xs, ecdf(os, xs)), nil
}

func (e empiricalCDF) Rows(estimates []Estimate) []Row { return individualRows(e.Name(), estimates) }
