package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
)

func init() {
	register.Function1x2[partialTally, string, statistics.Tally](partialTallyKV)
	register.Function1x2[partialModel, string, statistics.ModelTally](partialModelKV)
}

// partialTally and partialModel are one read part's tallies of one (cell, branch) key, as
// ReadClients emits them.
type partialTally struct {
	Key   string
	Tally statistics.Tally
}

type partialModel struct {
	Key   string
	Model statistics.ModelTally
}

func partialTallyKV(p partialTally) (string, statistics.Tally)      { return p.Key, p.Tally }
func partialModelKV(p partialModel) (string, statistics.ModelTally) { return p.Key, p.Model }

// TestAnalyseModelTallies: a covariate-adjusted linear model from model tallies, emitted in
// six partial tallies per branch (pruned as ReadClients prunes them) and merged by the
// pipeline's combine (which prunes again), gives the rows plain Go gives from every pair,
// bit for bit.
func TestAnalyseModelTallies(t *testing.T) {
	lm := map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}}
	params, err := transforms.EncodeParams(lm)
	if err != nil {
		t.Fatal(err)
	}
	stat, err := statistics.New("linear_model_mean", lm)
	if err != nil {
		t.Fatal(err)
	}
	frac, _ := statistics.ModelTailFraction(stat, 0.5)
	cfg := transforms.Config{Seed: 3, Experiments: []transforms.ExperimentConfig{{
		Slug: "exp-a", TableSlug: "exp_a", Branches: []string{"control", "treatment"}, ReferenceBranch: "control",
		Metrics: []transforms.MetricConfig{{Name: "active_hours", Statistics: []transforms.StatisticConfig{{Name: "linear_model_mean", Params: params}}}},
		Windows: []transforms.WindowLength{{Period: "week", Window: 2, Days: 7}},
	}}}
	g := rand.New(rand.NewPCG(5, 6))
	var tallies []partialTally
	var models []partialModel
	var inputs []statistics.Input
	pruned := 0
	for b, branch := range []string{"control", "treatment"} {
		in := statistics.Input{Branch: branch}
		for range 6 {
			tally, model := statistics.Tally{}, statistics.NewModelTally(frac)
			for range 5000 {
				x := math.Exp(g.NormFloat64())
				y := 0.8*x + math.Exp(g.NormFloat64()+0.05*float64(b))
				tally.Add(y)
				model.Add(y, x)
				in.Tally.Add(y)
				in.Pairs.Add(y, x)
			}
			tally.Compact()
			model.Compact()
			if model.Bulk.N > 0 {
				pruned++
			}
			tallies = append(tallies, partialTally{testCell.BranchKey(branch), tally})
			models = append(models, partialModel{testCell.BranchKey(branch), model})
		}
		inputs = append(inputs, in)
	}
	if pruned != 12 {
		t.Fatalf("%d of 12 partial model tallies pruned, want all", pruned)
	}
	rows, errs := statistics.Compute(stat, inputs, func(string) uint64 { return 0 })
	if len(errs) > 0 || len(rows) != 2+2*2 {
		t.Fatalf("plain Go: %d rows, errors %v", len(rows), errs)
	}
	var want []any
	for _, r := range rows {
		want = append(want, rowString("statistics_exp_a_week_2", "active_hours", r))
	}

	p, s := beam.NewPipelineWithRoot()
	values := transforms.MergeTallies(s, beam.ParDo(s, partialTallyKV, beam.CreateList(s, tallies)))
	modelTallies := transforms.MergeModelTallies(s, beam.ParDo(s, partialModelKV, beam.CreateList(s, models)))
	noPairs := transforms.PairTallyPerBranch(s, beam.ParDo(s, clientPairKV, beam.CreateList(s, []clientPair{})))
	got, gotErrs := transforms.ComputeCells(s, cfg, values, noPairs, modelTallies)
	passert.Equals(s, beam.ParDo(s, renderRow, got), want...)
	passert.Empty(s, gotErrs)
	ptest.RunAndValidate(t, p)
}
