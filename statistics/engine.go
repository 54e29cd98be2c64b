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
	// dirichletMeans returns r replicates of Σ_k v_k·w_k with
	// w ~ Dirichlet(c_1, …, c_K) (the Bayesian-bootstrap mean).
	dirichletMeans(values []float64, counts []int64, r int, seed uint64) []float64
	// betas returns r draws from Beta(a, b).
	betas(a, b float64, r int, seed uint64) []float64
}

// newSampler returns the sampler of an engine ("" means Fast).
func newSampler(e Engine, workers int) (sampler, error) {
	switch e {
	case Fast, "":
		return fastSampler{workers: workers}, nil
	case NumpyLegacy:
		return legacySampler{}, nil
	}
	return nil, fmt.Errorf("unknown random engine %q (known: %q, %q)", e, Fast, NumpyLegacy)
}

// fastSampler is the Fast engine.
type fastSampler struct {
	workers int // maximum goroutines; 0 means runtime.GOMAXPROCS(0)
}

// run fills r replicates block by block: block j covers replicates
// [j·BlockSize, (j+1)·BlockSize) and draws from newRNG(blockSeed(seed, j)).
// cost is the number of draws per replicate; large jobs run on up to
// s.workers goroutines. The result does not depend on the goroutine count.
func (s fastSampler) run(r int, seed uint64, cost int, fill func(g *rng, out []float64)) []float64 {
	out := make([]float64, r)
	nb := (r + BlockSize - 1) / BlockSize
	block := func(j int) {
		g := newRNG(blockSeed(seed, j))
		fill(&g, out[j*BlockSize:min((j+1)*BlockSize, r)])
	}
	workers := s.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, nb)
	if workers <= 1 || r*max(cost, 1) < parallelWork {
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

func (s fastSampler) dirichletMeans(values []float64, counts []int64, r int, seed uint64) []float64 {
	k := newDirichletKernel(values, counts)
	return s.run(r, seed, len(values), func(g *rng, out []float64) {
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
}

func newDirichletKernel(values []float64, counts []int64) *dirichletKernel {
	k := &dirichletKernel{}
	for i, v := range values {
		if counts[i] == 1 {
			k.ones = append(k.ones, v)
			continue
		}
		k.multi = append(k.multi, v)
		k.gam = append(k.gam, newGammaSampler(float64(counts[i])))
	}
	return k
}

// replicate draws one replicate. Two interleaved accumulator pairs shorten
// the floating-point dependency chains; the explicit conversions forbid
// fused multiply-adds so results are identical on every platform.
func (k *dirichletKernel) replicate(g *rng) float64 {
	var s0, s1, d0, d1 float64
	ones := k.ones
	n := len(ones) &^ 1
	for i := 0; i < n; i += 2 {
		e0 := g.exp()
		e1 := g.exp()
		s0 += e0
		d0 += float64(ones[i] * e0)
		s1 += e1
		d1 += float64(ones[i+1] * e1)
	}
	if n < len(ones) {
		e := g.exp()
		s0 += e
		d0 += float64(ones[n] * e)
	}
	for i, v := range k.multi {
		x := k.gam[i].draw(g)
		s1 += x
		d1 += float64(v * x)
	}
	return (d0 + d1) / (s0 + s1)
}
