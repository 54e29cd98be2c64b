package statistics

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// winsorKernel computes Bayesian-bootstrap replicates of the winsorized mean
// with the threshold taken inside each replicate: with weights w ~ Dirichlet(c)
// over the distinct values v_1 < … < v_K, the replicate is the winsorized mean of
// the weighted distribution F_w,
//
//	τ_w = F_w⁻¹(1 − d) = min{v_k : Σ_{v_j ≤ v_k} w_j ≥ 1 − d},
//	replicate = Σ_k min(v_k, τ_w)·w_k = Σ_k v_k·w_k − Σ_{v_k > τ_w} (v_k − τ_w)·w_k.
//
// This is the Bayesian bootstrap of the statistic "mean of the values clipped at their
// own (1 − d)-quantile". mozanalysis (and the NumpyLegacy engine) instead clips the data
// once, at the sample's quantile, and bootstraps the clipped data: that treats the
// threshold as known, so the intervals miss its sampling noise and are too narrow on
// heavy-tailed metrics (6.7% of the A/A intervals of `jetstream simulate` excluded 0
// instead of 5%; this kernel gives 5%).
//
// The draws are those of dirichletKernel, in the same order; only the values above a
// cut-off (the tail, a little over 2d of the clients: the threshold falls in it unless
// the replicate's tail weight is improbably small) keep their individual draws. When
// the threshold falls below the tail, the replicate is drawn again from the same
// generator state with every value in the tail, so the result is exact either way.
type winsorKernel struct {
	body                *dirichletKernel // the values below the cut-off
	onesTail, multiTail []float64        // the tail's count-1 and count > 1 values, ascending
	tailGam             []gammaSampler   // samplers of multiTail
	order               []int            // tail draw indexes (onesTail then multiTail) by descending value
	drop                float64
	// The whole tally and where its tail starts; full is the kernel whose tail is every
	// value, built on the first fallback (it never happened in the tests at the default
	// tail size, so it must cost nothing until then).
	values   []float64
	counts   []int64
	cut      int
	fullOnce sync.Once
	full     *winsorKernel
}

// bootstrapMeans is bootstrap_mean's replicates on the Fast engine: with drop > 0 the
// threshold is taken inside each replicate (winsorKernel), or once from the sample with
// fixedThreshold (Winsorize, as mozanalysis); with drop = 0 there is none
// (dirichletKernel).
func (s fastSampler) bootstrapMeans(t Tally, drop float64, r int, seed uint64) []float64 {
	return s.bootstrapMeanBlocks(t, drop, r, seed, 0, blocks(r))
}

// bootstrapMeanBlocks is blocks [first, last) of bootstrapMeans.
func (s fastSampler) bootstrapMeanBlocks(t Tally, drop float64, r int, seed uint64, first, last int) []float64 {
	c := t.Compacted()
	if s.fixedThreshold {
		c, drop = Winsorize(c, drop), 0
	}
	if drop == 0 {
		return s.dirichletMeanBlocks(c.Values, c.Counts, r, seed, first, last)
	}
	k := newWinsorKernel(c.Values, c.Counts, drop, s.binVariance)
	return s.runBlocks(r, seed, len(c.Values), first, last, func(g *rng, out []float64) {
		buf := k.newBuffer()
		for i := range out {
			out[i] = k.replicate(g, buf)
		}
	})
}

// tailClients is the number of clients, counted from the highest value, that a
// winsorKernel's tail holds at least: twice the clipped share plus a margin.
func tailClients(n int64, drop float64) int64 {
	return int64(math.Ceil(2*drop*float64(n))) + 64
}

// newWinsorKernel prepares the replicates of a compacted tally for d = drop > 0.
// The body's values are binned with eps (binValues); the tail's are drawn exactly.
func newWinsorKernel(values []float64, counts []int64, drop, eps float64) *winsorKernel {
	var n int64
	for _, c := range counts {
		n += c
	}
	cut, mass := len(values), int64(0)
	for cut > 0 && mass < tailClients(n, drop) {
		cut--
		mass += counts[cut]
	}
	return splitWinsorKernel(values, counts, cut, drop, eps)
}

// splitWinsorKernel builds the kernel whose tail is values[cut:].
func splitWinsorKernel(values []float64, counts []int64, cut int, drop, eps float64) *winsorKernel {
	k := &winsorKernel{body: newBinnedKernel(values[:cut], counts[:cut], eps), drop: drop, values: values, counts: counts, cut: cut}
	for i := cut; i < len(values); i++ {
		if counts[i] == 1 {
			k.onesTail = append(k.onesTail, values[i])
			continue
		}
		k.multiTail = append(k.multiTail, values[i])
		k.tailGam = append(k.tailGam, newGammaSampler(float64(counts[i])))
	}
	k.order = make([]int, len(k.onesTail)+len(k.multiTail))
	for i := range k.order {
		k.order[i] = i
	}
	slices.SortFunc(k.order, func(a, b int) int { return cmp.Compare(k.tailValue(b), k.tailValue(a)) })
	return k
}

// tailValue is the value of tail draw i (onesTail, then multiTail).
func (k *winsorKernel) tailValue(i int) float64 {
	if i < len(k.onesTail) {
		return k.onesTail[i]
	}
	return k.multiTail[i-len(k.onesTail)]
}

// newBuffer returns the scratch space of one goroutine's replicates (a fallback brings
// its own).
func (k *winsorKernel) newBuffer() []float64 { return make([]float64, len(k.order)) }

// fullKernel returns the kernel whose tail is every value, building it once.
func (k *winsorKernel) fullKernel() *winsorKernel {
	if k.cut == 0 {
		return k
	}
	k.fullOnce.Do(func() { k.full = splitWinsorKernel(k.values, k.counts, 0, k.drop, 0) })
	return k.full
}

// replicate draws one replicate into scratch space buf (newBuffer). The generator is
// consumed as by dirichletKernel.replicate over all the values: the body's count-1
// values, the tail's count-1 values, the body's count > 1 values, the tail's.
func (k *winsorKernel) replicate(g *rng, buf []float64) float64 {
	start := *g
	if r, ok := k.tryReplicate(g, buf); ok {
		return r
	}
	*g = start
	full := k.fullKernel()
	r, _ := full.tryReplicate(g, full.newBuffer())
	return r
}

// tryReplicate draws one replicate; ok is false when the threshold falls below the
// tail (only possible when the tail is not every value).
func (k *winsorKernel) tryReplicate(g *rng, buf []float64) (replicate float64, ok bool) {
	var sum, dot float64
	ones, multi := k.body.ones, k.body.multi
	if len(ones) > 0 {
		sa, sb, da, db := k.body.onesSums(g)
		sum, dot = sa+sb, da+db
	}
	buf = buf[:len(k.order)]
	for i, v := range k.onesTail {
		e := g.exp()
		buf[i] = e
		sum += e
		dot += float64(v * e)
	}
	if len(multi) > 0 {
		sum, dot = k.body.multiSums(g, sum, dot)
	}
	sum, dot = k.body.binSums(g, sum, dot)
	for i, v := range k.multiTail {
		x := k.tailGam[i].draw(g)
		buf[len(k.onesTail)+i] = x
		sum += x
		dot += float64(v * x)
	}
	// Walk the tail from the top: the threshold is the first value whose own weight
	// would take the weight above it past d·Σg.
	limit := float64(k.drop * sum)
	var above, excess float64
	for j, i := range k.order {
		w := buf[i]
		if above+w > limit {
			tau := k.tailValue(i)
			for _, h := range k.order[:j] {
				excess += float64((k.tailValue(h) - tau) * buf[h])
			}
			return (dot - excess) / sum, true
		}
		above += w
	}
	return math.NaN(), k.cut == 0
}
