package statistics

import (
	"math"
	"math/bits"
)

// rng is the "fast" engine's generator: xoshiro256++ (Blackman & Vigna,
// 2019), period 2²⁵⁶ − 1, seeded from a 64-bit seed through SplitMix64 as
// its authors recommend. The distributions built on it (exp, norm, gamma,
// beta) are this package's own code, so their streams do not depend on the
// Go release.
type rng struct{ s0, s1, s2, s3 uint64 }

// newRNG seeds xoshiro256++ with four consecutive SplitMix64 outputs.
func newRNG(seed uint64) rng {
	sm := seed
	return rng{splitmix64(&sm), splitmix64(&sm), splitmix64(&sm), splitmix64(&sm)}
}

// next returns 64 uniformly random bits (xoshiro256++).
func (r *rng) next() uint64 {
	out := bits.RotateLeft64(r.s0+r.s3, 23) + r.s0
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return out
}

// uniform returns a uniform float64 in [0, 1) with 53 random bits.
func (r *rng) uniform() float64 { return float64(r.next()>>11) * 0x1p-53 }

// uniformOpen returns a uniform float64 in (0, 1], safe for math.Log.
func (r *rng) uniformOpen() float64 { return float64(r.next()>>11+1) * 0x1p-53 }

// Ziggurat constants (Marsaglia & Tsang, "The Ziggurat Method for
// Generating Random Variables", J. Stat. Softw. 5(8), 2000): the right edge
// r of the base strip and the common area v of the layers.
const (
	zigExpR  = 7.69711747013104972
	zigExpV  = 3.949659822581572e-3
	zigNormR = 3.442619855899
	zigNormV = 9.91256303526217e-3
	zigScale = 1 << 53 // the rectangles are indexed with 53 random bits
)

// Ziggurat tables: k[i] is the acceptance threshold of layer i (scaled by
// 2⁵³), w[i] = x_i/2⁵³ turns the 53-bit integer into an abscissa, f[i] is
// the density at x_i. Computed once at start-up by zigguratTables.
var (
	expK  [256]uint64
	expW  [256]float64
	expF  [256]float64
	normK [128]uint64
	normW [128]float64
	normF [128]float64
)

func init() { zigguratTables() }

// zigguratTables fills the exponential (256 layers) and normal (128
// layers) tables with Marsaglia & Tsang's recurrences, for f(x) = e^{−x}
// and f(x) = e^{−x²/2}:
//
//	x_{i} = f⁻¹(v/x_{i+1} + f(x_{i+1})),   k_{i+1} = x_i/x_{i+1}·2⁵³,
//
// with the base strip's effective width q = v/f(r).
func zigguratTables() {
	de := float64(zigExpR)
	te := de
	q := zigExpV / math.Exp(-de)
	expK[0], expK[1] = uint64(de/q*zigScale), 0
	expW[0], expW[255] = q/zigScale, de/zigScale
	expF[0], expF[255] = 1, math.Exp(-de)
	for i := 254; i >= 1; i-- {
		de = -math.Log(zigExpV/de + math.Exp(-de))
		expK[i+1] = uint64(de / te * zigScale)
		te = de
		expF[i] = math.Exp(-de)
		expW[i] = de / zigScale
	}

	dn := float64(zigNormR)
	tn := dn
	q = zigNormV / math.Exp(-0.5*dn*dn)
	normK[0], normK[1] = uint64(dn/q*zigScale), 0
	normW[0], normW[127] = q/zigScale, dn/zigScale
	normF[0], normF[127] = 1, math.Exp(-0.5*dn*dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigNormV/dn+math.Exp(-0.5*dn*dn)))
		normK[i+1] = uint64(dn / tn * zigScale)
		tn = dn
		normF[i] = math.Exp(-0.5 * dn * dn)
		normW[i] = dn / zigScale
	}
}

// exp returns a standard exponential variate (rate 1) by the ziggurat
// method. One 64-bit draw u gives the layer i = u mod 256 and a 53-bit
// abscissa j = u≫11; when j < k[i] (about 98.9% of draws) the result is
// j·w[i], otherwise expSlow finishes the draw.
func (r *rng) exp() float64 {
	u := r.next()
	if j := u >> 11; j < expK[u&0xff] {
		return float64(j) * expW[u&0xff]
	}
	return r.expSlow(u)
}

// expSlow finishes an exponential draw whose first 64 bits u missed the
// fast path: the base strip's tail r + Exp(1), or the wedge test
// f[i] + U·(f[i−1] − f[i]) < e^{−x}, drawing fresh bits on rejection.
func (r *rng) expSlow(u uint64) float64 {
	for {
		i := u & 0xff
		j := u >> 11
		x := float64(j) * expW[i]
		if j < expK[i] {
			return x
		}
		if i == 0 {
			return zigExpR - math.Log(r.uniformOpen())
		}
		if expF[i]+float64(r.uniform()*(expF[i-1]-expF[i])) < math.Exp(-x) {
			return x
		}
		u = r.next()
	}
}

// norm returns a standard normal variate by the ziggurat method (128
// layers; layer from the low 7 bits, a signed 54-bit abscissa from the high
// bits; Marsaglia's exponential-rejection tail beyond r).
func (r *rng) norm() float64 {
	for {
		u := r.next()
		i := u & 0x7f
		j := int64(u) >> 10
		x := float64(j) * normW[i]
		aj := uint64(j)
		if j < 0 {
			aj = uint64(-j)
		}
		if aj < normK[i] {
			return x
		}
		if i == 0 {
			for {
				t := -math.Log(r.uniformOpen()) / zigNormR
				y := -math.Log(r.uniformOpen())
				if y+y >= t*t {
					if j < 0 {
						return -(zigNormR + t)
					}
					return zigNormR + t
				}
			}
		}
		if normF[i]+float64(r.uniform()*(normF[i-1]-normF[i])) < math.Exp(-0.5*x*x) {
			return x
		}
	}
}

// maxExpSumShape is the largest integer shape drawn as a sum of
// exponentials rather than by Marsaglia–Tsang.
const maxExpSumShape = 3

// gammaSampler draws from Gamma(shape, 1) for a fixed shape, with the
// constants precomputed:
//
//   - integer shape ≤ 3: the sum of `shape` standard exponentials;
//   - shape ≥ 1: Marsaglia & Tsang (2000): d = shape − 1/3, c = 1/√(9d);
//     repeat z ~ N(0,1), v = (1 + cz)³ until v > 0 and
//     U < 1 − 0.0331·z⁴ or log U < z²/2 + d(1 − v + log v); return d·v;
//   - shape < 1: the boost Gamma(a) = Gamma(a+1)·U^{1/a}.
type gammaSampler struct {
	shape float64
	nExp  int     // > 0: sum of nExp exponentials
	d, c  float64 // Marsaglia–Tsang constants for max(shape, shape+1)
	boost bool    // shape < 1
}

// newGammaSampler prepares Gamma(shape, 1) draws; shape must be > 0.
func newGammaSampler(shape float64) gammaSampler {
	g := gammaSampler{shape: shape}
	if shape == math.Trunc(shape) && shape >= 1 && shape <= maxExpSumShape {
		g.nExp = int(shape)
		return g
	}
	a := shape
	if shape < 1 {
		g.boost = true
		a = shape + 1
	}
	g.d = a - 1.0/3
	g.c = 1 / math.Sqrt(9*g.d)
	return g
}

// draw returns one Gamma(shape, 1) variate.
func (g *gammaSampler) draw(r *rng) float64 {
	if g.nExp > 0 {
		s := r.exp()
		for k := 1; k < g.nExp; k++ {
			s += r.exp()
		}
		return s
	}
	var x float64
	for {
		z := r.norm()
		v := 1 + float64(g.c*z)
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.uniform()
		z2 := z * z
		if u < 1-float64(0.0331*z2*z2) || math.Log(u) < float64(0.5*z2)+float64(g.d*(1-v+math.Log(v))) {
			x = g.d * v
			break
		}
	}
	if g.boost {
		x *= math.Pow(r.uniformOpen(), 1/g.shape)
	}
	return x
}

// betaSampler draws Beta(a, b) as X/(X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
type betaSampler struct{ a, b gammaSampler }

func newBetaSampler(a, b float64) betaSampler {
	return betaSampler{newGammaSampler(a), newGammaSampler(b)}
}

func (s *betaSampler) draw(r *rng) float64 {
	x := s.a.draw(r)
	y := s.b.draw(r)
	return x / (x + y)
}
