package simulation

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// Defaults of a simulation.
const (
	DefaultExperiments = 1000
	DefaultClients     = 2000 // per branch
	// DefaultReplicates is bootstrap_mean's num_samples when Config.Replicates is 0: the
	// statistic's default, which is what the pipeline uses for metric-hub's configs.
	DefaultReplicates = 10000
)

// Config is one simulation.
type Config struct {
	Experiments int     // number of simulated experiments, ≥ 1
	Clients     int     // clients per branch, ≥ 2
	Effect      float64 // E: treatment multiplies the metric and the binary probability by 1 + E
	Seed        uint64
	// Replicates is bootstrap_mean's num_samples (0: the statistic's default, 10000).
	// binomial always draws mozanalysis' fixed 10000; linear_model_mean draws none.
	Replicates int
	// Workers is the number of experiments computed at once (0: runtime.GOMAXPROCS(0)). It
	// never changes the report.
	Workers int
	// Progress, when set, is called after each experiment with the number done so far
	// (from the worker goroutines, one call at a time).
	Progress func(done, total int)
}

// The statistics simulated, with Jetstream's default parameters for a metric such as
// active_hours (firefox_desktop) and retained: [Statistic.Name] is the config name,
// [Statistic.Output] the `statistic` column of the rows.
var simulated = []struct {
	name, output string
	binary       bool // computed on the binary metric
}{
	{"bootstrap_mean", "mean", false},
	{"linear_model_mean", "mean_lm", false},
	{"binomial", "binomial", true},
}

// comparisons are the comparative rows read, treatment against control.
var comparisons = []string{statistics.RelativeUplift, statistics.Difference}

// Line is one (statistic, comparison) of a report: the intervals of treatment against
// control over every experiment. Shares and their bounds are NaN when Experiments is 0.
type Line struct {
	Statistic  string  `json:"statistic"`  // the rows' statistic: mean, mean_lm, binomial
	Comparison string  `json:"comparison"` // relative_uplift or difference
	Truth      float64 `json:"truth"`      // the true value of the comparison (see the package comment)
	Target     float64 `json:"target"`     // what the statistic estimates, after Jetstream's clipping (see Targets)
	// Experiments is the number of experiments with an interval; Missing those without
	// (the statistic failed, or gave a NULL bound; FirstError says why).
	Experiments int    `json:"experiments"`
	Missing     int    `json:"missing"`
	FirstError  string `json:"first_error,omitempty"`
	// Excluding0 counts the intervals that exclude 0 (lower > 0 or upper < 0): the
	// false-positive rate of an A/A test, the power with an effect. For mean and binomial the
	// relative_uplift and difference intervals exclude 0 together (replicate by replicate,
	// f − r and f/r − 1 have the same sign); for mean_lm nearly always.
	Excluding0 int `json:"excluding_0"`
	// Covering counts the intervals that contain Truth (lower ≤ truth ≤ upper),
	// CoveringTarget those that contain Target.
	Covering       int `json:"covering"`
	CoveringTarget int `json:"covering_target"`
	// ExcludingShare = Excluding0/Experiments with its exact (Clopper–Pearson) 95% interval.
	ExcludingShare Share `json:"excluding_0_share"`
	// Coverage = Covering/Experiments with its exact 95% interval.
	Coverage Share `json:"coverage"`
	// TargetCoverage = CoveringTarget/Experiments with its exact 95% interval.
	TargetCoverage Share `json:"target_coverage"`
	// MeanWidth is the mean of upper − lower.
	MeanWidth float64 `json:"mean_width"`
	// MeanPoint is the mean of the point estimates.
	MeanPoint float64 `json:"mean_point"`
}

// Share is a proportion with its exact binomial (Clopper–Pearson) 95% interval.
type Share struct {
	Value float64 `json:"value"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Report is the result of a simulation: one line per statistic and comparison, in the
// order mean, mean_lm, binomial × relative_uplift, difference.
type Report struct {
	Experiments int     `json:"experiments"`
	Clients     int     `json:"clients_per_branch"`
	Effect      float64 `json:"effect"`
	Seed        uint64  `json:"seed"`
	Replicates  int     `json:"replicates"`
	Lines       []Line  `json:"lines"`
}

// interval is one comparison row's point and bounds (NaN when NULL or missing).
type interval struct{ point, lower, upper float64 }

// result is one experiment's intervals, [statistic][comparison], and its errors.
type result struct {
	iv   [3][2]interval
	errs [3]string
}

// Run simulates cfg.Experiments experiments and summarises their intervals. It stops with
// ctx's error when ctx is cancelled.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Experiments < 1 {
		return Report{}, fmt.Errorf("experiments %d: want ≥ 1", cfg.Experiments)
	}
	if cfg.Clients < 2 {
		return Report{}, fmt.Errorf("clients %d: want ≥ 2 per branch (a mean's interval needs two)", cfg.Clients)
	}
	if cfg.Replicates < 0 {
		return Report{}, fmt.Errorf("replicates %d: want ≥ 1, or 0 for the default %d", cfg.Replicates, DefaultReplicates)
	}
	if cfg.Workers < 0 {
		return Report{}, fmt.Errorf("workers %d: want ≥ 1, or 0 for GOMAXPROCS", cfg.Workers)
	}
	if err := CheckEffect(cfg.Effect); err != nil {
		return Report{}, err
	}
	stats, err := newStatistics(cfg.Replicates)
	if err != nil {
		return Report{}, err
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Experiments)

	results := make([]result, cfg.Experiments)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, done atomic.Int64
	var mu sync.Mutex // serialises Progress, in increasing order of done
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.Experiments {
					return
				}
				r, err := simulateOne(cfg, stats, i)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
				results[i] = r
				mu.Lock()
				n := int(done.Add(1))
				if cfg.Progress != nil {
					cfg.Progress(n, cfg.Experiments)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Report{}, firstErr
	}
	if int(done.Load()) < cfg.Experiments {
		return Report{}, fmt.Errorf("simulation stopped after %d of %d experiments: %w", done.Load(), cfg.Experiments, context.Cause(ctx))
	}
	return summarise(cfg, results), nil
}

// newStatistics builds the simulated statistics, in the order of simulated, with the
// parameters Jetstream's defaults give them: bootstrap_mean (drop_highest 0.005;
// num_samples = replicates unless 0), binomial, and linear_model_mean with its
// preenrollment_week covariate adjustment. Each estimate runs on one goroutine: the
// experiments are the parallelism.
func newStatistics(replicates int) ([3]statistics.Statistic, error) {
	var out [3]statistics.Statistic
	for k, s := range simulated {
		params := map[string]any{}
		switch s.name {
		case "bootstrap_mean":
			if replicates > 0 {
				params["num_samples"] = int64(replicates)
			}
		case "linear_model_mean":
			params["covariate_adjustment"] = map[string]any{"period": "preenrollment_week"}
		}
		st, err := statistics.NewWithOptions(s.name, params, statistics.Options{Workers: 1})
		if err != nil {
			return out, fmt.Errorf("simulation: %w", err)
		}
		if st.Output() != s.output {
			return out, fmt.Errorf("simulation: statistic %s outputs %q, want %q", s.name, st.Output(), s.output)
		}
		out[k] = st
	}
	return out, nil
}

// modelTail is the tail fraction of the linear model's model tallies in a two-branch
// experiment of equal branches, as the pipeline's plan sizes it.
func modelTail(stats [3]statistics.Statistic) float64 {
	for k, s := range simulated {
		if frac, ok := statistics.ModelTailFraction(stats[k], 0.5); ok && s.name == "linear_model_mean" {
			return frac
		}
	}
	return 0
}

// simulateOne generates experiment i and computes its statistics the way
// transforms.ComputeCells does: statistics.Compute over the branches' inputs, each branch
// seeded by statistics.Seed(seed, "experiment i", branch, statistic).
func simulateOne(cfg Config, stats [3]statistics.Statistic, i int) (result, error) {
	data, err := Generate(cfg.Seed, i, cfg.Clients, cfg.Effect)
	if err != nil {
		return result{}, fmt.Errorf("experiment %d: %w", i, err)
	}
	continuous, binary := Inputs(data, modelTail(stats))
	var r result
	for k, s := range simulated {
		inputs := continuous
		if s.binary {
			inputs = binary
		}
		seed := func(branch string) uint64 { return statistics.Seed(cfg.Seed, experimentName(i), branch, s.name) }
		rows, errs := statistics.Compute(stats[k], inputs, seed)
		for c := range comparisons {
			r.iv[k][c] = interval{math.NaN(), math.NaN(), math.NaN()}
		}
		if len(errs) > 0 {
			r.errs[k] = fmt.Sprintf("experiment %d: %v", i, errs[0])
		}
		for _, row := range rows {
			if row.Branch != Treatment || row.ComparisonToBranch != Control {
				continue
			}
			for c, name := range comparisons {
				if row.Comparison == name {
					r.iv[k][c] = interval{row.Point, row.Lower, row.Upper}
				}
			}
		}
	}
	return r, nil
}

// summarise counts, in experiment order, the intervals of every statistic and comparison.
func summarise(cfg Config, results []result) Report {
	rep := Report{Experiments: cfg.Experiments, Clients: cfg.Clients, Effect: cfg.Effect, Seed: cfg.Seed, Replicates: cfg.Replicates}
	if rep.Replicates == 0 {
		rep.Replicates = DefaultReplicates
	}
	contDiff, binDiff := TrueDifference(cfg.Effect)
	targets := TargetsOf(cfg.Effect)
	for k, s := range simulated {
		for c, comp := range comparisons {
			truth, target := cfg.Effect, cfg.Effect
			switch {
			case comp == statistics.Difference && s.binary:
				truth, target = binDiff, binDiff
			case comp == statistics.Difference && s.name == "bootstrap_mean":
				truth, target = contDiff, targets.MeanDifference
			case comp == statistics.Difference:
				truth, target = contDiff, targets.LMDifference
			case s.name == "linear_model_mean":
				target = targets.LMRelative
			}
			l := Line{Statistic: s.output, Comparison: comp, Truth: truth, Target: target}
			var width, point float64
			for i, r := range results {
				iv := r.iv[k][c]
				if math.IsNaN(iv.lower) || math.IsNaN(iv.upper) || math.IsNaN(iv.point) {
					l.Missing++
					if l.FirstError == "" {
						l.FirstError = r.errs[k]
						if l.FirstError == "" {
							l.FirstError = fmt.Sprintf("experiment %d: no interval (NULL bound)", i)
						}
					}
					continue
				}
				l.Experiments++
				if iv.lower > 0 || iv.upper < 0 {
					l.Excluding0++
				}
				if iv.lower <= truth && truth <= iv.upper {
					l.Covering++
				}
				if iv.lower <= target && target <= iv.upper {
					l.CoveringTarget++
				}
				width += iv.upper - iv.lower
				point += iv.point
			}
			l.ExcludingShare = share(l.Excluding0, l.Experiments)
			l.Coverage = share(l.Covering, l.Experiments)
			l.TargetCoverage = share(l.CoveringTarget, l.Experiments)
			l.MeanWidth, l.MeanPoint = math.NaN(), math.NaN()
			if l.Experiments > 0 {
				l.MeanWidth = width / float64(l.Experiments)
				l.MeanPoint = point / float64(l.Experiments)
			}
			rep.Lines = append(rep.Lines, l)
		}
	}
	return rep
}

// share is x/n with its Clopper–Pearson 95% interval: the 2.5% quantile of Beta(x, n−x+1)
// and the 97.5% quantile of Beta(x+1, n−x) (0 and 1 at the ends).
func share(x, n int) Share {
	if n == 0 {
		return Share{math.NaN(), math.NaN(), math.NaN()}
	}
	s := Share{Value: float64(x) / float64(n), Lower: 0, Upper: 1}
	if x > 0 {
		s.Lower = distuv.Beta{Alpha: float64(x), Beta: float64(n - x + 1)}.Quantile(0.025)
	}
	if x < n {
		s.Upper = distuv.Beta{Alpha: float64(x + 1), Beta: float64(n - x)}.Quantile(0.975)
	}
	return s
}
