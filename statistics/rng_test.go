package statistics

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestXoshiro256PlusPlus(t *testing.T) {
	// Reference outputs for the state {1, 2, 3, 4} (Vigna's xoshiro256plusplus.c).
	g := rng{1, 2, 3, 4}
	for i, want := range []uint64{41943041, 58720359, 3588806011781223, 3591011842654386} {
		if got := g.next(); got != want {
			t.Errorf("output %d = %d, want %d", i, got, want)
		}
	}
}

// ksStatistic is the Kolmogorov–Smirnov distance between a sample and a CDF.
func ksStatistic(x []float64, cdf func(float64) float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	for i, v := range s {
		f := cdf(v)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f))
	}
	return d
}

// ksLimit is the KS critical value at significance 1e-6: √(ln(2/α)/2)/√n.
func ksLimit(n int) float64 { return math.Sqrt(math.Log(2/1e-6)/2) / math.Sqrt(float64(n)) }

func TestDistributions(t *testing.T) {
	const n = 400_000
	tests := []struct {
		name string
		draw func(*rng) float64
		cdf  func(float64) float64
		mean float64
		sd   float64
	}{
		{"exp", (*rng).exp, distuv.Exponential{Rate: 1}.CDF, 1, 1},
		{"norm", (*rng).norm, distuv.UnitNormal.CDF, 0, 1},
		{"uniform", (*rng).uniform, func(x float64) float64 { return x }, 0.5, math.Sqrt(1.0 / 12)},
	}
	for _, shape := range []float64{0.3, 1, 2, 3, 4.5, 50, 80000} {
		gs := newGammaSampler(shape)
		tests = append(tests, struct {
			name string
			draw func(*rng) float64
			cdf  func(float64) float64
			mean float64
			sd   float64
		}{fmt.Sprintf("gamma(%v)", shape), gs.draw, distuv.Gamma{Alpha: shape, Beta: 1}.CDF, shape, math.Sqrt(shape)})
	}
	for _, ab := range [][2]float64{{3, 5}, {1, 801}, {4998, 4}} {
		bs := newBetaSampler(ab[0], ab[1])
		a, b := ab[0], ab[1]
		tests = append(tests, struct {
			name string
			draw func(*rng) float64
			cdf  func(float64) float64
			mean float64
			sd   float64
		}{fmt.Sprintf("beta(%v,%v)", a, b), bs.draw, distuv.Beta{Alpha: a, Beta: b}.CDF, a / (a + b), math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))})
	}
	for i, tc := range tests {
		g := newRNG(uint64(1000 + i))
		x := make([]float64, n)
		for j := range x {
			x[j] = tc.draw(&g)
		}
		if d := ksStatistic(x, tc.cdf); d > ksLimit(n) {
			t.Errorf("%s: KS distance %.5f > %.5f", tc.name, d, ksLimit(n))
		}
		m := nanMean(x)
		if se := tc.sd / math.Sqrt(n); math.Abs(m-tc.mean) > 6*se {
			t.Errorf("%s: mean %v, want %v ± %v", tc.name, m, tc.mean, 6*se)
		}
	}
}

// TestZigguratTails checks the rare paths: the fraction of exponentials
// beyond r = 7.697 is e^{−r}, of normals beyond ±3.4426 is 2(1 − Φ(3.4426)).
func TestZigguratTails(t *testing.T) {
	const n = 4_000_000
	g := newRNG(5)
	var e, z int
	for range n {
		if g.exp() > zigExpR {
			e++
		}
		if math.Abs(g.norm()) > zigNormR {
			z++
		}
	}
	check := func(name string, got int, p float64) {
		want := p * n
		if sd := math.Sqrt(want); math.Abs(float64(got)-want) > 6*sd {
			t.Errorf("%s tail: %d draws, want %.0f ± %.0f", name, got, want, 6*sd)
		}
	}
	check("exp", e, math.Exp(-zigExpR))
	check("norm", z, 2*distuv.UnitNormal.Survival(zigNormR))
}

// TestKernelStream checks that the hand-inlined kernel consumes the stream
// exactly like rng.exp/gammaSampler.draw in the documented order and
// computes Σ v·g / Σ g.
func TestKernelStream(t *testing.T) {
	tl := continuousTally(5000, 0)
	tl = MergeTallies(tl, NewTally([]float64{0, 1, 2.5}, []int64{700, 2, 40}))
	k := newDirichletKernel(tl.Values, tl.Counts)
	g := newRNG(11)
	ref := newRNG(11)
	for rep := range 50 {
		got := k.replicate(&g)
		var num, den float64
		for _, v := range k.ones {
			e := ref.exp()
			num += v * e
			den += e
		}
		for i, v := range k.multi {
			x := k.gam[i].draw(&ref)
			num += v * x
			den += x
		}
		if want := num / den; math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Fatalf("replicate %d = %v, want %v", rep, got, want)
		}
		if g != ref {
			t.Fatalf("replicate %d: generator state differs from the reference draw order", rep)
		}
	}
}

// TestDirichletMoments compares bootstrap replicates with the exact
// Bayesian-bootstrap moments: for w ~ Dirichlet(c), C = Σc, m = Σ c_k v_k / C,
//
//	E[Σ v_k w_k] = m,  Var[Σ v_k w_k] = Σ c_k (v_k − m)² / (C (C + 1)).
func TestDirichletMoments(t *testing.T) {
	values := []float64{0, 1, 5, 7.5}
	counts := []int64{3, 1, 2, 5}
	var c, m float64
	for i, v := range values {
		c += float64(counts[i])
		m += float64(counts[i]) * v
	}
	m /= c
	v := 0.0
	for i, x := range values {
		v += float64(counts[i]) * (x - m) * (x - m)
	}
	v /= c * (c + 1)
	const r = 200_000
	reps := fastSampler{}.dirichletMeans(values, counts, r, 77)
	mean := nanMean(reps)
	ss := 0.0
	for _, x := range reps {
		ss += (x - mean) * (x - mean)
	}
	variance := ss / (r - 1)
	if se := math.Sqrt(v / r); math.Abs(mean-m) > 6*se {
		t.Errorf("mean of replicates %v, want %v ± %v", mean, m, 6*se)
	}
	if math.Abs(variance/v-1) > 0.03 {
		t.Errorf("variance of replicates %v, want %v (±3%%)", variance, v)
	}
	// The legacy engine has the same distribution.
	reps = legacySampler{}.dirichletMeans(values, counts, r, 77)
	if se := math.Sqrt(v / r); math.Abs(nanMean(reps)-m) > 6*se {
		t.Errorf("legacy mean of replicates %v, want %v ± %v", nanMean(reps), m, 6*se)
	}
}
