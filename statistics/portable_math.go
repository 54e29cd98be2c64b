package statistics

// Portable exp, log and pow for the Fast engine.
//
// The Fast engine's results must depend only on data, parameters, seed and
// cell identity, never on the CPU. The standard library does not promise
// that: on amd64, math.Exp is an assembly routine that takes an FMA code
// path when the CPU has FMA (so its last bit differs between machines),
// math.Log is assembly on amd64 and s390x and pure Go elsewhere, and the Go
// compiler may fuse x*y + z into one FMA instruction on arm64, ppc64le,
// s390x, riscv64 and amd64 with GOAMD64=v3 (the spec allows it), which
// changes the rounding of the pure-Go code. The functions below are ports
// of the standard library's pure-Go exp, log and pow (src/math/exp.go,
// log.go, pow.go of Go 1.26) with an explicit float64(...) conversion
// around every product that meets an addition or subtraction: the spec
// requires such a conversion to round, which forbids the fusion. Every
// operation is thus a correctly rounded IEEE 754 +, −, ×, ÷ (or an exact
// bit manipulation: math.Frexp, math.Ldexp, math.Modf), and the results
// are bit-identical on every platform.
//
// They are the standard library's algorithms (FreeBSD msun's e_exp.c and
// e_log.c), accurate to less than 1 ulp, and return the same bits as
// math's pure-Go exp and log on platforms that do not fuse.
//
// The code is derived from the Go standard library, which came with this
// notice:
//
// Copyright 2009 The Go Authors.
//
// Redistribution and use in source and binary forms, with or without
// modification, are permitted provided that the following conditions are
// met:
//
//   - Redistributions of source code must retain the above copyright
//     notice, this list of conditions and the following disclaimer.
//   - Redistributions in binary form must reproduce the above
//     copyright notice, this list of conditions and the following disclaimer
//     in the documentation and/or other materials provided with the
//     distribution.
//   - Neither the name of Google LLC nor the names of its
//     contributors may be used to endorse or promote products derived from
//     this software without specific prior written permission.
//
// THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
// "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
// LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
// A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
// OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
// SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
// LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
// DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
// THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
// (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
// OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
//
// The original C code, and the constants below, are from FreeBSD's
// /usr/src/lib/msun/src/e_exp.c and e_log.c and came with this notice:
//
// ====================================================
// Copyright (C) 1993, 2004 by Sun Microsystems, Inc. All rights reserved.
//
// Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice
// is preserved.
// ====================================================

import "math"

// portableExp returns e**x, bit-identically on every platform (see the file
// comment). Special cases as math.Exp: portableExp(+Inf) = +Inf,
// portableExp(−Inf) = 0, portableExp(NaN) = NaN; large values overflow to
// +Inf, very negative ones underflow to 0.
//
// Method (msun e_exp.c): reduce x = k·ln2 + r, |r| ≤ ln2/2, with r = hi − lo
// for extra precision; approximate exp(r) with a degree-5 Remez polynomial
// in r² (error < 2⁻⁵⁹); scale by 2^k. The error is always below 1 ulp.
func portableExp(x float64) float64 {
	const (
		Ln2Hi = 6.93147180369123816490e-01
		Ln2Lo = 1.90821492927058770002e-10
		Log2e = 1.44269504088896338700e+00

		Overflow  = 7.09782712893383973096e+02
		Underflow = -7.45133219101941108420e+02
		NearZero  = 1.0 / (1 << 28) // 2**-28
	)
	x = float64(x) // a product passed in must not fuse with x − k·Ln2Hi if inlined

	// special cases
	switch {
	case math.IsNaN(x):
		return x
	case x > Overflow: // handles case where x is +∞
		return math.Inf(1)
	case x < Underflow: // handles case where x is -∞
		return 0
	case -NearZero < x && x < NearZero:
		return 1 + x
	}

	// reduce; computed as r = hi - lo for extra precision.
	var k int
	switch {
	case x < 0:
		k = int(float64(Log2e*x) - 0.5)
	case x > 0:
		k = int(float64(Log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*Ln2Hi)
	lo := float64(float64(k) * Ln2Lo)

	// compute
	return portableExpMulti(hi, lo, k)
}

// portableExpMulti returns e**r × 2**k where r = hi − lo and |r| ≤ ln(2)/2.
func portableExpMulti(hi, lo float64, k int) float64 {
	hi, lo = float64(hi), float64(lo)
	const (
		P1 = 1.66666666666666657415e-01  /* 0x3FC55555; 0x55555555 */
		P2 = -2.77777777770155933842e-03 /* 0xBF66C16C; 0x16BEBD93 */
		P3 = 6.61375632143793436117e-05  /* 0x3F11566A; 0xAF25DE2C */
		P4 = -1.65339022054652515390e-06 /* 0xBEBBBD41; 0xC5D26BF1 */
		P5 = 4.13813679705723846039e-08  /* 0x3E663769; 0x72BEA4D0 */
	)

	r := hi - lo
	t := float64(r * r)
	// c = r − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5)))), every product rounded.
	p := P4 + float64(t*P5)
	p = P3 + float64(t*p)
	p = P2 + float64(t*p)
	p = P1 + float64(t*p)
	c := r - float64(t*p)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// portableLog returns the natural logarithm of x, bit-identically on every
// platform (see the file comment). Special cases as math.Log:
// portableLog(+Inf) = +Inf, portableLog(0) = −Inf, portableLog(x < 0) = NaN,
// portableLog(NaN) = NaN.
//
// Method (msun e_log.c): reduce x = 2^k·(1 + f) with √2/2 < 1 + f < √2;
// with s = f/(2 + f), log(1 + f) = f − s·(f − R(s²)) where R is a degree-14
// Remez polynomial (error < 2⁻⁵⁸·⁴⁵); log(x) = k·ln2 + log(1 + f), with ln2
// split in hi and lo parts. The error is below 1 ulp.
func portableLog(x float64) float64 {
	const (
		Ln2Hi = 6.93147180369123816490e-01 /* 3fe62e42 fee00000 */
		Ln2Lo = 1.90821492927058770002e-10 /* 3dea39ef 35793c76 */
		L1    = 6.666666666666735130e-01   /* 3FE55555 55555593 */
		L2    = 3.999999999940941908e-01   /* 3FD99999 9997FA04 */
		L3    = 2.857142874366239149e-01   /* 3FD24924 94229359 */
		L4    = 2.222219843214978396e-01   /* 3FCC71C5 1D8E78AF */
		L5    = 1.818357216161805012e-01   /* 3FC74664 96CB03DE */
		L6    = 1.531383769920937332e-01   /* 3FC39A09 D078C69F */
		L7    = 1.479819860511658591e-01   /* 3FC2F112 DF3E5244 */
	)
	x = float64(x) // see portableExp

	// special cases
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}

	// reduce
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 = float64(f1 * 2)
		ki--
	}
	f := f1 - 1
	k := float64(ki)

	// compute
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	// t1 = s2·(L1 + s4·(L3 + s4·(L5 + s4·L7))), every product rounded.
	t1 := L5 + float64(s4*L7)
	t1 = L3 + float64(s4*t1)
	t1 = L1 + float64(s4*t1)
	t1 = float64(s2 * t1)
	// t2 = s4·(L2 + s4·(L4 + s4·L6)).
	t2 := L4 + float64(s4*L6)
	t2 = L2 + float64(s4*t2)
	t2 = float64(s4 * t2)
	R := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*Ln2Hi) - ((hfsq - (float64(s*(hfsq+R)) + float64(k*Ln2Lo))) - f)
}

// portablePow returns x**y, bit-identically on every platform: the standard
// library's pow.go with portableExp and portableLog. It handles the cases
// the Fast engine needs — finite x > 0 and finite y — exactly as math.Pow's
// algorithm does; other arguments are passed to math.Pow, whose special
// cases (0, ±Inf, NaN, negative x) are exact and CPU-independent.
func portablePow(x, y float64) float64 {
	x, y = float64(x), float64(y) // see portableExp
	switch {
	case y == 0 || x == 1:
		return 1
	case y == 1:
		return x
	case !(x > 0) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0):
		return math.Pow(x, y)
	case y == 0.5:
		return math.Sqrt(x)
	case y == -0.5:
		return 1 / math.Sqrt(x)
	}

	yi, yf := math.Modf(math.Abs(y))
	if yi >= 1<<63 {
		// yi is a large even int that will lead to overflow (or underflow
		// to 0) for all x ≠ 1.
		if (x < 1) == (y > 0) {
			return 0
		}
		return math.Inf(1)
	}

	// ans = a1 * 2**ae (= 1 for now).
	a1 := 1.0
	ae := 0

	// ans *= x**yf
	if yf != 0 {
		if yf > 0.5 {
			yf--
			yi++
		}
		a1 = portableExp(float64(yf * portableLog(x)))
	}

	// ans *= x**yi by multiplying in successive squarings of x according
	// to the bits of yi, accumulating powers of two into ae.
	x1, xe := math.Frexp(x)
	for i := int64(yi); i != 0; i >>= 1 {
		if xe < -1<<12 || 1<<12 < xe {
			// xe would overflow the left shift below; the final Ldexp
			// under/overflows anyway.
			ae += xe
			break
		}
		if i&1 == 1 {
			a1 = float64(a1 * x1)
			ae += xe
		}
		x1 = float64(x1 * x1)
		xe <<= 1
		if x1 < .5 {
			x1 += x1
			xe--
		}
	}

	// ans = a1*2**ae; if y < 0 { ans = 1 / ans }, in the opposite order.
	if y < 0 {
		a1 = 1 / a1
		ae = -ae
	}
	return math.Ldexp(a1, ae)
}
