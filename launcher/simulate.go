package launcher

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/simulation"
)

// The A/A false-positive rates `jetstream simulate` calls calibrated: 95% intervals
// should exclude 0 in 5% of A/A experiments.
const (
	simFalsePositiveLow  = 0.04
	simFalsePositiveHigh = 0.06
)

// simulateCommand is `jetstream simulate`: the calibration of the comparative statistics
// on synthetic A/A or known-effect experiments (package simulation).
func simulateCommand() *cli.Command {
	return &cli.Command{
		Name:  "simulate",
		Usage: "check the statistics' intervals on many synthetic A/A or known-effect experiments",
		Description: "Simulates --experiments experiments of two branches (control, treatment) of --clients clients each:\n" +
			"a log-normal metric like active hours with a pre-enrollment covariate (correlation 0.6) and a\n" +
			"binary metric (p = 0.3); the treatment multiplies the metric and p by 1 + --effect, so the true\n" +
			"relative uplift is --effect for both. Each experiment goes through the pipeline's statistics path\n" +
			"(tallies, statistics.Compute, Jetstream's default parameters): bootstrap_mean (\"mean\"),\n" +
			"linear_model_mean with the covariate (\"mean_lm\") and binomial. For each statistic and comparison\n" +
			"of treatment with control (relative_uplift, difference) it prints the share of 95% intervals\n" +
			"that exclude 0 — the false-positive rate of an A/A test (--effect 0), the power otherwise —\n" +
			"and the share covering the true value and the statistic's target (its estimand after Jetstream's\n" +
			"99.5% clipping, which pulls the continuous metric's differences towards 0), each with its exact\n" +
			"95% interval, and the mean interval width. An A/A run also says whether each false-positive\n" +
			"rate lies in 4–6% (a calibrated statistic misses that range by chance too: with 1000\n" +
			"experiments the rate's standard error is 0.7 points); it never changes the exit status.\n" +
			"Expect about 7% for \"mean\" on this skewed metric: bootstrap_mean clips at a threshold computed\n" +
			"once from the sample, outside the bootstrap, as mozanalysis does (see package simulation).\n\n" +
			"The report depends only on the flags other than --workers and --format.\n\n" +
			"Examples:\n" +
			"   jetstream simulate                                      # 1000 A/A experiments, 2000 clients per branch\n" +
			"   jetstream simulate --experiments 200 --replicates 1000  # quicker\n" +
			"   jetstream simulate --effect 0.1 --clients 10000         # coverage of a 10% uplift, and power\n" +
			"   jetstream simulate --seed 7 --format json > aa.json",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "experiments", Value: simulation.DefaultExperiments, Usage: "number of simulated experiments"},
			&cli.Float64Flag{Name: "effect", Value: 0, Usage: "true relative uplift E of the treatment (0: A/A); > -1 and ≤ 2.333 (0.3·(1+E) is a probability)"},
			&cli.IntFlag{Name: "clients", Value: simulation.DefaultClients, Usage: "clients per branch"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed; each experiment's data and statistics derive from it and the experiment's index"},
			&cli.IntFlag{Name: "replicates", Value: simulation.DefaultReplicates, Usage: "bootstrap_mean's num_samples (the pipeline's default; binomial always draws 10000)"},
			&cli.IntFlag{Name: "workers", Usage: "experiments computed at once, 0 for GOMAXPROCS; never changes the report"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, or json"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("simulate: unexpected argument %q (the simulation is set by flags)", c.Args().First())}
			}
			req := simulateRequest{
				Config: simulation.Config{
					Experiments: c.Int("experiments"), Effect: c.Float64("effect"), Clients: c.Int("clients"),
					Seed: c.Uint64("seed"), Replicates: c.Int("replicates"), Workers: c.Int("workers"),
				},
				Format: c.String("format"),
			}
			return runSimulate(c, req)
		},
	}
}

// simulateRequest is a `jetstream simulate` command line.
type simulateRequest struct {
	simulation.Config
	Format string
}

// check names the flag of the first bad value.
func (r simulateRequest) check() error {
	switch {
	case r.Experiments < 1:
		return fmt.Errorf("--experiments: want ≥ 1, got %d", r.Experiments)
	case r.Clients < 2:
		return fmt.Errorf("--clients: want ≥ 2 per branch, got %d", r.Clients)
	case r.Replicates < 1:
		return fmt.Errorf("--replicates: want ≥ 1, got %d", r.Replicates)
	case r.Workers < 0:
		return fmt.Errorf("--workers: want ≥ 1 (or 0 for GOMAXPROCS), got %d", r.Workers)
	case r.Format != "table" && r.Format != "json":
		return fmt.Errorf("--format: want table or json, got %q", r.Format)
	}
	if err := simulation.CheckEffect(r.Effect); err != nil {
		return fmt.Errorf("--%w", err) // "--effect …"
	}
	return nil
}

// runSimulate runs the simulation, logging its progress every tenth of the experiments, and
// prints its report.
func runSimulate(c *cli.Context, req simulateRequest) error {
	if err := req.check(); err != nil {
		return usageError{err}
	}
	log := newLogger(c.App.ErrWriter)
	step := max(1, req.Experiments/10)
	start := time.Now()
	req.Progress = func(done, total int) {
		if done%step == 0 && done < total {
			log.Info("simulating", "experiments_done", done, "experiments", total, "elapsed", time.Since(start).Round(time.Second).String())
		}
	}
	rep, err := simulation.Run(c.Context, req.Config)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	elapsed := time.Since(start)
	if req.Format == "json" {
		return writeSimulationJSON(c.App.Writer, rep, elapsed)
	}
	writeSimulationTable(c.App.Writer, rep, elapsed)
	return nil
}

// simCheck is the verdict on one A/A false-positive rate.
type simCheck struct {
	Statistic  string  `json:"statistic"`
	Comparison string  `json:"comparison"`
	Rate       float64 `json:"false_positive_rate"`
	InRange    bool    `json:"in_4_to_6_percent"`
}

// simChecks are the verdicts of an A/A report (none with an effect, or for a line without
// experiments).
func simChecks(rep simulation.Report) []simCheck {
	if rep.Effect != 0 {
		return nil
	}
	var checks []simCheck
	for _, l := range rep.Lines {
		if l.Experiments == 0 {
			continue
		}
		r := l.ExcludingShare.Value
		checks = append(checks, simCheck{l.Statistic, l.Comparison, r, r >= simFalsePositiveLow && r <= simFalsePositiveHigh})
	}
	return checks
}

func writeSimulationTable(w io.Writer, rep simulation.Report, elapsed time.Duration) {
	kind := fmt.Sprintf("known-effect experiments (true relative uplift %g)", rep.Effect)
	excluding := "power: excluding 0 [95% CI]"
	if rep.Effect == 0 {
		kind = "A/A experiments"
		excluding = "false positives: excluding 0 [95% CI]"
	}
	fmt.Fprintf(w, "%d %s, %d clients per branch, %d bootstrap replicates, seed %d: %s\n\n",
		rep.Experiments, kind, rep.Clients, rep.Replicates, rep.Seed, elapsed.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "statistic\tcomparison\texperiments\t%s\ttruth\tcoverage [95%% CI]\ttarget\ttarget coverage [95%% CI]\tmean width\n", excluding)
	for _, l := range rep.Lines {
		n := fmt.Sprint(l.Experiments)
		if l.Missing > 0 {
			n += fmt.Sprintf(" (%d missing)", l.Missing)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Statistic, l.Comparison, n, simShare(l.ExcludingShare),
			simNumber(l.Truth), simShare(l.Coverage), simNumber(l.Target), simShare(l.TargetCoverage), simNumber(l.MeanWidth))
	}
	tw.Flush()
	for _, l := range rep.Lines {
		if l.FirstError != "" {
			fmt.Fprintf(w, "%s %s: %d experiments without an interval, e.g. %s\n", l.Statistic, l.Comparison, l.Missing, l.FirstError)
		}
	}
	checks := simChecks(rep)
	if len(checks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nA/A false-positive rates (calibrated: 4–6%):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range checks {
		verdict := "in 4–6%"
		if !c.InRange {
			verdict = "NOT in 4–6%"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Statistic, c.Comparison, simPercent(c.Rate), verdict)
	}
	tw.Flush()
}

// simJSONLine is a simulation.Line with NULL (nil) instead of NaN, which JSON lacks.
type simJSONLine struct {
	Statistic      string       `json:"statistic"`
	Comparison     string       `json:"comparison"`
	Experiments    int          `json:"experiments"`
	Missing        int          `json:"missing"`
	FirstError     string       `json:"first_error,omitempty"`
	Excluding0     int          `json:"excluding_0"`
	ExcludingShare simJSONShare `json:"excluding_0_share"`
	Truth          *float64     `json:"truth"`
	Covering       int          `json:"covering_truth"`
	Coverage       simJSONShare `json:"truth_coverage"`
	Target         *float64     `json:"target"`
	CoveringTarget int          `json:"covering_target"`
	TargetCoverage simJSONShare `json:"target_coverage"`
	MeanWidth      *float64     `json:"mean_width"`
	MeanPoint      *float64     `json:"mean_point"`
}

type simJSONShare struct {
	Value *float64 `json:"value"`
	Lower *float64 `json:"lower"`
	Upper *float64 `json:"upper"`
}

func writeSimulationJSON(w io.Writer, rep simulation.Report, elapsed time.Duration) error {
	doc := struct {
		Experiments int           `json:"experiments"`
		Clients     int           `json:"clients_per_branch"`
		Effect      float64       `json:"effect"`
		Seed        uint64        `json:"seed"`
		Replicates  int           `json:"replicates"`
		Seconds     float64       `json:"seconds"`
		Lines       []simJSONLine `json:"lines"`
		Checks      []simCheck    `json:"aa_checks,omitempty"`
	}{rep.Experiments, rep.Clients, rep.Effect, rep.Seed, rep.Replicates, math.Round(elapsed.Seconds()*10) / 10, nil, simChecks(rep)}
	share := func(s simulation.Share) simJSONShare {
		return simJSONShare{simOptional(s.Value), simOptional(s.Lower), simOptional(s.Upper)}
	}
	for _, l := range rep.Lines {
		doc.Lines = append(doc.Lines, simJSONLine{
			Statistic: l.Statistic, Comparison: l.Comparison, Experiments: l.Experiments, Missing: l.Missing, FirstError: l.FirstError,
			Excluding0: l.Excluding0, ExcludingShare: share(l.ExcludingShare),
			Truth: simOptional(l.Truth), Covering: l.Covering, Coverage: share(l.Coverage),
			Target: simOptional(l.Target), CoveringTarget: l.CoveringTarget, TargetCoverage: share(l.TargetCoverage),
			MeanWidth: simOptional(l.MeanWidth), MeanPoint: simOptional(l.MeanPoint),
		})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("simulate: encoding the report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// simOptional is v, or nil (JSON null) when v is NaN or infinite.
func simOptional(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func simNumber(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}

func simPercent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// simShare is "5.2% [3.9%, 6.8%]".
func simShare(s simulation.Share) string {
	if math.IsNaN(s.Value) {
		return "-"
	}
	return fmt.Sprintf("%s [%s, %s]", simPercent(s.Value), simPercent(s.Lower), simPercent(s.Upper))
}
