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
	// Runs of counts 2 and 3 (expSumRun, with misses of the fast path inside a value)
	// between counts drawn by Marsaglia–Tsang.
	for i := range 3000 {
		tl = MergeTallies(tl, NewTally([]float64{100 + float64(i)/7}, []int64{int64(2 + i%3 + i%50/49*5)}))
	}
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
	// multiSums adds exactly what the plain loop over gammaSampler.draw adds, bit for bit.
	g, ref = newRNG(12), newRNG(12)
	for rep := range 50 {
		sb, db := k.multiSums(&g, 1, 2)
		wb, wd := 1.0, 2.0
		for i, v := range k.multi {
			x := k.gam[i].draw(&ref)
			wb += x
			wd += float64(v * x)
		}
		if sb != wb || db != wd || g != ref {
			t.Fatalf("replicate %d: multiSums = (%v, %v), want (%v, %v) bit for bit, same generator state", rep, sb, db, wb, wd)
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

// TestZigguratTables checks the exponential ziggurat's constants and
// tables: v = e^{−r}(r + 1), every layer (including the top one, which
// closes the recurrence at x_0 = 0) has area v, and the wedge bounds
// enclose the curve.
func TestZigguratTables(t *testing.T) {
	if v := math.Exp(-zigExpR) * (zigExpR + 1); math.Abs(v/zigExpV-1) > 1e-14 {
		t.Errorf("zigExpV = %v, want e^{−r}(r+1) = %v", zigExpV, v)
	}
	xPrev := 0.0
	for i := 1; i < zigExpN; i++ {
		x := expW[i] * zigScale
		if !(x > xPrev) {
			t.Fatalf("layer %d: x = %v not above x_{i−1} = %v", i, x, xPrev)
		}
		if a := x * (expF[i-1] - expF[i]); math.Abs(a/zigExpV-1) > 1e-10 {
			t.Errorf("layer %d: area %v, want v = %v", i, a, zigExpV)
		}
		if k := float64(expK[i]) / zigScale; math.Abs(k-xPrev/x) > 1e-15 {
			t.Errorf("layer %d: k/2⁵³ = %v, want x_{i−1}/x_i = %v", i, k, xPrev/x)
		}
		// Along the wedge, tangent ≤ e^{−x} ≤ chord, in z = y + B·x terms.
		for _, s := range []float64{0, 0.25, 0.5, 0.75, 1} {
			xs := xPrev + s*(x-xPrev)
			z := math.Exp(-xs) + expB[i]*xs
			if !(z > expA[i] && z < expC[i]) {
				t.Fatalf("layer %d, x = %v: z = %v outside (%v, %v)", i, xs, z, expA[i], expC[i])
			}
		}
		xPrev = x
	}
	if r := expW[zigExpN-1] * zigScale; r != zigExpR {
		t.Errorf("x_{n−1} = %v, want r = %v", r, zigExpR)
	}
}

// TestWedgeAccept checks that the wedge pre-test never changes a decision:
// wedgeAccept(i, x, y) must equal y < portableExp(−x) on uniform points of
// every wedge and on points within a few ulps of the curve (which the
// bounds must leave to portableExp).
func TestWedgeAccept(t *testing.T) {
	g := newRNG(3)
	decided := 0
	const perLayer = 1000
	for i := uint64(1); i < zigExpN; i++ {
		for range perLayer {
			// A point of the wedge as expSlow draws it.
			j := expK[i] + g.next()%(zigScale-expK[i])
			x := float64(j) * expW[i]
			y := expF[i] + float64(g.uniform()*(expF[i-1]-expF[i]))
			if got, want := wedgeAccept(i, x, y), y < portableExp(-x); got != want {
				t.Fatalf("layer %d: wedgeAccept(%v, %v) = %v, want %v", i, x, y, got, want)
			}
			if z := y + expB[i]*x; z < expA[i] || z > expC[i] {
				decided++
			}
			// Points at and next to the curve.
			e := portableExp(-x)
			for _, y := range []float64{e, math.Nextafter(e, 0), math.Nextafter(e, 2), e * (1 - 1e-13), e * (1 + 1e-13)} {
				if got, want := wedgeAccept(i, x, y), y < e; got != want {
					t.Fatalf("layer %d: wedgeAccept(%v, %v) = %v next to the curve, want %v", i, x, y, got, want)
				}
			}
		}
	}
	// The pre-test exists to avoid portableExp: it must decide almost always.
	if frac := float64(decided) / (perLayer * (zigExpN - 1)); frac < 0.99 {
		t.Errorf("pre-test decided %.4f of the wedge points, want ≥ 0.99", frac)
	}
}

// TestExpSampler checks the ziggurat exponential against Exp(1) on
// 4,000,000 draws: mean and variance (6 standard errors), the KS distance,
// and a χ² test on the cells [x_{i−1}, x_i) of the ziggurat's layers plus
// the tail [r, ∞), which sees a defect confined to one layer or to the
// wedges (a wrong wedge test, say) that the global statistics would
// dilute.
func TestExpSampler(t *testing.T) {
	const n = 4_000_000
	g := newRNG(2026)
	x := make([]float64, n)
	for i := range x {
		x[i] = g.exp()
	}
	mean := nanMean(x)
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	variance := ss / (n - 1)
	// Var(X) = 1 and, for Exp(1), Var(s²) ≈ (μ₄ − σ⁴)/n = 8/n.
	if se := 1 / math.Sqrt(n); math.Abs(mean-1) > 6*se {
		t.Errorf("mean %v, want 1 ± %v", mean, 6*se)
	}
	if se := math.Sqrt(8.0 / n); math.Abs(variance-1) > 6*se {
		t.Errorf("variance %v, want 1 ± %v", variance, 6*se)
	}
	if d := ksStatistic(x, distuv.Exponential{Rate: 1}.CDF); d > ksLimit(n) {
		t.Errorf("KS distance %.5f > %.5f", d, ksLimit(n))
	}
	// χ² over the layer cells: edges x_0 = 0 < x_1 < … < x_{n−1} = r.
	edges := make([]float64, zigExpN)
	for i := 1; i < zigExpN; i++ {
		edges[i] = expW[i] * zigScale
	}
	counts := make([]float64, zigExpN)
	for _, v := range x {
		c, _ := slices.BinarySearch(edges, v) // edges[c−1] < v ≤ edges[c]
		counts[max(c-1, 0)]++
	}
	chi2 := 0.0
	for c := range counts {
		var p float64 // e^{−a} − e^{−b} for the cell [a, b)
		if c == zigExpN-1 {
			p = math.Exp(-edges[c])
		} else {
			p = -math.Exp(-edges[c]) * math.Expm1(edges[c]-edges[c+1])
		}
		d := counts[c] - n*p
		chi2 += d * d / (n * p)
	}
	// df = zigExpN − 1; the limit is 6 standard deviations √(2·df) above it.
	df := float64(zigExpN - 1)
	if limit := df + 6*math.Sqrt(2*df); chi2 > limit {
		t.Errorf("χ² over the %d layer cells = %.0f > %.0f", zigExpN, chi2, limit)
	}
}

// TestExpWedges checks the slow path statistically, where TestExpSampler
// cannot see it (the wedges hold 0.2% of the mass). A draw that misses the
// fast path in the wedge of layer i is accepted at once (one uniform
// drawn) with probability P_i = area under the curve / area of the wedge,
// and an accepted x is distributed ∝ e^{−x} − f_i over [x_{i−1}, x_i].
// Over 500,000 misses spread over the layers, the number of immediate
// acceptances and the sum of their relative positions s = (x − x_{i−1})/h_i
// must match their expectations within 6 standard deviations.
func TestExpWedges(t *testing.T) {
	accZ, posZ := expWedgeZ(99, 500_000)
	if math.Abs(accZ) > 6 {
		t.Errorf("immediate wedge acceptances: z = %.1f", accZ)
	}
	if math.Abs(posZ) > 6 {
		t.Errorf("positions of accepted wedge points: z = %.1f", posZ)
	}
}

// expWedgeZ feeds n misses (uniform layer i ≥ 1, uniform abscissa in the
// wedge) to rng.expSlow and returns the z-scores of the immediate
// acceptances and of the sum of their positions (see TestExpWedges).
func expWedgeZ(seed uint64, n int) (accZ, posZ float64) {
	g := newRNG(seed)
	src := newRNG(seed + 1)
	var acc, accVar, pos, posVar float64 // observed − expected, variance
	for range n {
		i := 1 + src.next()%(zigExpN-1)
		j := expK[i] + src.next()%(zigScale-expK[i])
		a, b := 0.0, expW[i]*zigScale
		if i > 1 {
			a = expW[i-1] * zigScale
		}
		h, fa, fb := b-a, expF[i-1], expF[i]
		box := h * (fa - fb)
		p := ((fa - fb) - h*fb) / box // area under e^{−x}, above f_i, / box
		// E[s·1{accepted}] = ∫₀ʰ (t/h)(e^{−(a+t)} − f_i) dt / box.
		ps := (fa*(-math.Expm1(-h)-h*math.Exp(-h)) - fb*h*h/2) / h / box
		next := g
		next.next() // the state after exactly one uniform
		x := g.expSlow(j<<11 | i)
		if g == next && x >= a && x < b {
			acc++
			pos += (x - a) / h
		}
		acc -= p
		pos -= ps
		accVar += p * (1 - p)
		posVar += ps * (1 - ps) // bounds Var(s·1{accepted}), s ∈ [0, 1]
	}
	return acc / math.Sqrt(accVar), pos / math.Sqrt(posVar)
}
