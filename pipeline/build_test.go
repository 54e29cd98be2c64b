package pipeline

import (
	"fmt"
	"math"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn"
	ptest.Main(m)
}

func init() {
	register.Function1x2[clientValue, string, float64](clientValueKV)
	register.Function1x2[clientPair, string, transforms.Pair](clientPairKV)
	register.Function2x1[string, statistics.Row, string](renderRow)
	register.Function1x1[transforms.AnalysisError, string](renderError)
}

// clientValue is one client's value for one cell, as ReadClients would emit it.
type clientValue struct {
	Key   string
	Value float64
}

func clientValueKV(c clientValue) (string, float64) { return c.Key, c.Value }

// clientPair is one client's pair for one cell, as ReadClients would emit it.
type clientPair struct {
	Key  string
	Pair transforms.Pair
}

func clientPairKV(c clientPair) (string, transforms.Pair) { return c.Key, c.Pair }

func renderRow(table string, r statistics.Row) string {
	return table + " " + string(export.MarshalRow(r, 0))
}

func renderError(e transforms.AnalysisError) string {
	return fmt.Sprintf("%s %s %s: %s", e.Metric, e.Statistic, e.AnalysisBasis, e.Message)
}

var testCell = transforms.Cell{Experiment: "exp-a", Basis: "enrollments", Period: "week", Window: 2, Segment: "all", Metric: "active_hours"}

func testConfig(t *testing.T) transforms.Config {
	t.Helper()
	boot, err := transforms.EncodeParams(map[string]any{"num_samples": int64(500), "drop_highest": 0.1})
	if err != nil {
		t.Fatal(err)
	}
	return transforms.Config{
		Seed: 42,
		Experiments: []transforms.ExperimentConfig{{
			Slug: "exp-a", TableSlug: "exp_a", Branches: []string{"control", "treatment", "empty"}, ReferenceBranch: "control",
			Metrics: []transforms.MetricConfig{{Name: "active_hours", Statistics: []transforms.StatisticConfig{
				{Name: "bootstrap_mean", Params: boot},
				{Name: "sum", PreTreatments: []transforms.PreTreatmentConfig{{Name: "normalize_over_analysis_period"}}},
				{Name: "binomial"},
			}}},
			Windows: []transforms.WindowLength{{Period: "week", Window: 2, Days: 7}},
		}},
	}
}

// testData is a small, skewed per-client data set: control 0..29 hours / 3, treatment a
// little higher, with ties so the tally has fewer distinct values than clients.
func testData() map[string][]float64 {
	data := map[string][]float64{}
	for i := 0; i < 30; i++ {
		data["control"] = append(data["control"], float64(i%10)/3)
		data["treatment"] = append(data["treatment"], float64(i%12)/3+0.5)
	}
	return data
}

// TestAnalyse runs tallying, estimation and comparison on Prism and checks every row
// against the same statistics computed in plain Go from the same values and seeds: exact
// count and sum, and bootstrap rows bit for bit.
func TestAnalyse(t *testing.T) {
	cfg := testConfig(t)
	data := testData()
	var input []clientValue
	for _, branch := range []string{"treatment", "control"} {
		for _, v := range data[branch] {
			input = append(input, clientValue{testCell.BranchKey(branch), v})
			identity := testCell
			identity.Metric = transforms.Identity
			input = append(input, clientValue{identity.BranchKey(branch), 1})
		}
	}

	// Plain Go: the same tallies, seeds and statistics.
	table := "statistics_exp_a_week_2"
	var want []any
	var boot []statistics.Estimate
	for _, branch := range []string{"control", "treatment"} {
		var tally statistics.Tally
		for _, v := range data[branch] {
			tally.Add(v)
		}
		tally.Compact()
		b, _ := statistics.New("bootstrap_mean", map[string]any{"num_samples": int64(500), "drop_highest": 0.1})
		est, err := b.Estimate(branch, tally, statistics.Seed(42, testCell.Key(), branch, "bootstrap_mean"))
		if err != nil {
			t.Fatal(err)
		}
		boot = append(boot, est)
		// sum after normalize_over_analysis_period: every value divided by the 7-day window
		var perDay statistics.Tally
		for _, v := range data[branch] {
			perDay.Add(v / 7)
		}
		want = append(want,
			rowString(table, "active_hours", statistics.Row{Statistic: "sum", Branch: branch, Point: perDay.Sum()}),
			rowString(table, "identity", statistics.Row{Statistic: "count", Branch: branch, Point: 30}))
	}
	want = append(want, rowString(table, "identity", statistics.Row{Statistic: "count", Branch: "empty", Point: 0}))
	b, _ := statistics.New("bootstrap_mean", map[string]any{"num_samples": int64(500), "drop_highest": 0.1})
	rows := b.Rows(boot)
	if len(rows) != 6 {
		t.Fatalf("plain Go bootstrap gave %d rows, want 2 individual + 4 comparisons", len(rows))
	}
	for _, r := range rows {
		want = append(want, rowString(table, "active_hours", r))
	}

	p, s := beam.NewPipelineWithRoot()
	values := beam.ParDo(s, clientValueKV, beam.CreateList(s, input))
	gotRows, errs := Analyse(s, cfg, values, beam.ParDo(s, clientPairKV, beam.CreateList(s, []clientPair{})))
	passert.Equals(s, beam.ParDo(s, renderRow, gotRows), want...)
	// binomial on a non-binary metric fails per branch, without stopping the other statistics.
	passert.Equals(s, beam.ParDo(s, renderError, errs),
		`active_hours binomial enrollments: binomial: branch "control": value 0.3333333333333333 is not 0 or 1`,
		`active_hours binomial enrollments: binomial: branch "treatment": value 0.5 is not 0 or 1`)
	ptest.RunAndValidate(t, p)
}

// rowString renders a row as TestAnalyse's pipeline does, with NULLs for absent fields.
func rowString(table, metric string, r statistics.Row) string {
	nan := math.NaN()
	if r.Statistic == "sum" || r.Statistic == "count" {
		r.CIWidth, r.Lower, r.Upper = nan, nan, nan
	}
	r.Metric, r.Segment, r.AnalysisBasis = metric, "all", "enrollments"
	return renderRow(table, r)
}

// TestAnalysePairs: a two-column statistic (population_ratio) gets each branch's pairs,
// combined from pairs split over many elements, and gives exactly the rows plain Go gives
// for the same pair tallies and seeds.
func TestAnalysePairs(t *testing.T) {
	params, err := transforms.EncodeParams(map[string]any{"numerator": "clicks", "denominator": "searches", "num_samples": int64(200)})
	if err != nil {
		t.Fatal(err)
	}
	cell := testCell
	cell.Metric = "ctr"
	cfg := transforms.Config{Seed: 7, Experiments: []transforms.ExperimentConfig{{
		Slug: "exp-a", TableSlug: "exp_a", Branches: []string{"control", "treatment"}, ReferenceBranch: "control",
		Metrics: []transforms.MetricConfig{{Name: "ctr", Statistics: []transforms.StatisticConfig{{Name: "population_ratio", Params: params}}}},
		Windows: []transforms.WindowLength{{Period: "week", Window: 2, Days: 7}},
	}}}
	var input []clientPair
	var inputs []statistics.Input
	for b, branch := range []string{"control", "treatment"} {
		in := statistics.Input{Branch: branch}
		for i := 0; i < 40; i++ {
			p := transforms.Pair{X: float64((i*7+b)%5) + 1, Y: float64(i%4) + 2}
			input = append(input, clientPair{cell.BranchKey(branch), p})
			in.Pairs.Add(p.X, p.Y)
		}
		in.Pairs.Compact()
		inputs = append(inputs, in)
	}
	stat, err := statistics.New("population_ratio", map[string]any{"numerator": "clicks", "denominator": "searches", "num_samples": int64(200)})
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := statistics.Compute(stat, inputs, func(branch string) uint64 {
		return statistics.Seed(7, cell.Key(), branch, "population_ratio")
	})
	if len(errs) > 0 || len(rows) != 2+2*2 {
		t.Fatalf("plain Go: %d rows, errors %v", len(rows), errs)
	}
	var want []any
	for _, r := range rows {
		r.Metric, r.Segment, r.AnalysisBasis = "ctr", "all", "enrollments"
		want = append(want, renderRow("statistics_exp_a_week_2", r))
	}

	p, s := beam.NewPipelineWithRoot()
	values := beam.ParDo(s, clientValueKV, beam.CreateList(s, []clientValue{}))
	gotRows, errRows := Analyse(s, cfg, values, beam.ParDo(s, clientPairKV, beam.CreateList(s, input)))
	passert.Equals(s, beam.ParDo(s, renderRow, gotRows), want...)
	passert.Empty(s, errRows)
	ptest.RunAndValidate(t, p)
}
