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
	var out uint64
	out, r.s0, r.s1, r.s2, r.s3 = xoshiroStep(r.s0, r.s1, r.s2, r.s3)
	return out
}

// xoshiroStep is rng.next on a state held in variables: the kernels' hot loops (expRun,
// multiRun) call it with their state in registers. It is small enough to be inlined, so
// it adds no call to them.
func xoshiroStep(s0, s1, s2, s3 uint64) (out, r0, r1, r2, r3 uint64) {
	out = bits.RotateLeft64(s0+s3, 23) + s0
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	s3 = bits.RotateLeft64(s3, 45)
	return out, s0, s1, s2, s3
}

// uniform returns a uniform float64 in [0, 1) with 53 random bits.
func (r *rng) uniform() float64 { return float64(r.next()>>11) * 0x1p-53 }

// uniformOpen returns a uniform float64 in (0, 1], safe for portableLog.
func (r *rng) uniformOpen() float64 { return float64(r.next()>>11+1) * 0x1p-53 }

// Ziggurat constants (Marsaglia & Tsang, "The Ziggurat Method for
// Generating Random Variables", J. Stat. Softw. 5(8), 2000): the right edge
// r of the base strip and the common area v of the layers.
//
// The exponential ziggurat has zigExpN = 2048 layers (Marsaglia & Tsang
// use 256): its fast path then fails on 0.34% of the draws instead of
// 2.2%, and the miss, a mispredicted branch out of the kernel's hot loop,
// is what costs. For n layers, v = e^{−r}(r + 1) (the base strip: the
// rectangle r·f(r) plus the tail) and r is the root of "the recurrence of
// zigguratTables, started at x_{n−1} = r, ends at x_0 = 0", i.e.
// v/x_1 + e^{−x_1} = 1; zigExpR and zigExpV were computed so with 40-digit
// arithmetic (mpmath, bisection on r) and are checked by
// TestZigguratTables.
const (
	zigExpN    = 2048 // layers of the exponential ziggurat
	zigExpMask = zigExpN - 1
	zigExpR    = 10.0228970684050408604128
	zigExpV    = 4.891103607436302956560985e-4
	zigNormR   = 3.442619855899
	zigNormV   = 9.91256303526217e-3
	zigScale   = 1 << 53 // the rectangles are indexed with 53 random bits
)

// Ziggurat tables: k[i] is the acceptance threshold of layer i (scaled by
// 2⁵³), w[i] = x_i/2⁵³ turns the 53-bit integer into an abscissa, f[i] is
// the density at x_i. Computed once at start-up by zigguratTables.
var (
	expK  [zigExpN]uint64
	expW  [zigExpN]float64
	expF  [zigExpN]float64
	normK [128]uint64
	normW [128]float64
	normF [128]float64

	// Wedge pre-test of the exponential ziggurat (see wedgeTables and
	// wedgeAccept): for layer i ≥ 1, expB[i] is the slope magnitude of the
	// chord of e^{−x} over the layer's wedge [x_{i−1}, x_i]; with
	// z = y + expB[i]·x the point (x, y) lies surely below the curve when
	// z < expA[i] (the tangent parallel to the chord, lowered by
	// wedgeMargin) and surely above it when z > expC[i] (the chord, raised
	// by wedgeMargin).
	expA [zigExpN]float64
	expB [zigExpN]float64
	expC [zigExpN]float64
)

// wedgeMargin is the relative safety margin of the wedge pre-test: far
// above the rounding errors of z, of the table entries and of portableExp
// (all within a few ulps, ~1e-15), so that every decision the pre-test
// takes is the one the exact comparison y < portableExp(−x) takes.
const wedgeMargin = 0x1p-40

func init() { zigguratTables() }

// zigguratTables fills the exponential (zigExpN layers) and normal (128
// layers) tables with Marsaglia & Tsang's recurrences, for f(x) = e^{−x}
// and f(x) = e^{−x²/2}:
//
//	x_{i} = f⁻¹(v/x_{i+1} + f(x_{i+1})),   k_{i+1} = x_i/x_{i+1}·2⁵³,
//
// with the base strip's effective width q = v/f(r). The tables, like every
// floating-point result of the Fast engine, must be bit-identical on every
// CPU: hence portableExp/portableLog (never math.Exp/Log, whose amd64
// assembly depends on FMA) and the float64(...) conversions that forbid
// fusing a product into an FMA (TestPortableGolden pins the bits).
func zigguratTables() {
	de := float64(zigExpR)
	te := de
	q := zigExpV / portableExp(-de)
	expK[0], expK[1] = uint64(float64(de/q*zigScale)), 0
	expW[0], expW[zigExpN-1] = q/zigScale, de/zigScale
	expF[0], expF[zigExpN-1] = 1, portableExp(-de)
	for i := zigExpN - 2; i >= 1; i-- {
		de = -portableLog(zigExpV/de + portableExp(-de))
		expK[i+1] = uint64(float64(de / te * zigScale))
		te = de
		expF[i] = portableExp(-de)
		expW[i] = de / zigScale
	}
	wedgeTables()

	dn := float64(zigNormR)
	tn := dn
	q = zigNormV / portableExp(-0.5*dn*dn)
	normK[0], normK[1] = uint64(float64(dn/q*zigScale)), 0
	normW[0], normW[127] = q/zigScale, dn/zigScale
	normF[0], normF[127] = 1, portableExp(-0.5*dn*dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * portableLog(zigNormV/dn+portableExp(-0.5*dn*dn)))
		normK[i+1] = uint64(float64(dn / tn * zigScale))
		tn = dn
		normF[i] = portableExp(-0.5 * dn * dn)
		normW[i] = dn / zigScale
	}
}

// wedgeTables fills expA, expB, expC from expW and expF. Layer i ≥ 1
// spans [0, x_i] × [f_i, f_{i−1}] with x_i = expW[i]·2⁵³ (x_0 = 0) and
// f_i = expF[i]; its wedge is the box [x_{i−1}, x_i] × [f_i, f_{i−1}].
// Since e^{−x} is convex, over the wedge it lies below its chord
// y = C − B·x, B = (f_{i−1} − f_i)/(x_i − x_{i−1}), C = f_{i−1} + B·x_{i−1},
// and everywhere above its tangent of the same slope, touching at
// t = −ln B: y = A − B·x, A = B·(1 + t).
func wedgeTables() {
	for i := 1; i < zigExpN; i++ {
		xPrev := 0.0
		if i > 1 {
			xPrev = float64(expW[i-1] * zigScale)
		}
		x := float64(expW[i] * zigScale)
		b := (expF[i-1] - expF[i]) / (x - xPrev)
		expB[i] = b
		expA[i] = b * (1 - portableLog(b)) * (1 - wedgeMargin)
		expC[i] = (expF[i-1] + float64(b*xPrev)) * (1 + wedgeMargin)
	}
}

// exp returns a standard exponential variate (rate 1) by the ziggurat
// method. One 64-bit draw u gives the layer i = u mod 2048 (the low 11
// bits) and a 53-bit abscissa j = u≫11 (the high 53); when j < k[i]
// (99.66% of draws) the result is j·w[i], otherwise expSlow finishes the
// draw.
func (r *rng) exp() float64 {
	u := r.next()
	if j := u >> 11; j < expK[u&zigExpMask] {
		return float64(float64(j) * expW[u&zigExpMask])
	}
	return r.expSlow(u)
}

// expSlow finishes an exponential draw whose first 64 bits u missed the
// fast path: the base strip's tail r + Exp(1), or the wedge test
// y = f[i] + U·(f[i−1] − f[i]) < e^{−x} (wedgeAccept), drawing fresh bits
// on rejection.
func (r *rng) expSlow(u uint64) float64 {
	for {
		i := u & zigExpMask
		j := u >> 11
		x := float64(float64(j) * expW[i])
		if j < expK[i] {
			return x
		}
		if i == 0 {
			return zigExpR - portableLog(r.uniformOpen())
		}
		if wedgeAccept(i, x, expF[i]+float64(r.uniform()*(expF[i-1]-expF[i]))) {
			return x
		}
		u = r.next()
	}
}

// wedgeAccept reports whether y < portableExp(−x), for a point (x, y) of the
// wedge of layer i (1 ≤ i < zigExpN). It first compares z = y + B·x with
// the tangent and chord bounds of wedgeTables, which decide 99.7% of the
// points without exp (whose latency, ~120 cycles on amd64, used to
// dominate the slow path). The bounds keep a relative margin wedgeMargin,
// so a point they decide is at least that far from the curve and
// y < portableExp(−x) gives the same answer: the result is always that of the
// plain comparison (TestWedgeAccept), only faster.
func wedgeAccept(i uint64, x, y float64) bool {
	i &= zigExpMask
	z := y + float64(expB[i]*x)
	if z < expA[i] {
		return true
	}
	if z > expC[i] {
		return false
	}
	return y < portableExp(-x)
}

// norm returns a standard normal variate by the ziggurat method (128
// layers; layer from the low 7 bits, a signed 54-bit abscissa from the high
// bits; Marsaglia's exponential-rejection tail beyond r).
func (r *rng) norm() float64 {
	u := r.next()
	if x, fast := normFast(u); fast {
		return x
	}
	return r.normSlow(u)
}

// normFast is the ziggurat's fast path for the 64 bits u: the abscissa x of the layer
// u picks, and whether it lies inside the layer's rectangle (then x is the variate). It
// is small enough to be inlined into the kernels' hot loops (multiRun).
func normFast(u uint64) (x float64, fast bool) {
	i := u & 0x7f
	j := int64(u) >> 10
	x = float64(float64(j) * normW[i])
	aj := uint64(j)
	if j < 0 {
		aj = uint64(-j)
	}
	return x, aj < normK[i]
}

// normSlow finishes a normal draw whose first 64 bits u missed the fast path: the
// tail beyond r (layer 0) or the wedge test, drawing afresh on rejection.
func (r *rng) normSlow(u uint64) float64 {
	i := u & 0x7f
	j := int64(u) >> 10
	x := float64(float64(j) * normW[i])
	if i == 0 {
		for {
			t := -portableLog(r.uniformOpen()) / zigNormR
			y := -portableLog(r.uniformOpen())
			if y+y >= t*t {
				if j < 0 {
					return -(zigNormR + t)
				}
				return zigNormR + t
			}
		}
	}
	if normF[i]+float64(r.uniform()*(normF[i-1]-normF[i])) < portableExp(-0.5*x*x) {
		return x
	}
	return r.norm() // rejected: a fresh draw
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
	x := g.marsagliaTsang(r, r.norm())
	if g.boost {
		x = float64(x * portablePow(r.uniformOpen(), 1/g.shape))
	}
	return x
}

// marsagliaTsang finishes a Marsaglia–Tsang draw whose first normal is z, drawing
// afresh on rejection (without the boost of shapes < 1).
func (g *gammaSampler) marsagliaTsang(r *rng, z float64) float64 {
	for {
		v := 1 + float64(g.c*z)
		if v > 0 {
			v = float64(v * v * v)
			if x, ok := g.accept(z, v, r.uniform()); ok {
				return x
			}
		}
		z = r.norm()
	}
}

// accept is Marsaglia–Tsang's test of the candidate d·v, v = (1 + cz)³ > 0, with the
// uniform u: the squeeze u < 1 − 0.0331·z⁴, else log u < z²/2 + d(1 − v + log v).
func (g *gammaSampler) accept(z, v, u float64) (float64, bool) {
	z2 := z * z
	if u < 1-float64(0.0331*z2*z2) || portableLog(u) < float64(0.5*z2)+float64(g.d*(1-v+portableLog(v))) {
		return float64(g.d * v), true
	}
	return 0, false
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
