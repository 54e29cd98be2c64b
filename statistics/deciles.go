package statistics

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// decileProbabilities are mozanalysis' quantiles of interest for deciles,
// and decileLabels their parameter labels (Python's f"{q:.1}").
var (
	decileProbabilities = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	decileLabels        = []string{"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"}
)

// deciles is Jetstream's `deciles` (mozanalysis frequentist_stats.bootstrap.
// compare_branches_quantiles, after Schultzberg & Ankargren's
// "resampling-free" quantile bootstrap), output "deciles".
//
// Per branch, with the sorted values y_0 ≤ … ≤ y_{n−1} and for each
// q ∈ {0.1, …, 0.9}, a replicate of the q-quantile is the order statistic
//
//	y_I,  I ~ Binomial(n − 1, q),
//
// which is the distribution of the sample q-quantile under resampling
// without doing the resampling. There is no winsorizing.
//
// Rows, per decile (parameter "0.1" … "0.9"): individual point = mean of the
// replicates (not the sample decile: on tied data it can lie outside its
// bounds), bounds = type-7 quantiles at cp = (1 − ci)/2 and 1 − cp;
// comparisons pair replicate i of the focus branch with replicate i of the
// reference, with bounds at the same cp (unlike bootstrap_mean, deciles pass
// the requested quantiles to both summaries, so any ci has bounds). A
// reference decile of 0 makes the relative uplift infinite or NaN, hence
// NULL.
type deciles struct {
	numSamples int
	ci         float64
	sampler    decileSampler
}

// decileSampler is implemented by the engines that can draw deciles'
// replicates.
type decileSampler interface {
	// decileReplicates returns, for each p in ps, r replicates y_I with
	// I ~ Binomial(n − 1, p), p-major.
	decileReplicates(os orderStatistics, ps []float64, r int, seed uint64) []float64
}

// newDeciles reads num_samples (default 10000, ≥ 1) and
// confidence_interval (default 0.95, in (0, 1)).
func newDeciles(p *paramReader, s sampler) (Statistic, error) {
	r, err := p.integer("num_samples", 10000, 1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	ci, err := p.confidenceInterval()
	if err != nil {
		return nil, err
	}
	ds, ok := s.(decileSampler)
	if !ok {
		return nil, p.errorf("the random engine cannot draw binomial indexes")
	}
	return deciles{numSamples: int(r), ci: ci, sampler: ds}, nil
}

func (deciles) Name() string   { return "deciles" }
func (deciles) Output() string { return "deciles" }

// orderStatistics reads the order statistics y_0 ≤ … ≤ y_{n−1} of a
// compacted tally without expanding it: y_i = v_k for the first k with
// cum_k = c_0 + … + c_k > i.
type orderStatistics struct {
	values []float64
	counts []int64
	cum    []int64
	n      int64
}

func newOrderStatistics(t Tally) orderStatistics {
	c := t.Compacted()
	cum := make([]int64, len(c.Counts))
	var s int64
	for i, n := range c.Counts {
		s += n
		cum[i] = s
	}
	return orderStatistics{values: c.Values, counts: c.Counts, cum: cum, n: s}
}

// at returns y_i (0 ≤ i < n) by binary search over the cumulative counts.
func (o orderStatistics) at(i int64) float64 {
	k := sort.Search(len(o.cum), func(k int) bool { return o.cum[k] > i })
	return o.values[k]
}

func (d deciles) Estimate(branch string, t Tally, seed uint64) (Estimate, error) {
	if err := checkTally(d.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	os := newOrderStatistics(t)
	reps := d.sampler.decileReplicates(os, decileProbabilities, d.numSamples, seed)
	if want := len(decileProbabilities) * d.numSamples; len(reps) != want {
		return Estimate{}, fmt.Errorf("%s: branch %q: engine returned %d replicates, want %d", d.Name(), branch, len(reps), want)
	}
	return Estimate{Branch: branch, N: os.n, Parameters: slices.Clone(decileLabels), Replicates: reps}, nil
}

func (d deciles) Rows(estimates []Estimate) []Row {
	return parameterRows(d.Name(), d.Output(), d.ci, estimates)
}

// parameterRows is the Rows of a statistic whose estimates carry one set of
// R replicates per parameter (Estimate.Parameters, replicates
// parameter-major): for every parameter, the individual rows and, for
// every ordered pair (b, ref), b ≠ ref, the difference and relative_uplift
// rows, all with bounds at cp = (1 − ci)/2 and 1 − cp. It panics if the
// estimates disagree on the parameters or the replicate count.
func parameterRows(name, output string, ci float64, estimates []Estimate) []Row {
	checkBranches(name, estimates)
	if len(estimates) == 0 {
		return nil
	}
	params := estimates[0].Parameters
	for _, e := range estimates {
		if !slices.Equal(e.Parameters, params) || len(e.Replicates) != len(estimates[0].Replicates) || len(params) == 0 || len(e.Replicates)%len(params) != 0 {
			panic("statistics: " + name + ": Rows got estimates with different parameters or replicate counts (estimates from different statistics?)")
		}
	}
	r := len(estimates[0].Replicates) / len(params)
	block := func(e Estimate, k int) []float64 { return e.Replicates[k*r : (k+1)*r] }
	cp := lowerProbability(ci)
	var rows []Row
	for k, param := range params {
		for _, e := range estimates {
			row := replicateRow(output, e.Branch, ci, block(e, k))
			row.Parameter = param
			rows = append(rows, row)
		}
		for _, f := range estimates {
			for _, ref := range estimates {
				if f.Branch == ref.Branch {
					continue
				}
				fr, rr := block(f, k), block(ref, k)
				diff := make([]float64, r)
				rel := make([]float64, r)
				for i := range fr {
					diff[i] = fr[i] - rr[i]
					rel[i] = fr[i]/rr[i] - 1
				}
				for _, c := range [2]struct {
					name string
					reps []float64
				}{{Difference, diff}, {RelativeUplift, rel}} {
					point, lower, upper := summarize(c.reps, cp, 1-cp)
					rows = append(rows, Row{
						Statistic: output, Parameter: param, Branch: f.Branch,
						Comparison: c.name, ComparisonToBranch: ref.Branch,
						CIWidth: ci, Point: point, Lower: lower, Upper: upper,
					})
				}
			}
		}
	}
	SortRows(rows)
	return rows
}

// paramSeed is the seed of the replicates of parameter label of an
// estimate seeded with seed (Fast engine): Seed(seed, label).
func paramSeed(seed uint64, label string) uint64 { return Seed(seed, label) }

// decileReplicates (Fast engine) draws, for each p, r indexes
// I ~ Binomial(n − 1, p) with numpy's exact inversion/BTPE algorithm on the
// xoshiro256++ blocks of paramSeed(seed, label(p)), where label(p) is
// strconv's shortest form of p ("0.1" … "0.9" for deciles).
func (s fastSampler) decileReplicates(os orderStatistics, ps []float64, r int, seed uint64) []float64 {
	out := make([]float64, 0, len(ps)*r)
	for _, p := range ps {
		b := newBinomialSampler(os.n-1, p)
		label := strconv.FormatFloat(p, 'g', -1, 64)
		reps := s.run(r, paramSeed(seed, label), 8, func(g *rng, out []float64) {
			if os.n == 1 {
				for i := range out {
					out[i] = os.values[0]
				}
				return
			}
			for i := range out {
				out[i] = os.at(b.draw(g))
			}
		})
		out = append(out, reps...)
	}
	return out
}

// decileReplicates (NumpyLegacy engine) replays
// `np.random.seed(seed); [y[np.random.binomial(n − 1, p, r)] for p in ps]`
// with the low 32 bits of seed, as mozanalysis' get_quantile_bootstrap_samples
// draws them for a branch right after seeding.
func (legacySampler) decileReplicates(os orderStatistics, ps []float64, r int, seed uint64) []float64 {
	return legacyDecileReplicates(newMT19937(uint32(seed)), os, ps, r)
}
