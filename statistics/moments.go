package statistics

import (
	"math"
	"math/big"
	"slices"
)

// Moments are the exact raw sums of a set of (y, x) pairs with multiplicities:
//
//	N, Σy, Σx, Σy², Σx², Σxy
//
// each an ExactSum, so that the centred sums of the linear model can be formed without
// cancellation and without depending on the order the pairs came in (see lmGroup). X is
// unused (zero) without a covariate.
type Moments struct {
	N                int64
	Y, X, YY, XX, XY ExactSum
}

// Add adds the pair (y, x) c times (c ≥ 1, below 2⁵³).
func (m *Moments) Add(y, x float64, c int64) {
	w := float64(c)
	m.N += c
	m.Y.AddProduct(w, y)
	m.X.AddProduct(w, x)
	addWeightedProduct(&m.YY, w, y, y)
	addWeightedProduct(&m.XX, w, x, x)
	addWeightedProduct(&m.XY, w, x, y)
}

// addWeightedProduct adds w·a·b exactly: a·b = p + e exactly, then w·p and w·e each
// exactly.
func addWeightedProduct(s *ExactSum, w, a, b float64) {
	p := a * b
	if math.IsInf(p, 0) || math.IsNaN(p) {
		s.AddProduct(w, p)
		return
	}
	s.AddProduct(w, p)
	s.AddProduct(w, math.FMA(a, b, -p))
}

// clone is a copy that shares no memory with m.
func (m Moments) clone() Moments {
	for _, s := range []*ExactSum{&m.Y, &m.X, &m.YY, &m.XX, &m.XY} {
		s.Limbs = slices.Clone(s.Limbs)
	}
	return m
}

// Merge adds the pairs of o.
func (m *Moments) Merge(o Moments) {
	m.N += o.N
	m.Y.Merge(o.Y)
	m.X.Merge(o.X)
	m.YY.Merge(o.YY)
	m.XX.Merge(o.XX)
	m.XY.Merge(o.XY)
}

// group returns the lmGroup of the pairs: the means and the centred sums
//
//	ȳ = Σy/N,  Syy = Σy² − (Σy)²/N = (N·Σy² − (Σy)²)/N,  Sxy = (N·Σxy − Σx·Σy)/N, …
//
// computed from the exact sums in exact arithmetic and rounded once, so every field is
// the float64 nearest to its exact value (up to the one rounding of the quotient).
func (m Moments) group(branch string) lmGroup {
	g := lmGroup{branch: branch, n: m.N}
	if m.N == 0 {
		return g
	}
	if nf := m.Y.NonFinite + m.X.NonFinite + m.YY.NonFinite + m.XX.NonFinite + m.XY.NonFinite; nf != 0 || nf != nf {
		// A non-finite value makes every moment non-finite, as a float64 sum would.
		g.meanY, g.meanX = m.Y.Float64(), m.X.Float64()
		g.syy, g.sxx, g.sxy = m.YY.Float64(), m.XX.Float64(), m.XY.Float64()
		return g
	}
	n := new(big.Float).SetInt64(m.N)
	sy, sx := m.Y.Big(), m.X.Big()
	g.meanY = quotient(sy, n)
	g.meanX = quotient(sx, n)
	g.syy = quotient(centred(n, m.YY.Big(), sy, sy), n)
	g.sxx = quotient(centred(n, m.XX.Big(), sx, sx), n)
	g.sxy = quotient(centred(n, m.XY.Big(), sx, sy), n)
	return g
}

// centred is N·Σab − Σa·Σb, exactly.
func centred(n, sab, sa, sb *big.Float) *big.Float {
	l := exactFloat().Mul(n, sab)
	r := exactFloat().Mul(sa, sb)
	return l.Sub(l, r)
}

// exactFloat is a big.Float wide enough that products and differences of ExactSums are
// exact: an ExactSum has at most about 2,100 significant bits.
func exactFloat() *big.Float { return new(big.Float).SetPrec(8192) }

// quotient is a/b rounded to float64 (through a 8192-bit quotient).
func quotient(a, b *big.Float) float64 {
	f, _ := exactFloat().Quo(a, b).Float64()
	return f
}
