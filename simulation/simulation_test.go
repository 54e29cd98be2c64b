package simulation

import (
	"context"
	"math"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// acceptance is the central range [lo, hi] of Binomial(n, p) that holds with probability
// ≥ 99.5%: P(X < lo) ≤ 0.25% and P(X > hi) ≤ 0.25%. A count outside it rejects p at the
// 0.5% level; each assertion below fails by chance with probability ≤ 0.5% under a correct
// implementation.
func acceptance(n int, p float64) (lo, hi int) {
	b := distuv.Binomial{N: float64(n), P: p}
	for lo = 0; b.CDF(float64(lo)) <= 0.0025; lo++ { // CDF(lo) = P(X ≤ lo); stop at the first lo with P(X < lo+1) > 0.25%
	}
	for hi = n; 1-b.CDF(float64(hi-1)) <= 0.0025; hi-- { // P(X ≥ hi) ≤ 0.25% → hi is outside
	}
	return lo, hi
}

func TestAcceptance(t *testing.T) {
	// Binomial(200, 0.05): P(X ≤ 2) = 0.234%, P(X ≤ 3) = 0.905%; P(X ≥ 21) = 0.116%,
	// P(X ≥ 20) = 0.266%.
	if lo, hi := acceptance(200, 0.05); lo != 3 || hi != 20 {
		t.Errorf("acceptance(200, 0.05) = [%d, %d], want [3, 20]", lo, hi)
	}
	if lo, hi := acceptance(200, 0.95); lo != 180 || hi != 197 {
		t.Errorf("acceptance(200, 0.95) = [%d, %d], want [180, 197]", lo, hi)
	}
}

// TestGeneratorMoments: on 400,000 clients per branch, the generator's moments are those
// the package comment states: ln Y ~ Normal(1, 1), E[Y] = e^1.5, corr(X, Y) = 0.6,
// P(B = 1) = 0.3, and treatment multiplies Y and p by 1 + E but not X.
func TestGeneratorMoments(t *testing.T) {
	const n, effect = 400_000, 0.1
	data, err := Generate(5, 0, n, effect)
	if err != nil {
		t.Fatal(err)
	}
	logOf := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = math.Log(x)
		}
		return out
	}
	within := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.5f, want %.5f ± %.5f", name, got, want, tol)
		}
	}
	for _, d := range data {
		m := 1.0
		if d.Name == Treatment {
			m = 1 + effect
		}
		ly, lx := logOf(d.Metric), logOf(d.Covariate)
		// Standard errors: 1/√n = 0.0016 for the log-scale mean; sd(Y)/√n = 5.87/632 =
		// 0.0093 for E[Y] (0.2%); √(pq/n) = 0.0007 for p; (1 − ρ²)/√n = 0.0008 for ρ_z.
		within(d.Name+" mean ln Y", stat.Mean(ly, nil), LogMean+math.Log(m), 0.01)
		within(d.Name+" sd ln Y", stat.StdDev(ly, nil), LogSD, 0.01)
		within(d.Name+" mean ln X", stat.Mean(lx, nil), LogMean, 0.01)
		within(d.Name+" E[Y]/(1+E)", stat.Mean(d.Metric, nil)/m, ContinuousMean(), 0.01*ContinuousMean())
		within(d.Name+" E[X]", stat.Mean(d.Covariate, nil), ContinuousMean(), 0.01*ContinuousMean())
		within(d.Name+" corr(ln X, ln Y)", stat.Correlation(lx, ly, nil), LogCorrelation(), 0.005)
		// The raw correlation of two log-normals converges slowly (heavy tails): 0.03.
		within(d.Name+" corr(X, Y)", stat.Correlation(d.Covariate, d.Metric, nil), Correlation, 0.03)
		within(d.Name+" P(B = 1)", stat.Mean(d.Binary, nil), BinaryP*m, 0.004)
		for _, b := range d.Binary {
			if b != 0 && b != 1 {
				t.Fatalf("%s: binary value %v", d.Name, b)
			}
		}
	}
	within("LogCorrelation", LogCorrelation(), 0.708514, 0.000001)
}

// TestGenerateErrors: impossible designs are refused with the value.
func TestGenerateErrors(t *testing.T) {
	for _, c := range []struct {
		clients int
		effect  float64
		want    string
	}{
		{0, 0, "clients 0: want ≥ 1"},
		{10, -1, "effect -1: want > -1 (treatment's metric is multiplied by 1 + effect)"},
		{10, 2.5, "effect 2.5: want ≤ 2.333 (the binary metric's probability 0.3·(1 + effect) must stay ≤ 1)"},
		{10, math.NaN(), "effect NaN: want > -1 (treatment's metric is multiplied by 1 + effect)"},
	} {
		_, err := Generate(1, 0, c.clients, c.effect)
		if err == nil || err.Error() != c.want {
			t.Errorf("Generate(clients %d, effect %v) = %v, want %q", c.clients, c.effect, err, c.want)
		}
	}
	if _, err := Generate(1, 0, 10, 1/BinaryP-1); err != nil {
		t.Errorf("effect 1/p − 1 (p·(1+E) = 1): %v", err)
	}
}

// TestTargets: the analytic targets agree with the statistics package's own clipping of a
// large sample — bootstrap_mean's per-branch Winsorize and linear_model_mean's pooled
// 99.5% quantile — and differ from the untrimmed truth by what the doc says.
func TestTargets(t *testing.T) {
	if got := TargetsOf(0); got != (Targets{}) {
		t.Errorf("TargetsOf(0) = %+v, want zeros", got)
	}
	const effect = 0.5
	data, err := Generate(9, 0, 400_000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var control, treatment statistics.Tally
	for _, y := range data[0].Metric {
		control.Add(y)
		treatment.Add((1 + effect) * y) // the same clients, treated: the difference has a small error
	}
	control.Compact()
	treatment.Compact()
	mean := func(tl statistics.Tally) float64 { return tl.Sum() / float64(tl.N()) }
	tg := TargetsOf(effect)
	truth, _ := TrueDifference(effect)

	// bootstrap_mean: each branch clipped at its own quantile.
	gotMean := mean(statistics.Winsorize(treatment, dropHighest)) - mean(statistics.Winsorize(control, dropHighest))
	if math.Abs(gotMean-tg.MeanDifference) > 0.005*tg.MeanDifference {
		t.Errorf("bootstrap_mean target difference %.5f, sample %.5f", tg.MeanDifference, gotMean)
	}
	if r := tg.MeanDifference / truth; math.Abs(r-0.98232) > 1e-4 {
		t.Errorf("bootstrap_mean target / truth = %.5f, want 0.98232", r)
	}
	// linear_model_mean: both clipped at the pooled quantile.
	pooled := statistics.MergeTallies(control, treatment)
	th := pooled.Quantile(1 - dropHighest)
	c, tr := mean(control.Clip(th)), mean(treatment.Clip(th))
	if math.Abs(tr-c-tg.LMDifference) > 0.005*tg.LMDifference {
		t.Errorf("linear_model_mean target difference %.5f, sample %.5f", tg.LMDifference, tr-c)
	}
	if math.Abs(tr/c-1-tg.LMRelative) > 0.005*tg.LMRelative {
		t.Errorf("linear_model_mean target relative uplift %.5f, sample %.5f", tg.LMRelative, tr/c-1)
	}
	if tg.LMDifference >= 0.95*truth || tg.LMRelative >= 0.97*effect {
		t.Errorf("linear_model_mean targets %+v: want clearly below the truth (%.4f, %.4f)", tg, truth, effect)
	}
}

// TestDeterminism: a report depends on the configuration only — not on the number of
// workers — and on the seed.
func TestDeterminism(t *testing.T) {
	cfg := Config{Experiments: 12, Clients: 300, Effect: 0.05, Seed: 42, Replicates: 300}
	run := func(workers int, seed uint64) Report {
		t.Helper()
		c := cfg
		c.Workers, c.Seed = workers, seed
		r, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	one := run(1, 42)
	if len(one.Lines) != 6 {
		t.Fatalf("%d lines, want 6", len(one.Lines))
	}
	for _, workers := range []int{1, 3, 0} {
		if got := run(workers, 42); !reflect.DeepEqual(got, one) {
			t.Errorf("workers %d:\n%+v\nwant (1 worker)\n%+v", workers, got, one)
		}
	}
	if other := run(2, 43); reflect.DeepEqual(other.Lines, one.Lines) {
		t.Error("seed 43 gave the same lines as seed 42")
	}
	// The per-experiment seeds do not depend on the number of experiments: the first 12 of
	// a 13-experiment run are the same experiments, so at most one interval per line differs.
	c := cfg
	c.Experiments = 13
	more, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range more.Lines {
		if d := l.Excluding0 - one.Lines[i].Excluding0; d < 0 || d > 1 {
			t.Errorf("%s %s: 13 experiments exclude 0 %d times, 12 experiments %d times", l.Statistic, l.Comparison, l.Excluding0, one.Lines[i].Excluding0)
		}
	}
}

// TestRunErrors: a bad configuration is refused before anything is computed, and a
// cancelled context stops the run.
func TestRunErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Experiments: 0, Clients: 10}, "experiments 0: want ≥ 1"},
		{Config{Experiments: 1, Clients: 1}, "clients 1: want ≥ 2 per branch (a mean's interval needs two)"},
		{Config{Experiments: 1, Clients: 10, Replicates: -1}, "replicates -1: want ≥ 1, or 0 for the default 10000"},
		{Config{Experiments: 1, Clients: 10, Workers: -2}, "workers -2: want ≥ 1, or 0 for GOMAXPROCS"},
		{Config{Experiments: 1, Clients: 10, Effect: -1.5}, "effect -1.5: want > -1 (treatment's metric is multiplied by 1 + effect)"},
	} {
		if _, err := Run(context.Background(), c.cfg); err == nil || err.Error() != c.want {
			t.Errorf("Run(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Experiments: 5, Clients: 10, Replicates: 10})
	if err == nil || err.Error() != "simulation stopped after 0 of 5 experiments: context canceled" {
		t.Errorf("cancelled run: %v", err)
	}
}

// TestAA: 200 A/A experiments of 2,000 clients per branch (1,000 bootstrap replicates):
// each statistic's 95% intervals exclude 0 in about 5% of the experiments. With 200
// experiments the count is Binomial(200, 0.05) for a calibrated statistic, and must lie in
// its 99.5% range [3, 20] (1.5%–10%); a statistic whose false-positive rate doubled to
// 10% would fail with probability 44% (P(X ≥ 21)), one at 15% with probability 97%.
func TestAA(t *testing.T) {
	rep, err := Run(context.Background(), Config{Experiments: 200, Clients: 2000, Seed: 1, Replicates: 1000})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := acceptance(200, 0.05)
	for _, l := range rep.Lines {
		t.Logf("%-9s %-16s excluding 0: %3d/%d = %.3f [%.3f, %.3f]", l.Statistic, l.Comparison, l.Excluding0, l.Experiments,
			l.ExcludingShare.Value, l.ExcludingShare.Lower, l.ExcludingShare.Upper)
		if l.Missing != 0 || l.Experiments != 200 {
			t.Errorf("%s %s: %d experiments, %d missing (%s)", l.Statistic, l.Comparison, l.Experiments, l.Missing, l.FirstError)
		}
		if l.Excluding0 < lo || l.Excluding0 > hi {
			t.Errorf("%s %s: false positives %d/200, want %d–%d", l.Statistic, l.Comparison, l.Excluding0, lo, hi)
		}
		if l.Truth != 0 || l.Target != 0 || l.Covering != 200-l.Excluding0 || l.CoveringTarget != l.Covering {
			t.Errorf("%s %s: A/A truth %v, target %v, covering %d/%d, want 0, 0, %d", l.Statistic, l.Comparison, l.Truth, l.Target, l.Covering, l.CoveringTarget, 200-l.Excluding0)
		}
	}
}

// TestKnownEffect: 200 experiments with E = 0.15 and 5,000 clients per branch (1,000
// bootstrap replicates).
//
//   - Power: every statistic's intervals exclude 0 in ≥ 95% of the experiments (expected
//     ≥ 99.9%: the effect is ≥ 4.8 standard errors for each statistic).
//   - Coverage of the target (what the statistic estimates after Jetstream's clipping,
//     see TargetsOf): Binomial(200, 0.95), in its 99.5% range [180, 197].
//   - Coverage of the truth: where the target is biased (mean difference, mean_lm) the
//     expected coverage is Φ(z − δ) − Φ(−z − δ), δ = (target − truth)/SE with SE = mean
//     width/(2·1.96); the count must lie in the 99.5% range of Binomial(200, that).
//   - The mean point estimate is within 4 standard errors of the target.
func TestKnownEffect(t *testing.T) {
	const n = 200
	rep, err := Run(context.Background(), Config{Experiments: n, Clients: 5000, Effect: 0.15, Seed: 2, Replicates: 1000})
	if err != nil {
		t.Fatal(err)
	}
	const z = 1.959963984540054
	norm := distuv.UnitNormal
	for _, l := range rep.Lines {
		t.Logf("%-9s %-16s power %.3f; truth %.4f covered %.3f; target %.4f covered %.3f; mean point %.4f, width %.4f", l.Statistic, l.Comparison,
			l.ExcludingShare.Value, l.Truth, l.Coverage.Value, l.Target, l.TargetCoverage.Value, l.MeanPoint, l.MeanWidth)
		if l.Missing != 0 || l.Experiments != n {
			t.Errorf("%s %s: %d experiments, %d missing (%s)", l.Statistic, l.Comparison, l.Experiments, l.Missing, l.FirstError)
		}
		if l.ExcludingShare.Value < 0.95 {
			t.Errorf("%s %s: power %.3f, want ≥ 0.95", l.Statistic, l.Comparison, l.ExcludingShare.Value)
		}
		if lo, hi := acceptance(n, 0.95); l.CoveringTarget < lo || l.CoveringTarget > hi {
			t.Errorf("%s %s: target %.4f covered %d/%d times, want %d–%d", l.Statistic, l.Comparison, l.Target, l.CoveringTarget, n, lo, hi)
		}
		se := l.MeanWidth / (2 * z)
		delta := (l.Target - l.Truth) / se
		p := norm.CDF(z-delta) - norm.CDF(-z-delta)
		if lo, hi := acceptance(n, p); l.Covering < lo || l.Covering > hi {
			t.Errorf("%s %s: truth %.4f covered %d/%d times, want %d–%d (expected coverage %.3f)", l.Statistic, l.Comparison, l.Truth, l.Covering, n, lo, hi, p)
		}
		if d := math.Abs(l.MeanPoint - l.Target); d > 4*se/math.Sqrt(n) {
			t.Errorf("%s %s: mean point %.5f, target %.5f: %.1f standard errors apart", l.Statistic, l.Comparison, l.MeanPoint, l.Target, d/(se/math.Sqrt(n)))
		}
	}
}

// BenchmarkExperiment: one A/A experiment of 2,000 clients per branch at the defaults
// (10,000 bootstrap replicates), on one goroutine. A 1,000-experiment simulation on W cores
// takes about 1000/W times this (`jetstream simulate --experiments 1000`).
func BenchmarkExperiment(b *testing.B) {
	for b.Loop() {
		if _, err := Run(context.Background(), Config{Experiments: 1, Clients: DefaultClients, Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
