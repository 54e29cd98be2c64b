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
// The draws are those of dirichletKernel, in the same order, except at the top. Only the
// clients around the (1 − d)-quantile, d·n ± (8·√(d·n) + 64) counted from the highest
// value (the tail), keep their individual draws: the threshold falls among them unless
// the replicate's weights are 8 standard deviations from their mean. The clients above
// them (the top) are clipped to τ in every such replicate, so only their total weight
// matters: one Gamma(n_top) draw, last, instead of n_top draws (n_top = d·n − 8·√(d·n)
// − 64, when positive; at 1M clients and d = 0.005 the tail is 1,260 clients instead of
// 10,064). When the threshold falls outside the tail, the replicate is drawn again from
// the same generator state with every value in the tail, so the result is exact either
// way (the sum of Gamma(cᵢ) draws is a Gamma(Σ cᵢ) draw).
type winsorKernel struct {
	body                *dirichletKernel // the values below the cut-off
	onesTail, multiTail []float64        // the tail's count-1 and count > 1 values, ascending
	tailGam             []gammaSampler   // samplers of multiTail
	order               []int            // tail draw indexes (onesTail then multiTail) by descending value
	top                 *gammaSampler    // the top's total weight; nil without a top
	drop                float64
	// The whole tally, where its tail starts and where its top starts; full is the kernel
	// whose tail is every value, built on the first fallback (it never happened in the
	// tests at the default tail size, so it must cost nothing until then).
	values   []float64
	counts   []int64
	cut      int
	topCut   int
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
// winsorKernel's tail and top hold at least: the clipped share d·n plus a margin of 8
// standard deviations of the clients above the threshold (√(d·n)) and 64, or twice the
// clipped share when that is less.
func tailClients(n int64, drop float64) int64 {
	dn := drop * float64(n)
	return int64(math.Ceil(min(2*dn, dn+8*math.Sqrt(dn)))) + 64
}

// topClients is the number of clients, counted from the highest value, that a
// winsorKernel's top holds at most: the clipped share minus the same margin (≤ 0: no top).
func topClients(n int64, drop float64) int64 {
	dn := drop * float64(n)
	return int64(math.Floor(dn-8*math.Sqrt(dn))) - 64
}

// newWinsorKernel prepares the replicates of a compacted tally for d = drop > 0.
// The body's values are binned with eps (binValues); the tail's are drawn exactly.
func newWinsorKernel(values []float64, counts []int64, drop, eps float64) *winsorKernel {
	var n int64
	for _, c := range counts {
		n += c
	}
	top, tail := topClients(n, drop), tailClients(n, drop)
	topCut, mass := len(values), int64(0)
	for topCut > 0 && mass+counts[topCut-1] <= top {
		topCut--
		mass += counts[topCut]
	}
	cut := topCut
	for cut > 0 && mass < tail {
		cut--
		mass += counts[cut]
	}
	return splitWinsorKernel(values, counts, cut, topCut, drop, eps)
}

// splitWinsorKernel builds the kernel whose tail is values[cut:topCut] and whose top is
// values[topCut:] (topCut = len(values): no top).
func splitWinsorKernel(values []float64, counts []int64, cut, topCut int, drop, eps float64) *winsorKernel {
	k := &winsorKernel{body: newBinnedKernel(values[:cut], counts[:cut], eps), drop: drop, values: values, counts: counts, cut: cut, topCut: topCut}
	if topCut < len(values) {
		var n int64
		for _, c := range counts[topCut:] {
			n += c
		}
		g := newGammaSampler(float64(n))
		k.top = &g
	}
	for i := cut; i < topCut; i++ {
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

// exact reports whether k's tail is every value (no body, no top): the threshold always
// falls in it.
func (k *winsorKernel) exact() bool { return k.cut == 0 && k.top == nil }

// fullKernel returns the kernel whose tail is every value, building it once.
func (k *winsorKernel) fullKernel() *winsorKernel {
	if k.exact() {
		return k
	}
	k.fullOnce.Do(func() { k.full = splitWinsorKernel(k.values, k.counts, 0, len(k.values), k.drop, 0) })
	return k.full
}

// replicate draws one replicate into scratch space buf (newBuffer). The generator is
// consumed as by dirichletKernel.replicate over the values below the top: the body's
// count-1 values, the tail's count-1 values, the body's count > 1 values (and bins), the
// tail's; then the top's total weight.
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
// tail or in the top (only possible when the tail is not every value).
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
	var top float64
	if k.top != nil {
		top = k.top.draw(g)
		sum += top
	}
	// Walk the tail from the top: the threshold is the first value whose own weight
	// would take the weight above it past d·Σg. The top's values are all above it, each
	// clipped to τ: they add τ·(their weight).
	limit := float64(k.drop * sum)
	if top > limit {
		return math.NaN(), false // the threshold is in the top
	}
	above, excess := top, 0.0
	for j, i := range k.order {
		w := buf[i]
		if above+w > limit {
			tau := k.tailValue(i)
			for _, h := range k.order[:j] {
				excess += float64((k.tailValue(h) - tau) * buf[h])
			}
			return (dot - excess + float64(tau*top)) / sum, true
		}
		above += w
	}
	return math.NaN(), k.exact()
}
