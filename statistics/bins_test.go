package statistics

import (
	"math"
	"slices"
	"testing"
)

// binTallies are the tallies the binning tests run on: a continuous metric, a
// zero-inflated log-normal one (heavy tail, ties at 0) and an integer count.
func binTallies() map[string]Tally {
	g := newRNG(11)
	var logNormal, counts Tally
	for range 30000 {
		if g.uniform() < 0.3 {
			logNormal.Add(0)
		} else {
			logNormal.Add(math.Exp(1.5 * g.norm()))
		}
		counts.Add(math.Floor(g.exp() * 4))
	}
	logNormal.Compact()
	counts.Compact()
	return map[string]Tally{"exponential": continuousTally(20000, 0), "log-normal with zeros": logNormal, "integer counts": counts}
}

// TestBinValues checks binValues' contract on each tally: every client is in exactly one
// exact value or bin, the bins keep the tally's sum, every bin holds ≥ minBinValues
// values no wider than h = 2σ√ε, and the within-bin sums of squares add up to at most
// ε·SS.
func TestBinValues(t *testing.T) {
	for name, tl := range binTallies() {
		all := lmGroupOf("", tl.Values, nil, tl.Counts)
		for _, eps := range []float64{DefaultBinVariance, 0.01} {
			ev, ec, bins := binValues(tl.Values, tl.Counts, eps)
			var n int64
			var sum, within float64
			for i, v := range ev {
				n += ec[i]
				sum += v * float64(ec[i])
			}
			for _, b := range bins {
				m := b.gam.shape
				n += int64(m)
				sum += b.mean * m
				within += b.spread * b.spread * m * (m + 1)
			}
			if n != all.n {
				t.Errorf("%s, ε = %g: %d clients in values and bins, want %d", name, eps, n, all.n)
			}
			if want := all.meanY * float64(all.n); math.Abs(sum-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s, ε = %g: sum %v, want %v", name, eps, sum, want)
			}
			if within > eps*all.syy*(1+1e-12) {
				t.Errorf("%s, ε = %g: within-bin SS %v > ε·SS = %v", name, eps, within, eps*all.syy)
			}
			t.Logf("%s, ε = %g: %d distinct values → %d exact + %d bins; within-bin SS = %.3g of SS", name, eps, len(tl.Values), len(ev), len(bins), within/all.syy)
		}
	}
	// Integer counts have no run of 8 values within h at the default ε: nothing is binned.
	counts := binTallies()["integer counts"]
	if ev, _, bins := binValues(counts.Values, counts.Counts, DefaultBinVariance); len(bins) != 0 || !slices.Equal(ev, counts.Values) {
		t.Errorf("integer counts: %d bins, want every value exact", len(bins))
	}
	// The continuous ones collapse: 20,000 distinct values to 263 exact values (the sparse
	// upper tail) and 206 bins. The counts pin the binning rule: changing the rule (h,
	// minBinValues) must change them here on purpose.
	exp := binTallies()["exponential"]
	if ev, _, bins := binValues(exp.Values, exp.Counts, DefaultBinVariance); len(ev) != 263 || len(bins) != 206 {
		t.Errorf("exponential: %d exact + %d bins for %d values, want 263 + 206", len(ev), len(bins), len(exp.Values))
	}
}

// TestBinnedKernelMoments checks the bins' draws against the Bayesian bootstrap's exact
// moments: for n clients with values x_i and w ~ Dirichlet(1, …, 1),
//
//	E[Σ w_i·x_i] = x̄,  Var[Σ w_i·x_i] = SS/(n(n + 1)).
//
// The bins are made coarse (ε = 0.9) so that the within-bin term carries a large share of
// the variance: the replicates' variance is still the exact one, and without the
// within-bin term (spread 0) it is measurably too small.
func TestBinnedKernelMoments(t *testing.T) {
	const r = 40000
	tl := binTallies()["log-normal with zeros"]
	all := lmGroupOf("", tl.Values, nil, tl.Counts)
	n := float64(all.n)
	wantVar := all.syy / (n * (n + 1))
	k := newBinnedKernel(tl.Values, tl.Counts, 0.9)
	within := 0.0
	for _, b := range k.bins {
		within += b.spread * b.spread * b.gam.shape * (b.gam.shape + 1)
	}
	if share := within / all.syy; share < 0.05 {
		t.Fatalf("within-bin share of SS %.3f: too small for the test to see it", share)
	}
	moments := func(k *dirichletKernel) (mean, variance float64) {
		g := newRNG(5)
		reps := make([]float64, r)
		for i := range reps {
			reps[i] = k.replicate(&g)
		}
		mean = nanMean(reps)
		for _, x := range reps {
			variance += (x - mean) * (x - mean)
		}
		return mean, variance / (r - 1)
	}
	// A variance from r replicates has a relative sd of √(2/r) = 0.7%; 3% is 4 sd.
	mean, v := moments(k)
	if math.Abs(v/wantVar-1) > 0.03 {
		t.Errorf("binned: Var(replicates) = %.5g, want %.5g ± 3%%", v, wantVar)
	}
	if tol := 4 * math.Sqrt(wantVar/r); math.Abs(mean-all.meanY) > tol {
		t.Errorf("binned: mean of replicates %.6g, want %.6g ± %.2g", mean, all.meanY, tol)
	}
	flat := *k
	flat.bins = slices.Clone(k.bins)
	for i := range flat.bins {
		flat.bins[i].spread = 0
	}
	_, vFlat := moments(&flat)
	if vFlat > wantVar*(1-0.03) {
		t.Errorf("bins without their within-bin term: Var(replicates) = %.5g, want below %.5g (the check above could not fail)", vFlat, wantVar*(1-0.03))
	}
	t.Logf("Var(replicates) %.5g binned, %.5g without the within-bin term, want %.5g; within-bin share of SS %.3f", v, vFlat, wantVar, within/all.syy)
}

// TestExactBootstrapOption checks that Options.ExactBootstrap turns the bins off: a
// continuous metric's replicates differ between the default and the exact option, and the
// exact option's are those of a kernel over every value.
func TestExactBootstrapOption(t *testing.T) {
	tl := binTallies()["exponential"]
	params := map[string]any{"num_samples": int64(300), "drop_highest": 0.0}
	exact, err := NewWithOptions("bootstrap_mean", params, Options{ExactBootstrap: true})
	if err != nil {
		t.Fatal(err)
	}
	binned, err := NewWithOptions("bootstrap_mean", params, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := exact.Estimate("control", tl, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := binned.Estimate("control", tl, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := (fastSampler{}).bootstrapMeans(tl, 0, 300, 3); !slices.Equal(e.Replicates, want) {
		t.Errorf("ExactBootstrap: replicates differ from the exact kernel's")
	}
	if slices.Equal(e.Replicates, b.Replicates) {
		t.Errorf("default options: replicates equal the exact ones; want binned draws")
	}
}
