package statistics

import "math"

// This file is the NumpyLegacy engine: a port of the parts of numpy's
// legacy RandomState that mozanalysis uses (numpy/random/src/mt19937 and
// numpy/random/src/legacy/legacy-distributions.c), written from their
// published algorithms.

// MT19937 parameters.
const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// mt19937 is numpy's legacy generator state, including the cached second
// normal of the polar Box–Muller method (part of the stream state).
type mt19937 struct {
	key      [mtN]uint32
	pos      int
	hasGauss bool
	gauss    float64
}

// newMT19937 seeds like numpy's RandomState(seed) for an integer seed
// (the classic init_genrand, not init_by_array):
//
//	key[0] = seed, key[i] = 1812433253·(key[i−1] ⊕ key[i−1]≫30) + i.
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{pos: mtN}
	m.key[0] = seed
	for i := 1; i < mtN; i++ {
		prev := m.key[i-1]
		m.key[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// twist regenerates the 624-word state.
func (m *mt19937) twist() {
	mix := func(a, b, c uint32) uint32 {
		y := (a & mtUpperMask) | (b & mtLowerMask)
		return c ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
	}
	i := 0
	for ; i < mtN-mtM; i++ {
		m.key[i] = mix(m.key[i], m.key[i+1], m.key[i+mtM])
	}
	for ; i < mtN-1; i++ {
		m.key[i] = mix(m.key[i], m.key[i+1], m.key[i+mtM-mtN])
	}
	m.key[mtN-1] = mix(m.key[mtN-1], m.key[0], m.key[mtM-1])
	m.pos = 0
}

// uint32 returns the next tempered 32-bit output.
func (m *mt19937) uint32() uint32 {
	if m.pos == mtN {
		m.twist()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// double returns (a≫5·2²⁶ + b≫6)/2⁵³ from two outputs a, b: a uniform in [0, 1).
func (m *mt19937) double() float64 {
	a := m.uint32() >> 5
	b := m.uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) / 9007199254740992.0
}

// boundedUint32 is numpy's legacy masked-rejection bounded integer in
// [0, hi]: draw 32-bit words, AND them with the smallest all-ones mask
// covering hi, retry while the result exceeds hi. hi == 0 draws nothing.
// `np.random.randint(4294967295)` is boundedUint32(4294967294).
func (m *mt19937) boundedUint32(hi uint32) uint32 {
	if hi == 0 {
		return 0
	}
	mask := hi
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := m.uint32() & mask; v <= hi {
			return v
		}
	}
}

// gaussian is legacy_gauss, the polar Box–Muller method: with
// x1, x2 = 2U − 1 and r² = x1² + x2² ∈ (0, 1), f = √(−2 ln r² / r²);
// return f·x2 and cache f·x1 for the next call.
func (m *mt19937) gaussian() float64 {
	if m.hasGauss {
		m.hasGauss = false
		g := m.gauss
		m.gauss = 0
		return g
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*m.double() - 1
		x2 = 2*m.double() - 1
		r2 = float64(x1*x1) + float64(x2*x2)
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * math.Log(r2) / r2)
	m.gauss = f * x1
	m.hasGauss = true
	return f * x2
}

// standardExp is legacy_standard_exponential: −log(1 − U).
func (m *mt19937) standardExp() float64 { return -math.Log(1 - m.double()) }

// standardGamma is legacy_standard_gamma(shape).
func (m *mt19937) standardGamma(shape float64) float64 {
	switch {
	case shape == 1:
		return m.standardExp()
	case shape == 0:
		return 0
	case shape < 1:
		for {
			u := m.double()
			v := m.standardExp()
			if u <= 1-shape {
				x := math.Pow(u, 1/shape)
				if x <= v {
					return x
				}
			} else {
				y := -math.Log((1 - u) / shape)
				x := math.Pow(1-shape+float64(shape*y), 1/shape)
				if x <= v+y {
					return x
				}
			}
		}
	}
	b := shape - 1.0/3
	c := 1 / math.Sqrt(9*b)
	for {
		var x, v float64
		for {
			x = m.gaussian()
			v = 1 + float64(c*x)
			if v > 0 {
				break
			}
		}
		v = v * v * v
		u := m.double()
		if u < 1-float64(0.0331*float64(x*x)*float64(x*x)) {
			return b * v
		}
		if math.Log(u) < float64(0.5*x*x)+float64(b*(1-v+math.Log(v))) {
			return b * v
		}
	}
}

// beta is legacy_beta(a, b): Jöhnk's algorithm when a ≤ 1 and b ≤ 1,
// otherwise X/(X + Y) with X = gamma(a) drawn before Y = gamma(b).
func (m *mt19937) beta(a, b float64) float64 {
	if a <= 1 && b <= 1 {
		for {
			u := m.double()
			v := m.double()
			x := math.Pow(u, 1/a)
			y := math.Pow(v, 1/b)
			if x+y <= 1 {
				if x+y > 0 {
					return x / (x + y)
				}
				lx := math.Log(u) / a
				ly := math.Log(v) / b
				lm := max(lx, ly)
				lx -= lm
				ly -= lm
				return math.Exp(lx - math.Log(math.Exp(lx)+math.Exp(ly)))
			}
		}
	}
	x := m.standardGamma(a)
	y := m.standardGamma(b)
	return x / (x + y)
}

// legacySampler is the NumpyLegacy engine. It uses the low 32 bits of the
// seed as RandomState(seed) and draws every replicate from that one stream.
type legacySampler struct{}

// bootstrapMeans replays mozanalysis' bootstrap_mean: the data clipped once at the
// sample's (1 − drop)-quantile (Winsorize), then dirichletMeans.
func (l legacySampler) bootstrapMeans(t Tally, drop float64, r int, seed uint64) []float64 {
	w := Winsorize(t, drop)
	return l.dirichletMeans(w.Values, w.Counts, r, seed)
}

// dirichletMeans replays `[np.dot(v, rs.dirichlet(c)) for _ in range(r)]`
// with rs = RandomState(seed): per replicate, g_k = standard_gamma(c_k) in
// ascending value order, w_k = g_k·(1/Σg) (reciprocal of the left-to-right
// sum, as numpy does), replicate = Σ_k v_k·w_k (left to right; np.dot's
// BLAS order may differ by a few ulps).
func (legacySampler) dirichletMeans(values []float64, counts []int64, r int, seed uint64) []float64 {
	m := newMT19937(uint32(seed))
	alpha := make([]float64, len(counts))
	for i, c := range counts {
		alpha[i] = float64(c)
	}
	g := make([]float64, len(values))
	out := make([]float64, r)
	for i := range out {
		acc := 0.0
		for k, a := range alpha {
			g[k] = m.standardGamma(a)
			acc += g[k]
		}
		inv := 1 / acc
		dot := 0.0
		for k, v := range values {
			dot += float64(v * float64(g[k]*inv))
		}
		out[i] = dot
	}
	return out
}

// betas replays RandomState(seed).beta(a, b, size=r).
func (legacySampler) betas(a, b float64, r int, seed uint64) []float64 {
	m := newMT19937(uint32(seed))
	out := make([]float64, r)
	for i := range out {
		out[i] = m.beta(a, b)
	}
	return out
}
