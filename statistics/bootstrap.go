package statistics

import "fmt"

// bootstrapMean is Jetstream's `bootstrap_mean` (mozanalysis
// bayesian_stats.bayesian_bootstrap.compare_branches), output "mean".
//
// Per branch, with values x_1..x_n tallied as distinct values v_1 < … < v_K
// with counts c_1..c_K, R Bayesian-bootstrap replicates of the mean of the
// values winsorized at the branch's own (1 − drop_highest)-quantile:
//
//	m_r = Σ_k min(v_k, τ)·w_k,  w ~ Dirichlet(c_1, …, c_K)
//
// (by the aggregation property this equals Rubin's bootstrap over the n
// clients, at O(K) per replicate). No clipping when drop_highest = 0. Where
// τ is taken depends on the engine:
//
//   - Fast (the default): inside each replicate, τ = the (1 − drop_highest)-
//     quantile of the replicate's weighted distribution (winsorKernel), so
//     the interval includes the threshold's own sampling noise;
//   - NumpyLegacy: once, τ = Q(x, 1 − drop_highest) (numpy type-7), as
//     mozanalysis does (Winsorize). On heavy-tailed metrics its intervals are
//     too narrow: 6.7% of A/A intervals exclude 0 instead of 5% (README,
//     "Statistical validity").
//
// Rows: individual point = mean(m), bounds = Q(m, cp), Q(m, 1 − cp) with
// cp = (1 − ci)/2; comparisons pair replicate i of the focus branch with
// replicate i of the reference (see comparisonRows), with bounds only for
// ci ∈ {0.95, 0.99} (mozanalysis' comparative quantiles are fixed to
// DEFAULT_QUANTILES). The point is the mean of the replicates, not the
// sample mean.
type bootstrapMean struct {
	numSamples  int
	dropHighest float64
	ci          float64
	sampler     sampler
}

// newBootstrapMean reads num_samples (default 10000, ≥ 1), drop_highest
// (default 0.005, in [0, 0.5]: mozanalysis needs its threshold quantile
// 1 − drop_highest in [0.5, 1]) and confidence_interval (default 0.95, in
// (0, 1)).
func newBootstrapMean(p *paramReader, s sampler) (Statistic, error) {
	r, drop, ci, err := p.resampling()
	if err != nil {
		return nil, err
	}
	return bootstrapMean{numSamples: r, dropHighest: drop, ci: ci, sampler: s}, nil
}

// resampling reads the parameters bootstrap_mean and population_ratio share:
// num_samples (default 10000, ≥ 1), drop_highest (default 0.005, in [0, 0.5]:
// mozanalysis needs its threshold quantile 1 − drop_highest in [0.5, 1]) and
// confidence_interval (default 0.95, in (0, 1)).
func (p *paramReader) resampling() (numSamples int, dropHighest, ci float64, err error) {
	r, err := p.integer("num_samples", 10000, 1, 1<<31-1)
	if err != nil {
		return 0, 0, 0, err
	}
	if dropHighest, err = p.real("drop_highest", 0.005, interval{lo: 0, hi: 0.5}); err != nil {
		return 0, 0, 0, err
	}
	if ci, err = p.confidenceInterval(); err != nil {
		return 0, 0, 0, err
	}
	return int(r), dropHighest, ci, nil
}

func (bootstrapMean) Name() string   { return "bootstrap_mean" }
func (bootstrapMean) Output() string { return "mean" }

// Winsorize returns the tally mozanalysis' bootstrap_mean resamples (and the
// NumpyLegacy engine): t clipped from above at its own quantile
// Q(1 − dropHighest), or t itself (compacted) when dropHighest is 0.
func Winsorize(t Tally, dropHighest float64) Tally {
	if dropHighest == 0 {
		return t.Compacted()
	}
	return t.Clip(t.Quantile(1 - dropHighest))
}

func (b bootstrapMean) Estimate(branch string, t Tally, seed uint64) (Estimate, error) {
	if err := checkTally(b.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	reps := b.sampler.bootstrapMeans(t, b.dropHighest, b.numSamples, seed)
	if len(reps) != b.numSamples {
		return Estimate{}, fmt.Errorf("%s: branch %q: engine returned %d replicates, want %d", b.Name(), branch, len(reps), b.numSamples)
	}
	return Estimate{Branch: branch, N: t.N(), Replicates: reps}, nil
}

func (b bootstrapMean) Rows(estimates []Estimate) []Row {
	return comparativeRows(b.Name(), b.Output(), b.ci, estimates)
}

// Sharded is a statistic whose replicates can be computed in pieces, so that a big cell's
// bootstrap can be spread over workers: Blocks blocks of BlockSize replicates, any range of
// which EstimateBlocks computes; JoinBlocks of the pieces in order is exactly Estimate.
type Sharded interface {
	Statistic
	Blocks() int
	EstimateBlocks(branch string, t Tally, seed uint64, first, last int) (Estimate, error)
}

// Blocks is the number of replicate blocks of one estimate.
func (b bootstrapMean) Blocks() int { return blocks(b.numSamples) }

// EstimateBlocks is the replicates of blocks [first, last) of Estimate. Only the Fast engine
// draws by blocks; the numpy-legacy stream is one sequence and cannot be split.
func (b bootstrapMean) EstimateBlocks(branch string, t Tally, seed uint64, first, last int) (Estimate, error) {
	fs, ok := b.sampler.(fastSampler)
	if !ok {
		return Estimate{}, fmt.Errorf("%s: only the Fast engine computes replicates in blocks", b.Name())
	}
	if first < 0 || last > b.Blocks() || first >= last {
		return Estimate{}, fmt.Errorf("%s: blocks [%d, %d) out of [0, %d)", b.Name(), first, last, b.Blocks())
	}
	if err := checkTally(b.Name(), branch, t, true); err != nil {
		return Estimate{}, err
	}
	return Estimate{Branch: branch, N: t.N(), Replicates: fs.bootstrapMeanBlocks(t, b.dropHighest, b.numSamples, seed, first, last)}, nil
}

// JoinBlocks joins the estimates of one branch's consecutive block ranges, given in order.
func JoinBlocks(parts []Estimate) Estimate {
	if len(parts) == 0 {
		return Estimate{}
	}
	e := Estimate{Branch: parts[0].Branch, N: parts[0].N}
	for _, p := range parts {
		e.Replicates = append(e.Replicates, p.Replicates...)
	}
	return e
}
