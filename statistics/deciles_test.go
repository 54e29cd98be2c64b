package statistics

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// replayLegacyDeciles replays the oracle's deciles draws for one (metric)
// run (README "Draw order after seed(S)"): after seed(S), for each reference
// run and each branch in first-appearance order, for q = 0.1 … 0.9,
// binomial(n − 1, q, size=R) from the global stream. Comparative rows come
// from the run of their reference, individual rows from the last run.
func replayLegacyDeciles(t *testing.T, c *goldenCase, metric string, params map[string]any, order, refs []string) []Row {
	t.Helper()
	st, err := NewWithOptions("deciles", statParams("deciles", params), Options{Engine: NumpyLegacy})
	if err != nil {
		t.Fatal(err)
	}
	r := st.(deciles).numSamples
	global := newMT19937(uint32(c.spec.Seed))
	var rows []Row
	for ri, ref := range refs {
		var est []Estimate
		for _, b := range order {
			os := newOrderStatistics(*c.tallies[metric][b])
			est = append(est, Estimate{
				Branch: b, N: os.n, Parameters: decileLabels,
				Replicates: legacyDecileReplicates(global, os, decileProbabilities, r),
			})
		}
		last := ri == len(refs)-1
		for _, row := range st.Rows(est) {
			if row.Comparison == "" && !last || row.Comparison != "" && row.ComparisonToBranch != ref {
				continue
			}
			row.Metric = metric
			rows = append(rows, row)
		}
	}
	return rows
}

func TestOrderStatistics(t *testing.T) {
	// Data 1 1 3 5 5 5 (added out of order).
	os := newOrderStatistics(tallyOf(5, 1, 3, 5, 1, 5))
	want := []float64{1, 1, 3, 5, 5, 5}
	if os.n != 6 {
		t.Fatalf("n = %d, want 6", os.n)
	}
	for i, w := range want {
		if got := os.at(int64(i)); got != w {
			t.Errorf("y_%d = %v, want %v", i, got, w)
		}
	}
}

// TestBinomialSampler checks the inversion and BTPE branches (and the
// p > 0.5 reflection) against the exact Binomial pmf with a chi-square test
// on the Fast engine's uniforms (fixed seed, so deterministic).
func TestBinomialSampler(t *testing.T) {
	tests := []struct {
		n         int64
		p         float64
		inversion bool
	}{
		{0, 0.3, true},
		{2, 0.1, true},
		{40, 0.5, true},      // n·p = 20
		{299, 0.9, true},     // (1 − p)·n = 29.9
		{1000, 0.1, false},   // n·p = 100: BTPE
		{2499, 0.7, false},   // BTPE on q = 0.3
		{100000, 0.5, false}, // large: the Stirling-bound branch
	}
	const draws = 200_000
	for _, tc := range tests {
		b := newBinomialSampler(tc.n, tc.p)
		if b.inversion != tc.inversion {
			t.Errorf("Binomial(%d, %v): inversion = %v, want %v", tc.n, tc.p, b.inversion, tc.inversion)
		}
		g := newRNG(uint64(tc.n) + 7)
		counts := map[int64]float64{}
		for range draws {
			x := b.draw(&g)
			if x < 0 || x > tc.n {
				t.Fatalf("Binomial(%d, %v) drew %d", tc.n, tc.p, x)
			}
			counts[x]++
		}
		if tc.n == 0 {
			if counts[0] != draws {
				t.Errorf("Binomial(0, p) drew non-zero values")
			}
			continue
		}
		// Chi-square over cells with expected count ≥ 20, the rest pooled.
		exact := distuv.Binomial{N: float64(tc.n), P: tc.p}
		var chi2, pooledObs, pooledExp float64
		cells := 0
		for k := int64(0); k <= tc.n; k++ {
			e := exact.Prob(float64(k)) * draws
			if e < 20 {
				pooledObs += counts[k]
				pooledExp += e
				continue
			}
			chi2 += (counts[k] - e) * (counts[k] - e) / e
			cells++
		}
		if pooledExp > 0 {
			chi2 += (pooledObs - pooledExp) * (pooledObs - pooledExp) / math.Max(pooledExp, 1e-300)
			cells++
		}
		// 1e-6 upper tail of chi-square with cells − 1 degrees of freedom.
		limit := distuv.ChiSquared{K: float64(cells - 1)}.Quantile(1 - 1e-6)
		if chi2 > limit {
			t.Errorf("Binomial(%d, %v): chi² = %.1f over %d cells, limit %.1f", tc.n, tc.p, chi2, cells, limit)
		}
	}
}

// TestParameterRows checks the per-parameter summaries by hand: with
// replicates 1..5 the type-7 quantile at 0.025 is 1 + 0.1·1 = 1.1 and at
// 0.975 it is 5 − 0.1·1 = 4.9; comparisons use the same probabilities.
func TestParameterRows(t *testing.T) {
	a := Estimate{Branch: "a", Parameters: []string{"0.1", "0.2"}, Replicates: []float64{1, 2, 3, 4, 5, 0, 0, 0, 0, 0}}
	b := Estimate{Branch: "b", Parameters: []string{"0.1", "0.2"}, Replicates: []float64{2, 2, 2, 2, 2, 0, 0, 0, 1, 0}}
	rows := parameterRows("deciles", "deciles", 0.95, []Estimate{b, a})
	nan := math.NaN()
	want := []Row{
		{Parameter: "0.1", Branch: "a", Point: 3, Lower: 1.1, Upper: 4.9},
		{Parameter: "0.2", Branch: "a", Point: 0, Lower: 0, Upper: 0},
		{Parameter: "0.1", Branch: "a", Comparison: Difference, ComparisonToBranch: "b", Point: 1, Lower: -0.9, Upper: 2.9},
		{Parameter: "0.2", Branch: "a", Comparison: Difference, ComparisonToBranch: "b", Point: -0.2, Lower: -0.9, Upper: 0},
		// a/b − 1 = −0.5, 0, 0.5, 1, 1.5: Q(0.025) = −0.5 + 0.1·0.5, Q(0.975) = 1.5 − 0.1·0.5.
		{Parameter: "0.1", Branch: "a", Comparison: RelativeUplift, ComparisonToBranch: "b", Point: 0.5, Lower: -0.45, Upper: 1.45},
		// 0/0 and 0/1 − 1: NaN replicates → point skips them, bounds NULL.
		{Parameter: "0.2", Branch: "a", Comparison: RelativeUplift, ComparisonToBranch: "b", Point: -1, Lower: nan, Upper: nan},
		{Parameter: "0.1", Branch: "b", Point: 2, Lower: 2, Upper: 2},
		{Parameter: "0.2", Branch: "b", Point: 0.2, Lower: 0, Upper: 0.9},
	}
	got := map[string]Row{}
	for _, r := range rows {
		if r.Statistic != "deciles" || r.CIWidth != 0.95 {
			t.Errorf("row %+v: statistic/ci_width", r)
		}
		got[r.key()] = r
	}
	if len(rows) != 12 {
		t.Errorf("got %d rows, want 12 (2 parameters × (2 individual + 4 comparative))", len(rows))
	}
	for _, w := range want {
		w.Statistic = "deciles"
		g, ok := got[w.key()]
		if !ok {
			t.Errorf("missing row %s", w.key())
			continue
		}
		for _, f := range [][3]float64{{g.Point, w.Point}, {g.Lower, w.Lower}, {g.Upper, w.Upper}} {
			if !(math.Abs(f[0]-f[1]) <= 1e-12 || math.IsNaN(f[0]) && math.IsNaN(f[1])) {
				t.Errorf("row %s: got (%v, %v, %v), want (%v, %v, %v)", w.key(), g.Point, g.Lower, g.Upper, w.Point, w.Lower, w.Upper)
				break
			}
		}
	}
}

func TestDecilesEstimate(t *testing.T) {
	for _, engine := range []Engine{Fast, NumpyLegacy} {
		st, err := NewWithOptions("deciles", map[string]any{"num_samples": int64(500), "confidence_interval": 0.9}, Options{Engine: engine})
		if err != nil {
			t.Fatal(err)
		}
		// One client: every replicate is its value.
		solo, err := st.Estimate("solo", tallyOf(7), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(solo.Replicates) != 9*500 || len(solo.Parameters) != 9 || solo.Parameters[0] != "0.1" || solo.Parameters[8] != "0.9" || solo.N != 1 {
			t.Fatalf("%s: estimate shape: %d replicates, parameters %v, N %d", engine, len(solo.Replicates), solo.Parameters, solo.N)
		}
		for _, v := range solo.Replicates {
			if v != 7 {
				t.Fatalf("%s: one-client replicate %v, want 7", engine, v)
			}
		}
		// Values 0..9 (n = 10): decile q draws y_I, I ~ Binomial(9, q), so
		// replicates are integers in [0, 9] with mean ≈ 9q.
		var tl Tally
		for v := range 10 {
			tl.Add(float64(v))
		}
		e, err := st.Estimate("ten", tl, 2)
		if err != nil {
			t.Fatal(err)
		}
		for k, q := range decileProbabilities {
			reps := e.Replicates[k*500 : (k+1)*500]
			m := nanMean(reps)
			// sd of the mean = √(9q(1−q)/500) ≤ 0.068.
			if math.Abs(m-9*q) > 0.4 {
				t.Errorf("%s: decile %v: mean %v, want ≈ %v", engine, q, m, 9*q)
			}
		}
		rows := st.Rows([]Estimate{e, solo})
		if len(rows) != 9*(2+4) {
			t.Errorf("%s: %d rows, want 54", engine, len(rows))
		}
		for _, r := range rows {
			if r.Comparison != "" && (math.IsNaN(r.Lower) || math.IsNaN(r.Upper)) && r.ComparisonToBranch == "solo" {
				t.Errorf("%s: comparison %s has NULL bounds at ci 0.9", engine, r.key())
			}
		}
		if _, err := st.Estimate("empty", Tally{}, 1); err == nil {
			t.Errorf("%s: empty tally accepted", engine)
		}
	}
}

// TestDecilesLegacySeed checks that the NumpyLegacy engine's estimate is the
// replay of np.random.seed(seed) followed by the nine binomial draws.
func TestDecilesLegacySeed(t *testing.T) {
	st, _ := NewWithOptions("deciles", map[string]any{"num_samples": int64(100)}, Options{Engine: NumpyLegacy})
	tl := continuousTally(200, 30)
	e, err := st.Estimate("b", tl, 1234)
	if err != nil {
		t.Fatal(err)
	}
	want := legacyDecileReplicates(newMT19937(1234), newOrderStatistics(tl), decileProbabilities, 100)
	if !identical(e.Replicates, want) {
		t.Error("legacy estimate differs from the replay of RandomState(1234)")
	}
}

// TestDecilesWorkers requires bitwise-identical replicates for every
// goroutine count (R·cost above the parallel threshold).
func TestDecilesWorkers(t *testing.T) {
	tl := continuousTally(5000, 700)
	var ref []float64
	for _, w := range []int{1, 3, 8} {
		st, _ := NewWithOptions("deciles", map[string]any{"num_samples": int64(140_000)}, Options{Workers: w})
		e, err := st.Estimate("b", tl, 99)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = e.Replicates
		} else if !identical(ref, e.Replicates) {
			t.Errorf("workers=%d: replicates differ", w)
		}
	}
}

// zeroInflatedTally returns n clients: 15% zeros, the rest 3·Exp(1)
// (continuous, so nearly all distinct), from seed.
func zeroInflatedTally(seed uint64, n int) Tally {
	g := newRNG(seed)
	var t Tally
	for range n {
		if g.uniform() < 0.15 {
			t.Add(0)
		} else {
			t.Add(3 * g.exp())
		}
	}
	t.Compact()
	return t
}

// benchCell times one cell of a statistic: Estimate for two branches of
// 500,000 clients each (1,000,000 clients) and Rows, reporting seconds
// per cell.
func benchCell(b *testing.B, name string, params map[string]any) {
	st, err := New(name, params)
	if err != nil {
		b.Fatal(err)
	}
	branches := []Tally{zeroInflatedTally(1, 500_000), zeroInflatedTally(2, 500_000)}
	b.ResetTimer()
	for i := range b.N {
		var est []Estimate
		for j, tl := range branches {
			e, err := st.Estimate(string(rune('a'+j)), tl, uint64(i))
			if err != nil {
				b.Fatal(err)
			}
			est = append(est, e)
		}
		if rows := st.Rows(est); len(rows) == 0 {
			b.Fatal("no rows")
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/cell")
}

// BenchmarkDeciles1M runs deciles (R = 10,000, Fast engine) on a cell of
// 1,000,000 clients in two branches.
func BenchmarkDeciles1M(b *testing.B) {
	benchCell(b, "deciles", nil)
}
