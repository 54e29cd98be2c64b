package statistics

import "math"

// This file is numpy's legacy binomial sampler (legacy_random_binomial in
// numpy/random/src/legacy/legacy-distributions.c, with
// random_binomial_inversion and random_binomial_btpe from
// numpy/random/src/distributions/distributions.c), written from the
// published algorithms. mozanalysis' deciles draw their order-statistic
// indexes with it. The NumpyLegacy engine runs it on MT19937 and replays
// numpy bit for bit; the Fast engine runs the same (exact) algorithm on
// xoshiro256++ uniforms.

// uniformSource is a generator of uniform doubles in [0, 1).
type uniformSource interface {
	double() float64
}

// double makes rng a uniformSource (53-bit uniform in [0, 1)).
func (r *rng) double() float64 { return r.uniform() }

// inversionLimit is numpy's switch between inversion and BTPE: inversion
// when min(p, 1 − p)·n ≤ 30.
const inversionLimit = 30.0

// binomialSampler draws Binomial(n, p) for fixed (n, p), with the constants
// numpy caches in its binomial_t precomputed. numpy's legacy_random_binomial
// is
//
//	p ≤ 0.5:  p·n ≤ 30 ? inversion(n, p) : BTPE(n, p)
//	p > 0.5:  q = 1 − p;  n − (q·n ≤ 30 ? inversion(n, q) : BTPE(n, q))
//
// Inversion walks the probability mass function from 0, restarting when it
// passes bound = ⌊min(n, np + 10·√(npq + 1))⌋ (an event of probability
// below 1e-20); BTPE is Kachitvichyanukul & Schmeiser's (1988) triangle–
// parallelogram–exponential rejection sampler. Both consume at least one
// uniform per draw, even for n = 0 (numpy's legacy sampler does not skip it).
type binomialSampler struct {
	n         int64
	p         float64 // min(p, 1 − p): the probability actually sampled
	flip      bool    // the requested p was > 0.5: return n − X
	inversion bool

	// inversion (random_binomial_inversion)
	q, qn float64
	bound int64

	// BTPE (random_binomial_btpe); r = p, q as above
	fm                                        float64
	m                                         int64
	p1, xm, xl, xr, c, laml, lamr, p2, p3, p4 float64
}

// newBinomialSampler prepares draws from Binomial(n, p), n ≥ 0, 0 ≤ p ≤ 1.
func newBinomialSampler(n int64, p float64) binomialSampler {
	b := binomialSampler{n: n, p: p}
	if p > 0.5 {
		b.flip = true
		b.p = 1.0 - p
	}
	p = b.p
	fn := float64(n)
	if p*fn <= inversionLimit {
		b.inversion = true
		b.q = 1.0 - p
		b.qn = math.Exp(fn * math.Log(b.q))
		np := fn * p
		b.bound = int64(math.Min(fn, np+10.0*math.Sqrt(float64(np*b.q)+1)))
		return b
	}
	r := math.Min(p, 1.0-p)
	q := 1.0 - r
	b.q = q
	b.fm = float64(fn*r) + r
	b.m = int64(math.Floor(b.fm))
	b.p1 = math.Floor(float64(2.195*math.Sqrt(float64(fn*r)*q))-float64(4.6*q)) + 0.5
	b.xm = float64(b.m) + 0.5
	b.xl = b.xm - b.p1
	b.xr = b.xm + b.p1
	b.c = 0.134 + 20.5/(15.3+float64(b.m))
	a := (b.fm - b.xl) / (b.fm - float64(b.xl*r))
	b.laml = a * (1.0 + a/2.0)
	a = (b.xr - b.fm) / (b.xr * q)
	b.lamr = a * (1.0 + a/2.0)
	b.p2 = b.p1 * (1.0 + 2.0*b.c)
	b.p3 = b.p2 + b.c/b.laml
	b.p4 = b.p3 + b.c/b.lamr
	return b
}

// draw returns one Binomial(n, p) variate.
func (b *binomialSampler) draw(g uniformSource) int64 {
	var x int64
	if b.inversion {
		x = b.drawInversion(g)
	} else {
		x = b.drawBTPE(g)
	}
	if b.flip {
		return b.n - x
	}
	return x
}

// drawInversion is random_binomial_inversion: with U uniform,
// X = the first k with U ≤ Σ_{j ≤ k} P(j), the mass updated by
// P(k) = P(k−1)·(n − k + 1)·p / (k·q).
func (b *binomialSampler) drawInversion(g uniformSource) int64 {
	n, p, q := b.n, b.p, b.q
	var x int64
	px := b.qn
	u := g.double()
	for u > px {
		x++
		if x > b.bound {
			x = 0
			px = b.qn
			u = g.double()
		} else {
			u -= px
			px = float64(float64(float64(n-x+1)*p)*px) / float64(float64(x)*q)
		}
	}
	return x
}

// stirlingTail is the correction term (13680 − (462 − (132 − (99 −
// 140/v²)/v²)/v²)/v²)/v/166320 of BTPE's Stirling-formula acceptance test.
func stirlingTail(v float64) float64 {
	v2 := v * v
	return (13680. - (462.-(132.-(99.-140./v2)/v2)/v2)/v2) / v / 166320.
}

// drawBTPE is random_binomial_btpe (steps 10–60 of Kachitvichyanukul &
// Schmeiser), for p ≤ 0.5 and n·p > 30.
func (b *binomialSampler) drawBTPE(g uniformSource) int64 {
	n, r, q, m := b.n, b.p, b.q, b.m
	fn := float64(n)
	var y int64
	for {
		// Step 10.
		nrq := float64(fn*r) * q
		u := g.double() * b.p4
		v := g.double()
		if u <= b.p1 {
			return int64(math.Floor(b.xm - float64(b.p1*v) + u))
		}
		switch {
		case u <= b.p2: // Step 20: parallelogram.
			x := b.xl + (u-b.p1)/b.c
			v = float64(v*b.c) + 1.0 - math.Abs(float64(m)-x+0.5)/b.p1
			if v > 1.0 {
				continue
			}
			y = int64(math.Floor(x))
		case u <= b.p3: // Step 30: left exponential tail.
			y = int64(math.Floor(b.xl + math.Log(v)/b.laml))
			if y < 0 || v == 0 {
				continue
			}
			v = float64(v*(u-b.p2)) * b.laml
		default: // Step 40: right exponential tail.
			y = int64(math.Floor(b.xr - math.Log(v)/b.lamr))
			if y > n || v == 0 {
				continue
			}
			v = float64(v*(u-b.p3)) * b.lamr
		}
		// Step 50.
		k := y - m
		if k < 0 {
			k = -k
		}
		if !(k > 20 && float64(k) < nrq/2.0-1) {
			// Explicit evaluation of f(y)/f(m).
			s := r / q
			a := s * float64(n+1)
			f := 1.0
			if m < y {
				for i := m + 1; i <= y; i++ {
					f *= a/float64(i) - s
				}
			} else if m > y {
				for i := y + 1; i <= m; i++ {
					f /= a/float64(i) - s
				}
			}
			if v > f {
				continue
			}
			return y
		}
		// Step 52: squeeze, then the Stirling-formula bound.
		fk := float64(k)
		rho := (fk / nrq) * ((float64(fk*(fk/3.0+0.625))+0.16666666666666666)/nrq + 0.5)
		t := float64(-k*k) / (2 * nrq)
		la := math.Log(v)
		if la < t-rho {
			return y
		}
		if la > t+rho {
			continue
		}
		x1 := float64(y + 1)
		f1 := float64(m + 1)
		z := float64(n + 1 - m)
		w := float64(n - y + 1)
		bound := float64(b.xm*math.Log(f1/x1)) +
			float64(float64(n-m)+0.5)*math.Log(z/w) +
			float64(float64(y-m)*math.Log(float64(w*r)/float64(x1*q))) +
			stirlingTail(f1) + stirlingTail(z) + stirlingTail(x1) + stirlingTail(w)
		if la > bound {
			continue
		}
		return y
	}
}

// legacyDecileReplicates replays mozanalysis' draws for one branch from
// numpy's legacy stream m: for each p in ps in turn, r indexes
// I ~ Binomial(n − 1, p) (`np.random.binomial(n − 1, p, r)`), each mapped to
// the order statistic y_I of the tally (see orderStatistics). The result is
// p-major.
func legacyDecileReplicates(m *mt19937, os orderStatistics, ps []float64, r int) []float64 {
	out := make([]float64, 0, len(ps)*r)
	for _, p := range ps {
		b := newBinomialSampler(os.n-1, p)
		for range r {
			out = append(out, os.at(b.draw(m)))
		}
	}
	return out
}
