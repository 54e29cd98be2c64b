package statistics

import (
	"math"
	"slices"
	"testing"
)

// referenceWinsorReplicate is the definition of a winsorKernel replicate, computed
// naively: the Dirichlet draws in dirichletKernel's order (count-1 values ascending, then
// the others ascending) of the values below values[top:], then one Gamma draw for the
// total weight of values[top:] (top = len(values): none); the weighted (1 − d)-quantile
// τ = the smallest value whose cumulative weight reaches (1 − d)·Σg, and Σ min(v, τ)·g /
// Σg. It is NaN when τ would be in values[top:], whose weights are not drawn apart.
func referenceWinsorReplicate(values []float64, counts []int64, top int, d float64, g *rng) float64 {
	draws := make([]float64, top)
	for i, c := range counts[:top] {
		if c == 1 {
			draws[i] = g.exp()
		}
	}
	for i, c := range counts[:top] {
		if c > 1 {
			gs := newGammaSampler(float64(c))
			draws[i] = gs.draw(g)
		}
	}
	var topWeight float64
	if top < len(values) {
		var n int64
		for _, c := range counts[top:] {
			n += c
		}
		gs := newGammaSampler(float64(n))
		topWeight = gs.draw(g)
	}
	sum := topWeight
	for _, x := range draws {
		sum += x
	}
	tau, cum := math.NaN(), 0.0
	if top == len(values) {
		tau = values[len(values)-1]
	}
	for i, x := range draws {
		cum += x
		if cum >= (1-d)*sum {
			tau = values[i]
			break
		}
	}
	dot := tau * topWeight
	for i, v := range values[:top] {
		dot += min(v, tau) * draws[i]
	}
	return dot / sum
}

// TestWinsorKernelReference checks the kernel, through its fast path and through its
// fallback (a tail of one value, which the threshold often falls below), against the
// naive definition, and that it consumes the generator exactly as the naive draws do;
// kernels with a top against the naive definition with the same top.
func TestWinsorKernelReference(t *testing.T) {
	tl := continuousTally(3000, 0)
	tl = MergeTallies(tl, NewTally([]float64{0, 1, 2.5, 40, 55}, []int64{700, 2, 40, 3, 1}))
	big := continuousTally(100000, 0)
	big = MergeTallies(big, NewTally([]float64{0, 60, 70}, []int64{5000, 30, 40}))
	cases := []struct {
		name string
		tl   Tally
		kern *winsorKernel
		d    float64
		top  bool // the kernel has a top
	}{
		{"default tail", tl, newWinsorKernel(tl.Values, tl.Counts, 0.005, 0), 0.005, false},
		{"wide drop", tl, newWinsorKernel(tl.Values, tl.Counts, 0.2, 0), 0.2, true},
		{"105,070 clients", big, newWinsorKernel(big.Values, big.Counts, 0.005, 0), 0.005, true},
		{"one-value tail", tl, splitWinsorKernel(tl.Values, tl.Counts, len(tl.Values)-1, len(tl.Values), 0.005, 0), 0.005, false},
	}
	for _, c := range cases {
		tl := c.tl
		if (c.kern.top != nil) != c.top {
			t.Fatalf("%s: top %v, want %v", c.name, c.kern.top != nil, c.top)
		}
		g, ref := newRNG(5), newRNG(5)
		buf := c.kern.newBuffer()
		fellBack := 0
		for rep := range 200 {
			before := g
			if _, ok := c.kern.tryReplicate(&before, buf); !ok {
				fellBack++
			}
			got := c.kern.replicate(&g, buf)
			want := referenceWinsorReplicate(tl.Values, tl.Counts, c.kern.topCut, c.d, &ref)
			if math.Abs(got-want) > 1e-12*math.Abs(want) {
				t.Fatalf("%s: replicate %d = %v, want %v", c.name, rep, got, want)
			}
			if g != ref {
				t.Fatalf("%s: replicate %d: generator state differs from the naive draw order", c.name, rep)
			}
		}
		if c.name == "one-value tail" && fellBack == 0 {
			t.Errorf("%s: the fallback never ran", c.name)
		}
		if c.name != "one-value tail" && fellBack != 0 {
			t.Errorf("%s: fell back %d times in 200 replicates", c.name, fellBack)
		}
	}
}

// TestWinsorKernelSmall checks hand-countable cases: with d below every client's share
// the threshold is the maximum whatever the weights (no clipping: the plain Bayesian
// bootstrap), and with d = 0.5 on two values of equal count it is the lower value in
// every replicate where that value weighs at least half.
func TestWinsorKernelSmall(t *testing.T) {
	values, counts := []float64{1, 3, 8}, []int64{4, 4, 4}
	g, h := newRNG(9), newRNG(9)
	plain := newDirichletKernel(values, counts)
	k := newWinsorKernel(values, counts, 1e-9, 0)
	buf := k.newBuffer()
	for range 100 {
		got, want := k.replicate(&g, buf), plain.replicate(&h)
		if math.Abs(got-want) > 1e-12*want {
			t.Fatalf("d = 1e-9: replicate %v, want the unclipped %v", got, want)
		}
	}
	// Two values 0 and 10, d = 0.5: τ is 0 when w_0 ≥ 0.5 (replicate 0), else 10
	// (replicate 10·w_10 unclipped, w_10 > 0.5, so above 5).
	values, counts = []float64{0, 10}, []int64{5, 5}
	k = newWinsorKernel(values, counts, 0.5, 0)
	buf = k.newBuffer()
	g = newRNG(3)
	zeros := 0
	for range 2000 {
		r := k.replicate(&g, buf)
		switch {
		case r == 0:
			zeros++
		case r <= 5 || r > 10:
			t.Fatalf("d = 0.5: replicate %v, want 0 or in (5, 10]", r)
		}
	}
	// P(w_0 ≥ 0.5) = 1/2 by symmetry.
	if zeros < 900 || zeros > 1100 {
		t.Errorf("d = 0.5: %d of 2000 replicates clipped to 0, want about 1000", zeros)
	}
}

// TestWinsorKernelVariance compares the spread of the replicates with the asymptotic
// variance of the winsorized mean T = E[min(X, τ)], τ = F⁻¹(1 − d), whose influence
// function is
//
//	IF(x) = min(x, τ) − T + d·((1 − d) − 1{x ≤ τ})/f(τ).
//
// For X ~ Exp(1) and d = 0.05: τ = ln 20, f(τ) = d, T = 1 − d, and
// Var IF = Var min(X, τ) + d(1 − d) + 2d(τ − T) = 0.95 (to 4 digits: 0.6975 + 0.0475 +
// 0.2045 = 0.9495), against 0.6975 with the threshold held fixed (mozanalysis), which
// is what the NumpyLegacy engine's replicates show.
func TestWinsorKernelVariance(t *testing.T) {
	const n, r, d = 20000, 4000, 0.05
	g := newRNG(2024)
	var tl Tally
	for range n {
		tl.Add(g.exp())
	}
	tl.Compact()
	tau := math.Log(20)
	clippedVar := 2 - 2*d*(tau+1) - (1-d)*(1-d)
	want := clippedVar + d*(1-d) + 2*d*(tau-(1-d))
	variance := func(reps []float64) float64 {
		m := nanMean(reps)
		ss := 0.0
		for _, x := range reps {
			ss += (x - m) * (x - m)
		}
		return ss / float64(len(reps)-1) * n
	}
	// The variance of a variance estimate from r replicates has a relative sd of about
	// sqrt(2/r) = 2.2%; the sample's own deviation from Exp(1) adds about as much. The
	// Fast engine is checked with every value drawn exactly and with its default bins.
	for _, s := range []fastSampler{{}, {binVariance: DefaultBinVariance}} {
		fast := variance(s.bootstrapMeans(tl, d, r, 7))
		if math.Abs(fast/want-1) > 0.12 {
			t.Errorf("Fast (ε = %g): n·Var(replicates) = %.4f, want %.4f (the influence function's) ± 12%%", s.binVariance, fast, want)
		}
		t.Logf("n·Var(replicates): Fast (ε = %g) %.4f (want %.4f)", s.binVariance, fast, want)
		// The mean of the replicates estimates T.
		reps := s.bootstrapMeans(tl, d, r, 7)
		if m := nanMean(reps); math.Abs(m-(1-d)) > 4*math.Sqrt(want/n) {
			t.Errorf("Fast (ε = %g): mean of replicates %.4f, want %.4f ± %.4f", s.binVariance, m, 1-d, 4*math.Sqrt(want/n))
		}
	}
	legacy := variance(legacySampler{}.bootstrapMeans(tl, d, r, 7))
	if math.Abs(legacy/clippedVar-1) > 0.12 {
		t.Errorf("NumpyLegacy: n·Var(replicates) = %.4f, want %.4f (the clipped values') ± 12%%", legacy, clippedVar)
	}
	t.Logf("n·Var(replicates): NumpyLegacy %.4f (want %.4f)", legacy, clippedVar)
}

// TestWinsorKernelBlocks checks that bootstrapMeanBlocks pieces join into bootstrapMeans
// bit for bit.
func TestWinsorKernelBlocks(t *testing.T) {
	tl := continuousTally(2000, 300)
	for _, s := range []fastSampler{{}, {binVariance: DefaultBinVariance}} {
		all := s.bootstrapMeans(tl, 0.005, 1000, 42)
		var joined []float64
		for _, rng := range [][2]int{{0, 1}, {1, 3}, {3, blocks(1000)}} {
			joined = append(joined, s.bootstrapMeanBlocks(tl, 0.005, 1000, 42, rng[0], rng[1])...)
		}
		if !slices.Equal(all, joined) {
			t.Errorf("ε = %g: blocks joined differ from bootstrapMeans", s.binVariance)
		}
	}
}
