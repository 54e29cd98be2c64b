package sampledata

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is a client's random stream: PCG-DXSM (math/rand/v2's PCG, whose output is fixed by its
// specification) with the package's own samplers on top, so that the generated data does not
// change with the Go version's distribution code.
type rng struct{ src rand.PCG }

// splitmix64 is the SplitMix64 finalizer, a bijective 64-bit mixer.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mix derives a 64-bit key from the seed, a client index and a purpose tag.
func mix(seed, index, tag uint64) uint64 {
	return splitmix64(splitmix64(splitmix64(seed)^index) ^ tag)
}

// Purpose tags of the derived keys.
const (
	tagStream1 = iota + 1
	tagStream2
	tagClientHi
	tagClientLo
	tagGroupHi
	tagGroupLo
)

// reset positions r at the start of client index's stream.
func (r *rng) reset(seed uint64, index int) {
	r.src.Seed(mix(seed, uint64(index), tagStream1), mix(seed, uint64(index), tagStream2))
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *rng) float64() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// open returns a uniform number in (0, 1).
func (r *rng) open() float64 { return (float64(r.src.Uint64()>>11) + 0.5) * 0x1p-53 }

// bernoulli returns true with probability p.
func (r *rng) bernoulli(p float64) bool { return r.float64() < p }

// intN returns a uniform integer in [0, n) (Lemire's multiply-and-reject), n ≥ 1.
func (r *rng) intN(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.src.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), un)
		}
	}
	return int(hi)
}

// normal returns a standard normal deviate (Box–Muller, cosine branch only).
func (r *rng) normal() float64 {
	return math.Sqrt(-2*math.Log(r.open())) * math.Cos(2*math.Pi*r.float64())
}

// exponential returns an Exp(1) deviate.
func (r *rng) exponential() float64 { return -math.Log(r.open()) }

// gamma returns a Gamma(shape, scale) deviate (mean shape·scale): a sum of exponentials for
// shape 1 and 2, Marsaglia–Tsang (2000) for other shapes ≥ 1, and the boost
// Gamma(a) = Gamma(a+1)·U^(1/a) for shapes below 1.
func (r *rng) gamma(shape, scale float64) float64 {
	switch {
	case shape == 1:
		return scale * r.exponential()
	case shape == 2:
		return -scale * math.Log(r.open()*r.open())
	case shape < 1:
		return r.gamma(shape+1, scale) * math.Pow(r.open(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.normal()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.open()
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return scale * d * v
		}
	}
}

// beta returns a Beta(a, b) deviate as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).
func (r *rng) beta(a, b float64) float64 {
	x := r.gamma(a, 1)
	y := r.gamma(b, 1)
	return x / (x + y)
}

// poisson returns a Poisson(lambda) deviate: inversion by sequential search below 10, and
// Hörmann's transformed rejection PTRS (1993) from 10 on.
func (r *rng) poisson(lambda float64) int64 {
	switch {
	case !(lambda > 0):
		return 0
	case lambda < 10:
		u := r.float64()
		p := math.Exp(-lambda)
		f := p
		var k int64
		for u > f && k < 1000 {
			k++
			p *= lambda / float64(k)
			f += p
		}
		return k
	}
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.float64() - 0.5
		v := r.float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int64(k)
		}
	}
}

// geometricDay returns the churn day T ≥ 1 with P(T > d) = (1−h)^d: the first day after
// enrollment on which the client is gone. h = 0 never churns (math.MaxInt).
func (r *rng) geometricDay(h float64) int {
	if h <= 0 {
		return math.MaxInt
	}
	t := math.Floor(math.Log(r.open()) / math.Log1p(-h))
	if t > 1e9 {
		return math.MaxInt
	}
	return 1 + int(t)
}
