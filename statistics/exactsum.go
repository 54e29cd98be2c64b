package statistics

import (
	"math"
	"math/big"
	"math/bits"
)

// ExactSum is the exact sum of float64 values, kept in fixed point: every finite float64
// is an integer multiple of 2⁻¹⁰⁷⁴, so
//
//	Σ vᵢ = Σ_k Limbs[k] · 2^(32·(Lo+k) − 1074)
//
// holds without rounding. Because nothing is rounded, the sum does not depend on the
// order of the additions nor on how partial sums were merged: a Beam combine that adds
// the same values in another bundling gets the same bits (a float64 running sum would
// not). Its cost is a few integer operations an addition.
//
// Each limb holds signed 32-bit chunks in an int64, so up to 2³¹ additions fit before a
// carry could overflow; normalize propagates the carries well before that. Non-finite
// values (±Inf, NaN) are summed apart in NonFinite, where their sum is order-independent
// too (NaN absorbs, Inf + −Inf is NaN).
//
// Like Tally it is a Beam-encodable accumulator: exported fields only.
type ExactSum struct {
	Lo        int32   // limb index of Limbs[0]
	Limbs     []int64 // Limbs[k] weighs 2^(32·(Lo+k) − 1074)
	Adds      int32   // additions since the carries were last propagated
	NonFinite float64 // sum of the ±Inf and NaN values added (0 when none)
}

// normalizeAfter is the number of additions after which the carries are propagated:
// each addition changes a limb by less than 2³², so limbs stay far from 2⁶³.
const normalizeAfter = 1 << 29

// Add adds v.
func (s *ExactSum) Add(v float64) {
	b := math.Float64bits(v)
	exp := int((b >> 52) & 0x7ff)
	if exp == 0x7ff {
		s.NonFinite += v
		return
	}
	mant := b & (1<<52 - 1)
	pos := 0 // v = ±mant · 2^(pos − 1074)
	if exp > 0 {
		mant |= 1 << 52
		pos = exp - 1
	}
	if mant == 0 {
		return
	}
	limb, shift := pos/32, uint(pos%32)
	hi, lo := bits.Mul64(mant, 1<<shift) // mant·2^shift < 2^85: three 32-bit chunks
	chunks := [3]int64{int64(lo & 0xffffffff), int64(lo >> 32), int64(hi)}
	if b>>63 == 1 {
		chunks[0], chunks[1], chunks[2] = -chunks[0], -chunks[1], -chunks[2]
	}
	s.cover(limb, limb+3)
	k := limb - int(s.Lo)
	s.Limbs[k] += chunks[0]
	s.Limbs[k+1] += chunks[1]
	s.Limbs[k+2] += chunks[2]
	if s.Adds++; s.Adds >= normalizeAfter {
		s.normalize()
	}
}

// AddProduct adds a·b exactly: the product is split into its rounded value and its
// rounding error (math.FMA is correctly rounded on every platform), both added.
func (s *ExactSum) AddProduct(a, b float64) {
	if a == 1 { // one client: nothing to round
		s.Add(b)
		return
	}
	p := a * b
	s.Add(p)
	if !math.IsInf(p, 0) && !math.IsNaN(p) {
		s.Add(math.FMA(a, b, -p))
	}
}

// Merge adds the sum o.
func (s *ExactSum) Merge(o ExactSum) {
	s.NonFinite += o.NonFinite
	if len(o.Limbs) == 0 {
		return
	}
	s.cover(int(o.Lo), int(o.Lo)+len(o.Limbs))
	k := int(o.Lo - s.Lo)
	for i, l := range o.Limbs {
		s.Limbs[k+i] += l
	}
	if s.Adds += o.Adds + 1; s.Adds >= normalizeAfter {
		s.normalize()
	}
}

// cover grows Limbs to hold limbs [from, to), with one limb of headroom above for carries.
func (s *ExactSum) cover(from, to int) {
	to++
	if len(s.Limbs) == 0 {
		s.Lo, s.Limbs = int32(from), make([]int64, to-from, to-from+2)
		return
	}
	lo, hi := int(s.Lo), int(s.Lo)+len(s.Limbs)
	if from >= lo && to <= hi {
		return
	}
	nlo, nhi := min(lo, from), max(hi, to)
	grown := make([]int64, nhi-nlo)
	copy(grown[lo-nlo:], s.Limbs)
	s.Lo, s.Limbs = int32(nlo), grown
}

// normalize propagates the carries so that every limb but the top one is in [0, 2³²).
func (s *ExactSum) normalize() {
	var carry int64
	for k := range s.Limbs {
		v := s.Limbs[k] + carry
		s.Limbs[k] = v & 0xffffffff
		carry = v >> 32 // arithmetic shift: floor division by 2³²
	}
	if carry != 0 {
		s.Limbs = append(s.Limbs, carry)
	}
	s.Adds = 0
}

// Big returns the exact sum (finite part only, see NonFinite) as a big.Float with as many
// bits as it needs.
func (s ExactSum) Big() *big.Float {
	c := ExactSum{Lo: s.Lo, Limbs: append([]int64(nil), s.Limbs...)}
	c.normalize()
	n := new(big.Int)
	for k := len(c.Limbs) - 1; k >= 0; k-- {
		n.Lsh(n, 32)
		n.Add(n, big.NewInt(c.Limbs[k]))
	}
	f := new(big.Float).SetPrec(uint(max(n.BitLen(), 64))).SetInt(n)
	return f.SetMantExp(f, 32*int(c.Lo)-1074)
}

// Float64 is the sum rounded to the nearest float64 (NonFinite when any non-finite value
// was added).
func (s ExactSum) Float64() float64 {
	if s.NonFinite != 0 || math.IsNaN(s.NonFinite) {
		return s.NonFinite
	}
	f, _ := s.Big().Float64()
	return f
}
