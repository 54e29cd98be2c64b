package statistics

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// mixedValues are values over the whole float64 range: subnormals, huge ones, both signs.
func mixedValues(g *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		x := math.Ldexp(g.Float64()+0.5, g.IntN(2090)-1080)
		if g.IntN(2) == 0 {
			x = -x
		}
		v[i] = x
	}
	return v
}

// bigSum is the exact sum, by big.Float with room for the whole float64 range.
func bigSum(v []float64) *big.Float {
	s := new(big.Float).SetPrec(4096)
	for _, x := range v {
		s.Add(s, new(big.Float).SetFloat64(x))
	}
	return s
}

func TestExactSumIsExact(t *testing.T) {
	g := rand.New(rand.NewPCG(3, 4))
	v := mixedValues(g, 2000)
	var s ExactSum
	for _, x := range v {
		s.Add(x)
	}
	want := bigSum(v)
	if s.Big().Cmp(want) != 0 {
		t.Fatalf("sum = %v, want %v", s.Big(), want)
	}
	wantF, _ := want.Float64()
	if got := s.Float64(); got != wantF {
		t.Errorf("Float64 = %v, want %v", got, wantF)
	}
}

func TestExactSumCancellation(t *testing.T) {
	var s ExactSum
	for _, x := range []float64{1e20, 1, -1e20, 0.1, -0.1, 3e-300} {
		s.Add(x)
	}
	// A float64 running sum gives 3e-300 (the 1 is lost to 1e20); the exact sum is 1 + 3e-300.
	if got := s.Float64(); got != 1 {
		t.Errorf("sum = %v, want 1", got)
	}
	want := new(big.Float).SetPrec(4096).SetFloat64(1)
	want.Add(want, new(big.Float).SetFloat64(3e-300))
	if s.Big().Cmp(want) != 0 {
		t.Errorf("exact sum = %v, want 1 + 3e-300", s.Big())
	}
}

// TestExactSumOrderIndependent: any order and any split into merged parts give the same
// sum, bit for bit.
func TestExactSumOrderIndependent(t *testing.T) {
	g := rand.New(rand.NewPCG(5, 6))
	v := make([]float64, 5000)
	for i := range v {
		v[i] = g.NormFloat64() * math.Pow(10, float64(g.IntN(12)-6))
	}
	var whole ExactSum
	for _, x := range v {
		whole.Add(x)
	}
	for range 5 {
		g.Shuffle(len(v), func(a, b int) { v[a], v[b] = v[b], v[a] })
		var parts [3]ExactSum
		for _, x := range v {
			parts[g.IntN(3)].Add(x)
		}
		parts[2].Merge(parts[0])
		parts[1].Merge(parts[2])
		if parts[1].Big().Cmp(whole.Big()) != 0 || parts[1].Float64() != whole.Float64() {
			t.Fatalf("split sum %v, whole %v", parts[1].Big(), whole.Big())
		}
	}
}

func TestExactSumNormalize(t *testing.T) {
	g := rand.New(rand.NewPCG(7, 8))
	v := mixedValues(g, 300)
	var s ExactSum
	for _, x := range v {
		s.Add(x)
	}
	before := s.Big()
	s.normalize()
	if s.Big().Cmp(before) != 0 {
		t.Fatalf("normalize changed the sum: %v → %v", before, s.Big())
	}
	for k, l := range s.Limbs[:len(s.Limbs)-1] {
		if l < 0 || l >= 1<<32 {
			t.Errorf("limb %d = %d after normalize, want [0, 2³²)", k, l)
		}
	}
}

func TestExactSumNonFinite(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{[]float64{1, math.Inf(1), 2}, math.Inf(1)},
		{[]float64{math.Inf(-1), 1}, math.Inf(-1)},
		{[]float64{math.Inf(1), 1, math.Inf(-1)}, math.NaN()},
		{[]float64{math.NaN(), 1}, math.NaN()},
	}
	for _, c := range cases {
		var s ExactSum
		for _, x := range c.in {
			s.Add(x)
		}
		got := s.Float64()
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("sum of %v = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestExactSumAddProduct(t *testing.T) {
	a, b := 0.1, 3.0000000000000004 // a·b is not a float64
	var s ExactSum
	s.AddProduct(a, b)
	want := new(big.Float).SetPrec(4096).Mul(new(big.Float).SetFloat64(a), new(big.Float).SetFloat64(b))
	if s.Big().Cmp(want) != 0 {
		t.Errorf("a·b = %v, want %v", s.Big(), want)
	}
}

// TestMomentsGroup: hand-computed centred sums, and a case where the raw-sum formula in
// float64 cancels catastrophically.
func TestMomentsGroup(t *testing.T) {
	var m Moments
	for i, y := range []float64{1, 2, 3, 4} {
		m.Add(y, []float64{2, 4, 6, 9}[i], 1)
	}
	g := m.group("b")
	// ȳ = 2.5, x̄ = 5.25, Syy = 30 − 100/4 = 5, Sxx = 137 − 441/4 = 26.75, Sxy = 64 − 210/4 = 11.5.
	if g.n != 4 || g.meanY != 2.5 || g.meanX != 5.25 || g.syy != 5 || g.sxx != 26.75 || g.sxy != 11.5 {
		t.Errorf("group = %+v", g)
	}

	var big9 Moments
	ys := []float64{1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3}
	for _, y := range ys {
		big9.Add(y, 0, 2)
	}
	// Exact Syy of the float64 values (each twice): 2·Σ (yᵢ − ȳ)² with the yᵢ as stored.
	mean := (ys[0] - 1e9 + ys[1] - 1e9 + ys[2] - 1e9) / 3 // exact: the differences are exact
	var want float64
	for _, y := range ys {
		want += 2 * (y - 1e9 - mean) * (y - 1e9 - mean)
	}
	if got := big9.group("b").syy; math.Abs(got-want) > 1e-15*want {
		t.Errorf("Syy = %v, want %v (raw sums in float64 give %v)", got, want, rawSyy(ys, 2))
	}
}

// rawSyy is Σy² − (Σy)²/n in float64, the formula Moments avoids.
func rawSyy(ys []float64, c float64) float64 {
	var s, s2 float64
	for _, y := range ys {
		s += c * y
		s2 += c * y * y
	}
	return s2 - s*s/(c*float64(len(ys)))
}

func BenchmarkMomentsAdd(b *testing.B) {
	g := rand.New(rand.NewPCG(1, 1))
	ys, xs := make([]float64, 4096), make([]float64, 4096)
	for i := range ys {
		ys[i], xs[i] = g.ExpFloat64()*3, g.ExpFloat64()*2
	}
	var m Moments
	b.ResetTimer()
	for i := range b.N {
		m.Add(ys[i%4096], xs[i%4096], 1)
	}
}
