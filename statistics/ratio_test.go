package statistics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// replayLegacyRatio reproduces the oracle's population_ratio draws: per
// reference run, one start seed per branch (first-appearance order) from
// the global stream, then legacyRatioReplicates over the branch's rows in
// FILE ORDER (mozanalysis indexes the rows of its DataFrame, so the
// replicates are bit-exact only in that order), each column winsorized at
// its own per-branch quantile.
func replayLegacyRatio(t *testing.T, c *goldenCase, num, den string, params map[string]any, branches, refs []string) []Row {
	t.Helper()
	p := statParams("population_ratio", params)
	p["numerator"], p["denominator"] = num, den
	st, err := NewWithOptions("population_ratio", p, Options{Engine: NumpyLegacy})
	if err != nil {
		t.Fatal(err)
	}
	pr := st.(populationRatio)
	_, cols := c.pairs(t, num, den)
	global := newMT19937(uint32(c.spec.Seed))
	var rows []Row
	for ri, ref := range refs {
		var est []Estimate
		for _, b := range branches {
			start := global.boundedUint32(4294967294)
			x, y := cols[b][0], cols[b][1]
			if pr.dropHighest > 0 {
				hx, hy := Quantile(x, 1-pr.dropHighest), Quantile(y, 1-pr.dropHighest)
				x, y = append([]float64(nil), x...), append([]float64(nil), y...)
				for i := range x {
					x[i], y[i] = min(x[i], hx), min(y[i], hy)
				}
			}
			est = append(est, Estimate{Branch: b, N: int64(len(x)), Replicates: legacyRatioReplicates(x, y, pr.numSamples, start)})
		}
		last := ri == len(refs)-1
		for _, r := range st.Rows(est) {
			if r.Comparison == "" && !last || r.Comparison != "" && r.ComparisonToBranch != ref {
				continue
			}
			r.Metric = num + "/" + den
			rows = append(rows, r)
		}
	}
	return rows
}

func ratioStat(t testing.TB, opts Options, extra map[string]any) Statistic {
	p := map[string]any{"numerator": "n", "denominator": "d", "num_samples": int64(1000)}
	for k, v := range extra {
		p[k] = v
	}
	st, err := NewWithOptions("population_ratio", p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ratioPairs(xy ...float64) PairTally {
	var p PairTally
	for i := 0; i < len(xy); i += 2 {
		p.Add(xy[i], xy[i+1])
	}
	return p
}

func TestWinsorizePairs(t *testing.T) {
	// x = 1..5, y = 10, 20, 30, 40, 50; Q(0.75) = 4 and 40.
	p := ratioPairs(5, 10, 1, 50, 2, 20, 3, 30, 4, 40)
	w := WinsorizePairs(p, 0.25)
	want := PairTally{X: []float64{1, 2, 3, 4, 4}, Y: []float64{40, 20, 30, 10, 40}, Counts: []int64{1, 1, 1, 1, 1}}
	if fmt.Sprint(w) != fmt.Sprint(want) {
		t.Errorf("WinsorizePairs = %v, want %v", w, want)
	}
	// Clipped pairs that coincide merge: x = y = 1, 1, 1, 8, 9 with Q(0.75) = 8.
	w = WinsorizePairs(ratioPairs(1, 1, 9, 9, 8, 8, 1, 1, 1, 1), 0.25)
	if fmt.Sprint(w) != fmt.Sprint(PairTally{X: []float64{1, 8}, Y: []float64{1, 8}, Counts: []int64{3, 2}}) {
		t.Errorf("WinsorizePairs merge = %v", w)
	}
}

// TestPopulationRatio: identical clients give every replicate = x/y exactly;
// a two-valued branch has the expected mean and replicate spread.
func TestPopulationRatio(t *testing.T) {
	for _, e := range []Engine{Fast, NumpyLegacy} {
		st := ratioStat(t, Options{Engine: e}, nil)
		in := []Input{
			{Branch: "control", Pairs: ratioPairs(2, 4, 2, 4, 2, 4)},
			{Branch: "treatment", Pairs: ratioPairs(3, 4, 3, 4)},
		}
		rows, errs := Compute(st, in, func(b string) uint64 { return Seed(1, b) })
		if len(errs) > 0 || len(rows) != 6 {
			t.Fatalf("%s: %d rows, errs %v", e, len(rows), errs)
		}
		for _, w := range []struct {
			branch, comp string
			v            float64
		}{{"control", "", 0.5}, {"treatment", "", 0.75}, {"treatment", Difference, 0.25}, {"treatment", RelativeUplift, 0.5}} {
			r := findRow(t, rows, w.branch, w.comp, map[bool]string{true: "control"}[w.comp != ""])
			if r.Statistic != "population_ratio" || r.Point != w.v || r.Lower != w.v || r.Upper != w.v || r.CIWidth != 0.95 {
				t.Errorf("%s: row %+v, want %v", e, r, w.v)
			}
		}
	}
	// Clients (1, 1) and (0, 1), 500 each: a replicate is k/n with
	// k ~ Binomial(n, 1/2): mean 0.5, sd 1/(2√n).
	var p PairTally
	for i := range 1000 {
		p.Add(float64(i%2), 1)
	}
	for _, e := range []Engine{Fast, NumpyLegacy} {
		st := ratioStat(t, Options{Engine: e}, map[string]any{"num_samples": int64(4000), "drop_highest": 0.0})
		est, err := st.(populationRatio).estimatePairs("b", p, 7)
		if err != nil {
			t.Fatal(err)
		}
		mean, sd := meanSD(est.Replicates)
		want := 0.5 / math.Sqrt(1000)
		if math.Abs(mean-0.5) > 5*want/math.Sqrt(4000) || math.Abs(sd/want-1) > 0.1 {
			t.Errorf("%s: replicate mean %v sd %v, want 0.5 and %v", e, mean, sd, want)
		}
	}
}

func meanSD(x []float64) (float64, float64) {
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return m, math.Sqrt(s / float64(len(x)-1))
}

func TestPopulationRatioErrors(t *testing.T) {
	_, err := New("population_ratio", map[string]any{"numerator": "a"})
	if err == nil || err.Error() != `statistic "population_ratio": missing required parameter denominator` {
		t.Errorf("error = %v", err)
	}
	st := ratioStat(t, Options{}, nil)
	_, errs := Compute(st, []Input{{Branch: "a"}, {Branch: "b", Pairs: ratioPairs(1, math.NaN())}}, func(string) uint64 { return 0 })
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `branch "a": no values`) || !strings.Contains(errs[1].Error(), "NaN") {
		t.Errorf("errs = %v", errs)
	}
	if _, err := st.Estimate("a", tallyOf(1), 0); err == nil {
		t.Error("Estimate without pairs succeeded")
	}
	if n, d := st.(populationRatio).Columns(); n != "n" || d != "d" {
		t.Errorf("Columns = %q %q", n, d)
	}
}

// randomRatioInputs makes two branches of (count, days) pairs.
func randomRatioInputs(g *rand.Rand, n int) []Input {
	var in []Input
	for _, name := range []string{"control", "treatment"} {
		x := Input{Branch: name}
		for range n {
			d := float64(g.IntN(8))
			x.Pairs.Add(math.Floor(d*g.ExpFloat64()*10), d)
		}
		in = append(in, x)
	}
	return in
}

// TestPopulationRatioMergeInvariance: splitting, merging and reordering the
// clients and the inputs gives identical rows, for both engines and for
// any number of goroutines.
func TestPopulationRatioMergeInvariance(t *testing.T) {
	g := rand.New(rand.NewPCG(3, 4))
	in := randomRatioInputs(g, 1500)
	seed := func(b string) uint64 { return Seed(9, b) }
	for _, opts := range []Options{{Workers: 1}, {Engine: NumpyLegacy}} {
		st := ratioStat(t, opts, map[string]any{"num_samples": int64(1000)})
		want, errs := Compute(st, in, seed)
		if len(errs) > 0 || len(want) != 6 {
			t.Fatalf("%d rows, errs %v", len(want), errs)
		}
		for range 3 {
			if got, _ := Compute(st, splitInputs(in, g), seed); !sameRows(got, want) {
				t.Errorf("%s: rows differ after split/merge/reorder", opts.Engine)
			}
		}
		if opts.Engine == NumpyLegacy {
			continue
		}
		par := ratioStat(t, Options{Workers: 8}, map[string]any{"num_samples": int64(1000)})
		if got, _ := Compute(par, in, seed); !sameRows(got, want) {
			t.Error("rows differ with 8 workers")
		}
	}
}

// BenchmarkPopulationRatio measures the Fast engine's bootstrap of one
// branch (single goroutine, one block of BlockSize replicates) and reports
// the time one branch would take at R = 10,000 on one core.
func BenchmarkPopulationRatio(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			in := randomRatioInputs(rand.New(rand.NewPCG(1, 1)), n)[0]
			w := WinsorizePairs(in.Pairs, 0.005)
			s := fastSampler{workers: 1}
			b.ResetTimer()
			for range b.N {
				s.ratioReplicates(w, BlockSize, 1)
			}
			perRep := b.Elapsed().Seconds() / float64(b.N) / BlockSize
			b.ReportMetric(perRep*10000, "s/branch@R=10000")
			b.ReportMetric(perRep/float64(n)*1e9, "ns/client/replicate")
		})
	}
}

// BenchmarkLinearModel1M computes linear_model_mean with a covariate for a
// cell of 1,000,000 clients in 2 branches (continuous metric and covariate,
// ~1M distinct pairs; tallies built beforehand).
func BenchmarkLinearModel1M(b *testing.B) {
	g := rand.New(rand.NewPCG(5, 6))
	var in []Input
	for k, name := range []string{"control", "treatment"} {
		x := Input{Branch: name}
		for range 500_000 {
			pre := g.ExpFloat64() * 3
			y := 0.7*pre + g.ExpFloat64()*2 + 0.05*float64(k)
			x.Tally.Add(y)
			x.Pairs.Add(y, pre)
		}
		x.Tally.Compact()
		x.Pairs.Compact()
		in = append(in, x)
	}
	st, err := New("linear_model_mean", map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rows, errs := Compute(st, in, func(string) uint64 { return 0 })
		if len(errs) > 0 || len(rows) != 6 {
			b.Fatal(len(rows), errs)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/cell")
}
