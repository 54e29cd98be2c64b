package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/simulation"
)

// runSimulateApp runs `jetstream simulate args…` in an App holding only the command (it is
// registered in App() elsewhere), with App()'s usage-error handling.
func runSimulateApp(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := simulateCommand()
	cmd.OnUsageError = onUsageError
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "jetstream", Commands: []*cli.Command{cmd}, Writer: &out, ErrWriter: &errOut, OnUsageError: onUsageError}
	err = app.Run(append([]string{"jetstream", "simulate"}, args...))
	return out.String(), errOut.String(), err
}

// simulateSmall are the flags of a quick simulation (the statistics are not checked here:
// package simulation's tests do that).
var simulateSmall = []string{"--experiments", "20", "--clients", "200", "--replicates", "200", "--seed", "3", "--workers", "2"}

// TestSimulateTable: the table has one line per statistic and comparison with the report's
// figures, and an A/A run says for each false-positive rate whether it lies in 4–6%.
func TestSimulateTable(t *testing.T) {
	out, _, err := runSimulateApp(t, simulateSmall...)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := simulation.Run(context.Background(), simulation.Config{Experiments: 20, Clients: 200, Replicates: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^20 A/A experiments, 200 clients per branch, 200 bootstrap replicates, seed 3: \S+\n\n`).MatchString(out) {
		t.Errorf("first line:\n%s", out)
	}
	if !strings.Contains(out, "false positives: excluding 0 [95% CI]") {
		t.Errorf("no false-positive column:\n%s", out)
	}
	for _, l := range rep.Lines {
		want := regexp.MustCompile(fmt.Sprintf(`(?m)^%s +%s +20 +%s +0 +%s +0 +%s +%s$`, l.Statistic, l.Comparison,
			regexp.QuoteMeta(simShare(l.ExcludingShare)), regexp.QuoteMeta(simShare(l.Coverage)), regexp.QuoteMeta(simShare(l.TargetCoverage)),
			regexp.QuoteMeta(simNumber(l.MeanWidth))))
		if !want.MatchString(out) {
			t.Errorf("no line %s:\n%s", want, out)
		}
		verdict := "NOT in 4–6%"
		if r := l.ExcludingShare.Value; r >= 0.04 && r <= 0.06 {
			verdict = "in 4–6%"
		}
		check := regexp.MustCompile(fmt.Sprintf(`(?m)^  %s +%s +%s +%s$`, l.Statistic, l.Comparison, regexp.QuoteMeta(simPercent(l.ExcludingShare.Value)), verdict))
		if !check.MatchString(out) {
			t.Errorf("no verdict %s:\n%s", check, out)
		}
	}
	if !strings.Contains(out, "\nA/A false-positive rates (calibrated: 4–6%):\n") {
		t.Errorf("no A/A verdicts:\n%s", out)
	}
}

// TestSimulateEffectTable: with an effect, the table reports power and the truth, and no
// A/A verdicts; a negative effect is accepted as a flag value.
func TestSimulateEffectTable(t *testing.T) {
	out, _, err := runSimulateApp(t, append(simulateSmall, "--effect", "-0.2")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"known-effect experiments (true relative uplift -0.2)", "power: excluding 0 [95% CI]"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	continuous, binary := simulation.TrueDifference(-0.2)
	for _, want := range []string{
		`(?m)^mean +relative_uplift +20 .* -0\.2 `,
		fmt.Sprintf(`(?m)^mean +difference +20 .* %s `, regexp.QuoteMeta(simNumber(continuous))),
		fmt.Sprintf(`(?m)^binomial +difference +20 .* %s `, regexp.QuoteMeta(simNumber(binary))),
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "A/A false-positive rates") {
		t.Errorf("A/A verdicts for a known effect:\n%s", out)
	}
}

// TestSimulateJSON: --format json is the report, with the A/A verdicts.
func TestSimulateJSON(t *testing.T) {
	out, _, err := runSimulateApp(t, append(simulateSmall, "--format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Experiments, Clients_per_branch, Replicates int
		Seed                                        uint64
		Effect, Seconds                             float64
		Lines                                       []struct {
			Statistic, Comparison             string
			Experiments, Missing, Excluding_0 int
			Excluding_0_share, Truth_coverage struct{ Value, Lower, Upper float64 }
			Truth, Target, Mean_width         float64
			Covering_truth, Covering_target   int
		}
		Aa_checks []simCheck
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	rep, err := simulation.Run(context.Background(), simulation.Config{Experiments: 20, Clients: 200, Replicates: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Experiments != 20 || doc.Clients_per_branch != 200 || doc.Replicates != 200 || doc.Seed != 3 || doc.Effect != 0 || doc.Seconds < 0 {
		t.Errorf("header %+v", doc)
	}
	if len(doc.Lines) != len(rep.Lines) || len(doc.Aa_checks) != len(rep.Lines) {
		t.Fatalf("%d lines and %d checks, want %d:\n%s", len(doc.Lines), len(doc.Aa_checks), len(rep.Lines), out)
	}
	for i, l := range rep.Lines {
		d := doc.Lines[i]
		if d.Statistic != l.Statistic || d.Comparison != l.Comparison || d.Experiments != l.Experiments || d.Excluding_0 != l.Excluding0 ||
			d.Excluding_0_share.Value != l.ExcludingShare.Value || d.Excluding_0_share.Upper != l.ExcludingShare.Upper ||
			d.Covering_truth != l.Covering || d.Truth_coverage.Lower != l.Coverage.Lower || d.Covering_target != l.CoveringTarget || d.Mean_width != l.MeanWidth {
			t.Errorf("line %d = %+v, want %+v", i, d, l)
		}
		c := doc.Aa_checks[i]
		if c.Statistic != l.Statistic || c.Comparison != l.Comparison || c.Rate != l.ExcludingShare.Value {
			t.Errorf("check %d = %+v for %+v", i, c, l)
		}
	}
}

// TestSimulateChecks: the 4–6% range includes its ends; lines without experiments and
// known-effect runs get no verdict.
func TestSimulateChecks(t *testing.T) {
	line := func(rate float64, n int) simulation.Line {
		return simulation.Line{Statistic: "mean", Comparison: "difference", Experiments: n, ExcludingShare: simulation.Share{Value: rate}}
	}
	rep := simulation.Report{Lines: []simulation.Line{line(0.039, 1000), line(0.04, 1000), line(0.06, 1000), line(0.061, 1000), line(math.NaN(), 0)}}
	var got []bool
	for _, c := range simChecks(rep) {
		got = append(got, c.InRange)
	}
	if fmt.Sprint(got) != "[false true true false]" {
		t.Errorf("verdicts %v, want [false true true false]", got)
	}
	rep.Effect = 0.1
	if c := simChecks(rep); c != nil {
		t.Errorf("known-effect verdicts %v", c)
	}
	// A report with NaN (a line without experiments) still encodes, as nulls.
	var buf bytes.Buffer
	rep.Lines[4].MeanWidth = math.NaN()
	if err := writeSimulationJSON(&buf, rep, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"mean_width": null`) {
		t.Errorf("NaN not null:\n%s", buf.String())
	}
}

// TestSimulateUsageErrors: a bad flag is a usage error (exit status 2) naming the flag.
func TestSimulateUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--experiments", "0"}, "--experiments: want ≥ 1, got 0"},
		{[]string{"--clients", "1"}, "--clients: want ≥ 2 per branch, got 1"},
		{[]string{"--replicates", "0"}, "--replicates: want ≥ 1, got 0"},
		{[]string{"--workers", "-1"}, "--workers: want ≥ 1 (or 0 for GOMAXPROCS), got -1"},
		{[]string{"--format", "csv"}, `--format: want table or json, got "csv"`},
		{[]string{"--effect", "-1"}, "--effect -1: want > -1 (treatment's metric is multiplied by 1 + effect)"},
		{[]string{"--effect", "2.5"}, "--effect 2.5: want ≤ 2.333 (the binary metric's probability 0.3·(1 + effect) must stay ≤ 1)"},
		{[]string{"extra"}, `simulate: unexpected argument "extra" (the simulation is set by flags)`},
		{[]string{"--experiments", "many"}, `invalid value "many" for flag -experiments`},
	} {
		out, _, err := runSimulateApp(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		if code := ExitCode(err); code != ExitUsage {
			t.Errorf("%v: exit status %d, want %d", c.args, code, ExitUsage)
		}
		if strings.Contains(out, "experiments,") {
			t.Errorf("%v: printed a report:\n%s", c.args, out)
		}
	}
}

// TestSimulateHelp: the help shows the flags with their defaults and examples.
func TestSimulateHelp(t *testing.T) {
	out, _, err := runSimulateApp(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"jetstream simulate - check the statistics' intervals",
		"Examples:\n      jetstream simulate ",
		"--experiments value", "(default: 1000)",
		"--clients value", "(default: 2000)",
		"--replicates value", "(default: 10000)",
		"--effect value", "--seed value", "--format value",
		"--workers value      experiments computed at once, 0 for GOMAXPROCS; never changes the report (default: 0)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}
