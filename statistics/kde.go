package statistics

import (
	"math"
	"sort"
)

// kernelDensity is Jetstream's `kernel_density_estimate` (scikit-learn
// KernelDensity(bandwidth="scott", kernel="gaussian") on Jetstream's grid),
// output "kernel_density_estimate". Per branch, with n values and the
// bandwidth
//
//	h = n^(−1/5)
//
// (scikit-learn's "scott" rule is in data units: it is NOT scaled by the
// standard deviation, unlike statsmodels' or scipy's), the density at x is
//
//	f(x) = 1/(n·h·√(2π)) · Σ_k c_k·exp(−(x − v_k)²/(2h²))
//
// over the tally's distinct values v_k with counts c_k, evaluated at every
// point of the branch's grid (see gridSpec.points). One row per grid
// point: parameter = StoredParameter(x), point = f(x); no bounds, no
// ci_width, no comparisons.
//
// A value with |x − v_k| > 40h contributes exp(−800) = 0 in float64, so
// each point sums only the values within 40h (found by binary search in the
// sorted tally): the result equals the full sum, at O(window) instead of
// O(K) per point. Points are evaluated in parallel; the result does not
// depend on the number of goroutines.
type kernelDensity struct {
	grid    gridSpec
	workers int
}

// kdeCutoff is the window half-width, in bandwidths, beyond which a
// Gaussian kernel term underflows to 0.
const kdeCutoff = 40

// newKernelDensity reads bandwidth (only "scott"), kernel (only
// "gaussian"), adjust (must be 1: Jetstream raises "KDE Adjust parameter
// no longer supported" otherwise), grid_size (default 256) and log_space
// (default false).
func newKernelDensity(p *paramReader, s sampler) (Statistic, error) {
	if _, err := p.choiceParam("bandwidth", "scott", "scott"); err != nil {
		return nil, err
	}
	if _, err := p.choiceParam("kernel", "gaussian", "gaussian"); err != nil {
		return nil, err
	}
	adjust, err := p.real("adjust", 1, interval{lo: math.Inf(-1), hi: math.Inf(1)})
	if err != nil {
		return nil, err
	}
	if adjust != 1 {
		return nil, p.errorf("KDE Adjust parameter no longer supported (adjust = %v; only 1.0 is accepted)", adjust)
	}
	g, err := readGridSpec(p)
	if err != nil {
		return nil, err
	}
	return kernelDensity{grid: g, workers: workersOf(s)}, nil
}

func (kernelDensity) Name() string   { return "kernel_density_estimate" }
func (kernelDensity) Output() string { return "kernel_density_estimate" }

// scottBandwidth is scikit-learn's "scott" bandwidth for n one-dimensional
// samples, n^(−1/(d+4)) with d = 1.
func scottBandwidth(n int64) float64 { return math.Pow(float64(n), -1.0/5) }

// kdeBlock is the number of kernel terms summed into a partial sum before it
// is added to the total (bounds the rounding error by about
// (kdeBlock + K/kdeBlock)·ε instead of K·ε).
const kdeBlock = 1024

// gaussianKDE returns f(x) for each x in xs over the order statistics os
// with bandwidth h, on up to workers goroutines.
func gaussianKDE(os orderStatistics, h float64, xs []float64, workers int) []float64 {
	out := make([]float64, len(xs))
	norm := 1 / (float64(os.n) * h * math.Sqrt(2*math.Pi))
	parallelFor(len(xs), len(xs)*len(os.values), workers, func(i int) {
		x := xs[i]
		lo := sort.SearchFloat64s(os.values, x-kdeCutoff*h)
		hi := sort.Search(len(os.values), func(k int) bool { return os.values[k] > x+kdeCutoff*h })
		total, part := 0.0, 0.0
		for k := lo; k < hi; k++ {
			d := (x - os.values[k]) / h
			part += float64(float64(os.counts[k]) * math.Exp(-0.5*float64(d*d)))
			if (k-lo)%kdeBlock == kdeBlock-1 {
				total += part
				part = 0
			}
		}
		out[i] = (total + part) * norm
	})
	return out
}

func (k kernelDensity) Estimate(branch string, t Tally, _ uint64) (Estimate, error) {
	if err := checkTally(k.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	os := newOrderStatistics(t)
	if err := checkFinite(k.Name(), branch, os.values); err != nil {
		return Estimate{}, err
	}
	xs := k.grid.points(os.values)
	return curveEstimate(k.Output(), branch, os.n, xs, gaussianKDE(os, scottBandwidth(os.n), xs, k.workers)), nil
}

func (k kernelDensity) Rows(estimates []Estimate) []Row { return individualRows(k.Name(), estimates) }
