package statistics

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Engine names a random engine: the generator and the algorithms that turn
// its output into replicates.
type Engine string

const (
	// Fast is the default engine: xoshiro256++ streams, ziggurat
	// exponentials and normals, Marsaglia–Tsang gammas. The R replicates of
	// an estimate are split into blocks of BlockSize; block j draws from its
	// own stream seeded with blockSeed(seed, j), and blocks run in parallel.
	// Results are bit-identical whatever the number of goroutines.
	Fast Engine = "fast"
	// NumpyLegacy replays numpy's legacy RandomState (MT19937 seeded with
	// init_genrand from the low 32 bits of the seed, legacy gamma/Dirichlet/
	// beta), as mozanalysis uses it. Given the per-branch seed mozanalysis
	// drew, bootstrap_mean replicates match mozanalysis bit for bit (up to
	// the summation order of np.dot). It is sequential and slower than Fast.
	NumpyLegacy Engine = "numpy-legacy"
)

// BlockSize is the number of replicates drawn from one random stream by
// the Fast engine. It is part of the definition of the results: changing it
// changes every Monte-Carlo number.
const BlockSize = 256

// parallelWork is the work (replicates × draws per replicate) above which
// an estimate is computed by several goroutines.
const parallelWork = 1 << 20

// sampler draws the Monte-Carlo replicates of the sampling statistics.
// Implementations must be safe for concurrent use and deterministic:
// results depend only on the arguments.
type sampler interface {
	// bootstrapMeans returns r Bayesian-bootstrap replicates of the mean of a
	// tally winsorized at its (1 − drop)-quantile (no clipping when drop is 0):
	// Σ_k min(v_k, τ)·w_k with w ~ Dirichlet(c_1, …, c_K). The engines differ in
	// where τ is taken: see fastSampler.bootstrapMeans and legacySampler's.
	bootstrapMeans(t Tally, drop float64, r int, seed uint64) []float64
	// betas returns r draws from Beta(a, b).
	betas(a, b float64, r int, seed uint64) []float64
}

// newSampler returns the sampler of the options' engine ("" means Fast).
func newSampler(opts Options) (sampler, error) {
	switch e := opts.Engine; e {
	case Fast, "":
		eps := DefaultBinVariance
		if opts.ExactBootstrap {
			eps = 0
		}
		return fastSampler{workers: opts.Workers, fixedThreshold: opts.FixedThreshold, binVariance: eps}, nil
	case NumpyLegacy:
		return legacySampler{}, nil
	}
	return nil, fmt.Errorf("unknown random engine %q (known: %q, %q)", opts.Engine, Fast, NumpyLegacy)
}

// fastSampler is the Fast engine.
type fastSampler struct {
	workers        int     // maximum goroutines; 0 means runtime.GOMAXPROCS(0)
	fixedThreshold bool    // bootstrap_mean clips once, as mozanalysis (Options.FixedThreshold)
	binVariance    float64 // bootstrap_mean's ε (binValues); 0 draws every value exactly
}

// run fills r replicates block by block: block j covers replicates
// [j·BlockSize, (j+1)·BlockSize) and draws from newRNG(blockSeed(seed, j)).
// cost is the number of draws per replicate; large jobs run on up to
// s.workers goroutines. The result does not depend on the goroutine count.
func (s fastSampler) run(r int, seed uint64, cost int, fill func(g *rng, out []float64)) []float64 {
	return s.runBlocks(r, seed, cost, 0, blocks(r), fill)
}

// blocks is the number of blocks of r replicates.
func blocks(r int) int { return (r + BlockSize - 1) / BlockSize }

// runBlocks fills blocks [first, last) of the r replicates run would fill, and only those:
// the replicates of a block depend on its index alone, so pieces computed apart join into
// exactly run's result.
func (s fastSampler) runBlocks(r int, seed uint64, cost, first, last int, fill func(g *rng, out []float64)) []float64 {
	lo, hi := first*BlockSize, min(last*BlockSize, r)
	out := make([]float64, hi-lo)
	nb := last - first
	block := func(i int) {
		j := first + i
		g := newRNG(blockSeed(seed, j))
		fill(&g, out[j*BlockSize-lo:min((j+1)*BlockSize, r)-lo])
	}
	workers := goroutines(hi-lo, cost, s.workers)
	if workers == 1 {
		for j := range nb {
			block(j)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= nb {
					return
				}
				block(j)
			}
		})
	}
	wg.Wait()
	return out
}

// goroutines returns how many goroutines compute r replicates costing
// cost draws each, given a limit (0 = runtime.GOMAXPROCS(0)): one for small
// jobs (fewer than parallelWork draws), otherwise up to one per block.
func goroutines(r, cost, limit int) int {
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	nb := (r + BlockSize - 1) / BlockSize
	if r*max(cost, 1) < parallelWork {
		return 1
	}
	return max(1, min(limit, nb))
}

func (s fastSampler) dirichletMeans(values []float64, counts []int64, r int, seed uint64) []float64 {
	return s.dirichletMeanBlocks(values, counts, r, seed, 0, blocks(r))
}

// dirichletMeanBlocks is blocks [first, last) of dirichletMeans.
func (s fastSampler) dirichletMeanBlocks(values []float64, counts []int64, r int, seed uint64, first, last int) []float64 {
	k := newBinnedKernel(values, counts, s.binVariance)
	return s.runBlocks(r, seed, len(values), first, last, func(g *rng, out []float64) {
		for i := range out {
			out[i] = k.replicate(g)
		}
	})
}

func (s fastSampler) betas(a, b float64, r int, seed uint64) []float64 {
	bs := newBetaSampler(a, b)
	return s.run(r, seed, 2, func(g *rng, out []float64) {
		for i := range out {
			out[i] = bs.draw(g)
		}
	})
}

// dirichletKernel computes Bayesian-bootstrap replicates of the mean of a
// tally. With g_k ~ Gamma(c_k, 1) independent, w = g/Σg ~ Dirichlet(c), so
//
//	replicate = Σ_k v_k·w_k = (Σ_k v_k·g_k) / (Σ_k g_k).
//
// Values with multiplicity 1 (most values of a continuous metric) take the
// fast path g_k ~ Exp(1); the others use their precomputed gamma samplers.
// The draw order within a replicate is: the multiplicity-1 values in
// ascending order, then the others in ascending order.
type dirichletKernel struct {
	ones  []float64 // values with count 1
	multi []float64 // values with count > 1
	gam   []gammaSampler
	nExp  []int32    // gam[i].nExp: > 0 when multi[i]'s gamma is a sum of exponentials
	mt    []mtConst  // gam[i]'s Marsaglia–Tsang constants (when nExp[i] = 0)
	bins  []valueBin // runs of values drawn as one (newBinnedKernel), after the others
}

// mtConst is a gammaSampler's Marsaglia–Tsang constants, packed for multiRun.
type mtConst struct{ c, d float64 }

func newDirichletKernel(values []float64, counts []int64) *dirichletKernel {
	k := &dirichletKernel{}
	for i, v := range values {
		if counts[i] == 1 {
			k.ones = append(k.ones, v)
			continue
		}
		k.multi = append(k.multi, v)
		gs := newGammaSampler(float64(counts[i]))
		k.gam = append(k.gam, gs)
		k.nExp = append(k.nExp, int32(gs.nExp))
		k.mt = append(k.mt, mtConst{c: gs.c, d: gs.d})
	}
	return k
}

// replicate draws one replicate. The multiplicity-1 values go through
// expRun, the hot loop of the package (one draw per distinct value per
// replicate), which stops at the first draw that misses the ziggurat's
// fast path; the miss is finished here with rng.expSlow and the run
// resumes after it. The generator is thus consumed exactly as by calls of
// rng.exp in the documented order. Keeping the rare call out of the hot
// loop lets the compiler keep the generator state and the sums in
// registers (with the call inside the loop it spilled and reloaded them
// on every iteration).
//
// Summation order (fixed, so results are bit-identical everywhere): each
// run between two misses is summed left to right by expRun, the run sums
// are added in order to sa/da, the misses and the multiplicity > 1 values
// to sb/db; the replicate is (da + db)/(sa + sb). The explicit conversions
// forbid fused multiply-adds so results are identical on every platform.
func (k *dirichletKernel) replicate(g *rng) float64 {
	sa, sb, da, db := k.onesSums(g)
	sb, db = k.multiSums(g, sb, db)
	sb, db = k.binSums(g, sb, db)
	return (da + db) / (sa + sb)
}

// multiSums adds the multiplicity > 1 values' gamma draws g_k to the sums sb (Σg) and db
// (Σv·g), value by value in ascending order, exactly as the loop
//
//	for i, v := range k.multi { x := k.gam[i].draw(g); sb += x; db += v·x }
//
// would, bit for bit and draw for draw. The common case of every draw — the ziggurat's
// fast path, and for Marsaglia–Tsang v > 0 and the squeeze — runs inlined in multiRun;
// the rest is finished here. Through gammaSampler.draw's calls, counts of 2 and 3 cost
// 19–28 ns a value and larger counts 11 ns.
func (k *dirichletKernel) multiSums(g *rng, sb, db float64) (float64, float64) {
	multi := k.multi
	for i := 0; i < len(multi); {
		var stop int
		var m multiMiss
		g.s0, g.s1, g.s2, g.s3, sb, db, stop, m = multiRun(multi[i:], k.nExp[i:], k.mt[i:], g.s0, g.s1, g.s2, g.s3, sb, db)
		i += stop
		if m.kind == multiDone {
			break
		}
		x := k.finish(g, i, m)
		sb += x
		db += float64(multi[i] * x)
		i++
	}
	return sb, db
}

// finish completes the draw of multi value i that multiRun left at m.
func (k *dirichletKernel) finish(g *rng, i int, m multiMiss) float64 {
	gs := &k.gam[i]
	switch m.kind {
	case multiExpMiss: // exponential number m.done of a sum missed the fast path
		x := m.part + g.expSlow(m.u)
		for range int(k.nExp[i]) - m.done - 1 {
			x += g.exp()
		}
		return x
	case multiNormMiss: // the normal missed the fast path
		return gs.marsagliaTsang(g, g.normSlow(m.u))
	case multiSqueeze: // v > 0 and the squeeze failed: the full test, else a fresh try
		v := 1 + float64(gs.c*m.z)
		v = float64(v * v * v)
		if x, ok := gs.accept(m.z, v, float64(m.u>>11)*0x1p-53); ok {
			return x
		}
	}
	return gs.marsagliaTsang(g, g.norm()) // v ≤ 0 or rejected: the next try
}

// multiMiss says where multiRun stopped.
type multiMiss struct {
	kind int     // multiDone, multiExpMiss, multiNormMiss, multiNonPositive, multiSqueeze
	done int     // multiExpMiss: exponentials of the value already summed into part
	part float64 // multiExpMiss: their sum
	z    float64 // multiSqueeze: the normal
	u    uint64  // multiExpMiss, multiNormMiss: the missing draw's bits; multiSqueeze: the uniform's
}

const (
	multiDone = iota
	multiExpMiss
	multiNormMiss
	multiNonPositive
	multiSqueeze
)

// multiRun draws, for the values c_0, c_1, … in order, x_i ~ Gamma(count_i) — the sum of
// n_i exponentials when n_i > 0, else Marsaglia–Tsang with constants mt_i — with rng.exp,
// rng.norm and rng.uniform inlined as in expRun, and adds x_i to sb and c_i·x_i to db. It
// stops at the first draw that leaves the common path (stop = that value's index, miss
// says where; dirichletKernel.finish completes it) or at the end (stop = len(c),
// multiDone). No calls, so that the state and sums stay in registers; hence noinline.
//
//go:noinline
func multiRun(c []float64, n []int32, mt []mtConst, s0, s1, s2, s3 uint64, sb, db float64) (r0, r1, r2, r3 uint64, sumB, dotB float64, stop int, miss multiMiss) {
	for i, v := range c {
		var x float64
		if m := int(n[i]); m > 0 {
			for k := range m {
				var u uint64
				u, s0, s1, s2, s3 = xoshiroStep(s0, s1, s2, s3)
				l := u & zigExpMask
				j := u >> 11
				if j >= expK[l] {
					return s0, s1, s2, s3, sb, db, i, multiMiss{kind: multiExpMiss, done: k, part: x, u: u}
				}
				e := float64(float64(j) * expW[l])
				if k == 0 {
					x = e
				} else {
					x += e
				}
			}
		} else {
			// rng.norm's fast path.
			var u uint64
			u, s0, s1, s2, s3 = xoshiroStep(s0, s1, s2, s3)
			z, fast := normFast(u)
			if !fast {
				return s0, s1, s2, s3, sb, db, i, multiMiss{kind: multiNormMiss, u: u}
			}
			w := 1 + float64(mt[i].c*z)
			if w <= 0 {
				return s0, s1, s2, s3, sb, db, i, multiMiss{kind: multiNonPositive}
			}
			w = float64(w * w * w)
			// rng.uniform and the squeeze.
			u, s0, s1, s2, s3 = xoshiroStep(s0, s1, s2, s3)
			z2 := z * z
			if float64(u>>11)*0x1p-53 >= 1-float64(0.0331*z2*z2) {
				return s0, s1, s2, s3, sb, db, i, multiMiss{kind: multiSqueeze, z: z, u: u}
			}
			x = float64(mt[i].d * w)
		}
		sb += x
		db += float64(v * x)
	}
	return s0, s1, s2, s3, sb, db, len(c), multiMiss{}
}

// onesSums draws the multiplicity-1 values' exponentials: sa and da are the sums of
// the runs' Σe and Σv·e, sb and db those of the misses (see replicate).
func (k *dirichletKernel) onesSums(g *rng) (sa, sb, da, db float64) {
	ones := k.ones
	for len(ones) > 0 {
		var sum, dot float64
		var i int
		var u uint64
		g.s0, g.s1, g.s2, g.s3, sum, dot, i, u = expRun(ones, g.s0, g.s1, g.s2, g.s3)
		sa += sum
		da += dot
		if i >= len(ones) {
			break
		}
		e := g.expSlow(u)
		sb += e
		db += float64(ones[i] * e)
		ones = ones[i+1:]
	}
	return sa, sb, da, db
}

// expRun draws e_i ~ Exp(1) for the values c_0, c_1, … in order — rng.exp
// inlined by hand (xoshiroStep is inlined by the compiler), with the xoshiro256++ state (s0, s1, s2, s3) passed and
// returned by value — and returns the new state, Σ e_i and Σ c_i·e_i
// (summed left to right) over the values before the first draw that
// misses the ziggurat's fast path, the index i of that value (len(c) if
// none) and its 64 random bits u, to be finished with rng.expSlow(u). It
// must contain no call, so that the compiler keeps everything in
// registers; hence also noinline.
//
//go:noinline
func expRun(c []float64, s0, s1, s2, s3 uint64) (r0, r1, r2, r3 uint64, sum, dot float64, miss int, missU uint64) {
	for i, v := range c {
		var u uint64
		u, s0, s1, s2, s3 = xoshiroStep(s0, s1, s2, s3)
		// Ziggurat fast path (rng.exp).
		l := u & zigExpMask
		j := u >> 11
		if j >= expK[l] {
			return s0, s1, s2, s3, sum, dot, i, u
		}
		e := float64(float64(j) * expW[l]) // rounded: no FMA into sum
		sum += e
		dot += float64(v * e)
	}
	return s0, s1, s2, s3, sum, dot, len(c), 0
}
