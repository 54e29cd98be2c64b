package statistics

import (
	"fmt"
	"testing"
)

// continuousTally returns a tally of k distinct values with count 1 each
// plus a block of zeros, like a zero-inflated continuous metric.
func continuousTally(k int, zeros int64) Tally {
	g := newRNG(42)
	var t Tally
	for range k {
		t.Add(g.exp() * 3)
	}
	t.Compact()
	if zeros > 0 {
		t = MergeTallies(t, NewTally([]float64{0}, []int64{zeros}))
	}
	return t
}

// BenchmarkBootstrapKernel measures one Bayesian-bootstrap replicate over
// K = 100,000 distinct values (single goroutine), reported per distinct
// value per replicate.
func BenchmarkBootstrapKernel(b *testing.B) {
	const k = 100_000
	t := continuousTally(k, 0)
	benchKernel(b, newDirichletKernel(t.Values, t.Counts), k)
}

// benchKernel draws b.N replicates of kern over k distinct values and reports the
// time per distinct value per replicate.
func benchKernel(b *testing.B, kern *dirichletKernel, k int) {
	g := newRNG(1)
	b.ResetTimer()
	sink := 0.0
	for range b.N {
		sink += kern.replicate(&g)
	}
	b.StopTimer()
	if sink != sink {
		b.Fatal("NaN replicate")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k), "ns/value/replicate")
}

// BenchmarkExp measures the ziggurat exponential alone.
func BenchmarkExp(b *testing.B) {
	g := newRNG(1)
	s := 0.0
	for range b.N {
		s += g.exp()
	}
	if s < 0 {
		b.Fatal(s)
	}
}

// BenchmarkGamma measures Gamma draws for a few shapes.
func BenchmarkGamma(b *testing.B) {
	for _, shape := range []float64{0.5, 2, 5, 80000} {
		b.Run(fmt.Sprint(shape), func(b *testing.B) {
			gs := newGammaSampler(shape)
			g := newRNG(1)
			s := 0.0
			for range b.N {
				s += gs.draw(&g)
			}
			if s < 0 {
				b.Fatal(s)
			}
		})
	}
}

// BenchmarkBootstrapMean1M runs bootstrap_mean on one branch with
// 1,000,000 distinct values and R = 1000 replicates (all cores), and
// reports the figure extrapolated to Jetstream's default R = 10,000.
func BenchmarkBootstrapMean1M(b *testing.B) {
	perOp := benchBootstrap(b, continuousTally(1_000_000, 0))
	b.ReportMetric(perOp*10000/benchReplicates, "s/branch@R=10000")
	b.ReportMetric(perOp*1e9/(1_000_000*benchReplicates), "ns/value/replicate(wall)")
}

// BenchmarkBootstrapMean1MTwoBranches runs bootstrap_mean on two branches
// of 1,000,000 distinct values each at R = 1000 (all cores) and reports
// the wall time extrapolated to Jetstream's default R = 10,000.
func BenchmarkBootstrapMean1MTwoBranches(b *testing.B) {
	perOp := benchBootstrap(b, continuousTally(1_000_000, 0), continuousTally(1_000_000, 5))
	b.ReportMetric(perOp*10000/benchReplicates, "s@R=10000")
}

// benchReplicates is the R the bootstrap benchmarks run with.
const benchReplicates = 1000

// benchBootstrap estimates bootstrap_mean for each tally (one branch each)
// b.N times and returns the seconds per iteration.
func benchBootstrap(b *testing.B, tallies ...Tally) float64 {
	st, err := New("bootstrap_mean", map[string]any{"num_samples": int64(benchReplicates)})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		for j, t := range tallies {
			if _, err := st.Estimate(fmt.Sprintf("branch-%d", j), t, uint64(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	return b.Elapsed().Seconds() / float64(b.N)
}

// BenchmarkBinomial measures one binomial estimate (10,000 Beta draws).
func BenchmarkBinomial(b *testing.B) {
	st, err := New("binomial", nil)
	if err != nil {
		b.Fatal(err)
	}
	t := NewTally([]float64{0, 1}, []int64{4000, 1000})
	for i := range b.N {
		if _, err := st.Estimate("control", t, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTallyAdd measures adding one value (amortised compaction).
func BenchmarkTallyAdd(b *testing.B) {
	g := newRNG(3)
	var t Tally
	for range b.N {
		t.Add(float64(g.next()>>40) / 1000)
	}
	t.Compact()
}

// BenchmarkBootstrapKernelCounts measures replicates over a discrete metric's tally:
// 20,000 distinct values whose counts follow a geometric law of mean 4 (a quarter of
// them count 1, the rest gamma draws: sums of exponentials for counts 2 and 3,
// Marsaglia–Tsang above), reported per distinct value per replicate.
func BenchmarkBootstrapKernelCounts(b *testing.B) {
	const k = 20_000
	g := newRNG(3)
	values, counts := make([]float64, k), make([]int64, k)
	for i := range values {
		values[i] = float64(i) / 100
		counts[i] = 1
		for g.uniform() > 0.25 {
			counts[i]++
		}
	}
	benchKernel(b, newDirichletKernel(values, counts), k)
}

// BenchmarkBootstrapKernelBinned draws replicates over the K = 100,000 distinct values of
// BenchmarkBootstrapKernel, exactly and binned (newBinnedKernel at DefaultBinVariance),
// reported per distinct value per replicate as there, with the draws a replicate takes
// (exact values + bins).
func BenchmarkBootstrapKernelBinned(b *testing.B) {
	const k = 100_000
	t := continuousTally(k, 0)
	for _, c := range []struct {
		name string
		eps  float64
	}{{"exact", 0}, {"binned", DefaultBinVariance}} {
		b.Run(c.name, func(b *testing.B) {
			kern := newBinnedKernel(t.Values, t.Counts, c.eps)
			benchKernel(b, kern, k)
			b.ReportMetric(float64(len(kern.ones)+len(kern.multi)+len(kern.bins)), "draws/replicate")
		})
	}
}

// BenchmarkPairTallyAdd measures adding one (metric, covariate) pair of a continuous metric
// (amortised compaction), as a reader does for linear_model_mean.
func BenchmarkPairTallyAdd(b *testing.B) {
	g := newRNG(3)
	var p PairTally
	for range b.N {
		x := g.exp()
		p.Add(x, x*0.6+g.exp())
	}
	p.Compact()
}
