package statistics

import (
	"hash/fnv"
	"math"
	"testing"
)

// ulpDiff returns the distance in ulps between two finite float64 of the
// same sign (or both zero).
func ulpDiff(a, b float64) uint64 {
	x, y := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if x > y {
		return uint64(x - y)
	}
	return uint64(y - x)
}

// TestPortableExpLog checks portableExp, portableLog and portablePow against
// the standard library: within 1 ulp on a wide sample of inputs, and
// exactly on the special and exact cases.
func TestPortableExpLog(t *testing.T) {
	g := newRNG(42)
	const n = 1_000_000
	// Both exp are accurate to < 1 ulp with amd64's FMA path, so they agree
	// within 1 ulp; amd64's non-FMA path (GODEBUG=cpu.fma=off, or a CPU
	// without FMA) is sometimes 2 ulps from portableExp, hence expTol. (It
	// also overflows to +Inf from ≈ 709.54 instead of 709.78, hence the
	// range of x; the engine only needs exp on [−60, 0].)
	const expTol = 2
	var expDiff, logDiff int
	for k := range n {
		// exp: uniform over the whole finite range, and log-uniform
		// magnitudes down to 2⁻⁶⁰ (the reduction's small-argument paths).
		var x float64
		if k%2 == 0 {
			x = -745 + g.uniform()*(708+745)
		} else {
			x = math.Ldexp(g.uniform()-0.5, -int(g.next()%60))
		}
		if got, want := portableExp(x), math.Exp(x); ulpDiff(got, want) > expTol {
			t.Fatalf("portableExp(%v) = %v, math.Exp = %v: %d ulps apart", x, got, want, ulpDiff(got, want))
		} else if got != want {
			expDiff++
		}
		// log: random positive float64 bit patterns (every binade,
		// subnormals included), and values near 1.
		y := math.Float64frombits(g.next() >> 1 % math.Float64bits(math.MaxFloat64))
		if k%2 == 1 {
			y = 1 + (g.uniform()-0.5)*0x1p-4
		}
		if y == 0 {
			continue
		}
		if y < 0x1p-1022 {
			// Subnormal: amd64's assembly math.Log is wrong there (it
			// returns ≈ log(2⁻¹⁰²²) for all of them); compare with the
			// exact rescaling log(y) = log(y·2⁶⁰) − 60·ln2 instead.
			if got, want := portableLog(y), math.Log(y*0x1p60)-60*math.Ln2; math.Abs(got-want) > 1e-15*math.Abs(want) {
				t.Fatalf("portableLog(%v) = %v, want %v", y, got, want)
			}
			continue
		}
		if got, want := portableLog(y), math.Log(y); ulpDiff(got, want) > 1 {
			t.Fatalf("portableLog(%v) = %v, math.Log = %v: %d ulps apart", y, got, want, ulpDiff(got, want))
		} else if got != want {
			logDiff++
		}
		// pow, as the gamma boost uses it: U^{1/a}, U ∈ (0, 1], a ∈ (0, 1).
		// Pow's algorithm is not correctly rounded (its successive
		// squarings add a few ulps), so only a relative bound applies.
		u, a := g.uniformOpen(), g.uniformOpen()
		if got, want := portablePow(u, 1/a), math.Pow(u, 1/a); want > 0x1p-1000 && math.Abs(got-want) > 1e-14*want {
			t.Fatalf("portablePow(%v, %v) = %v, math.Pow = %v: %d ulps apart", u, 1/a, got, want, ulpDiff(got, want))
		}
	}
	t.Logf("inputs where the bits differ from the standard library: exp %d/%d, log %d/%d", expDiff, n, logDiff, n)

	inf, nan := math.Inf(1), math.NaN()
	for _, x := range []float64{0, math.Copysign(0, -1), 1e-10, -1e-300, 0x1p-30, -745.1, 710, -746, 1000, -1000, inf, -inf, nan} {
		if got, want := portableExp(x), math.Exp(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("portableExp(%v) = %v, want %v", x, got, want)
		}
	}
	for _, x := range []float64{1, 2, 0.5, 4, 1024, 0x1p-1022, math.MaxFloat64, math.E, 10, 0, math.Copysign(0, -1), -1, -inf, inf, nan} {
		if got, want := portableLog(x), math.Log(x); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("portableLog(%v) = %v, want %v", x, got, want)
		}
	}
	if portableExp(0) != 1 || portableLog(1) != 0 || portableLog(2) != math.Ln2 || portableExp(1) != math.E {
		t.Errorf("exp(0) = %v, log(1) = %v, log(2) = %v, exp(1) = %v", portableExp(0), portableLog(1), portableLog(2), portableExp(1))
	}
	for _, c := range [][3]float64{{2, 10, 1024}, {4, 0.5, 2}, {4, -0.5, 0.5}, {3, 0, 1}, {1, inf, 1}, {0.3, 1, 0.3}, {2, -2, 0.25}, {0, 2, 0}, {0, -1, inf}, {inf, 2, inf}, {0.5, inf, 0}} {
		if got := portablePow(c[0], c[1]); got != c[2] {
			t.Errorf("portablePow(%v, %v) = %v, want %v", c[0], c[1], got, c[2])
		}
	}
	if !math.IsNaN(portablePow(-2, 0.5)) || !math.IsNaN(portablePow(nan, 2)) || !math.IsNaN(portableLog(nan)) || !math.IsNaN(portableExp(nan)) {
		t.Error("NaN cases")
	}
}

// TestPortableGolden pins the bits of the Fast engine's floating-point
// building blocks: the ziggurat tables, portableExp/portableLog/portablePow
// on fixed inputs, and the first draws of the exponential, normal, gamma
// and beta samplers for fixed seeds. The checksums were computed on the
// development machine (linux/amd64, with FMA; identical with
// GODEBUG=cpu.fma=off and with GOAMD64=v3) and must be equal on EVERY
// platform: results may depend only on data, parameters, seed and cell
// identity, never on the CPU. A failure here means the Fast stream changed
// (update the checksums only for an intended change of the stream, and say
// so) or that some operation is not portable (math.Exp/Log/Pow, or a
// product fused into an FMA; see portable_math.go).
func TestPortableGolden(t *testing.T) {
	h := fnv.New64a()
	put := func(v uint64) {
		var b [8]byte
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	putF := func(x float64) { put(math.Float64bits(x)) }
	check := func(name string, want uint64) {
		t.Helper()
		if got := h.Sum64(); got != want {
			t.Errorf("%s checksum = %#016x, want %#016x", name, got, want)
		}
		h.Reset()
	}

	for i := range zigExpN {
		put(expK[i])
		putF(expW[i])
		putF(expF[i])
		putF(expA[i])
		putF(expB[i])
		putF(expC[i])
	}
	check("exponential ziggurat tables", 0x2460a82ec8336e0f)
	for i := range normK {
		put(normK[i])
		putF(normW[i])
		putF(normF[i])
	}
	check("normal ziggurat tables", 0x618e5d9f0e1f2a5c)

	for k := range 10_000 {
		x := -745 + 1454.7*float64(k)/10_000
		putF(portableExp(x))
		putF(portableExp(-x / 1e5))
		putF(portableLog(math.Ldexp(1+float64(k)/10_000, k%2000-1000)))
		putF(portablePow(float64(k+1)/10_001, 1/(0.01+float64(k)/10_001)))
	}
	check("portableExp/Log/Pow", 0xc9ac9503ac72c2f8)

	g := newRNG(1)
	for range 1000 {
		putF(g.exp())
	}
	check("first 1000 exp draws (seed 1)", 0x78466f1bcd2d5256)
	// A million draws take every path of expSlow, including the wedge
	// fallback to portableExp (~15 times).
	g = newRNG(1)
	for range 1_000_000 {
		putF(g.exp())
	}
	check("first 1e6 exp draws (seed 1)", 0xed35713e10e3a4dc)
	g = newRNG(2)
	for range 100_000 {
		putF(g.norm())
	}
	check("first 1e5 norm draws (seed 2)", 0x7bfe815055e95aef)
	for _, ab := range [][2]float64{{0.5, 0.5}, {2.5, 7}, {3, 40}} {
		bs := newBetaSampler(ab[0], ab[1])
		g = newRNG(3)
		for range 10_000 {
			putF(bs.draw(&g))
		}
	}
	check("beta draws (seed 3)", 0xa97ffa4fae4034e6)
}
