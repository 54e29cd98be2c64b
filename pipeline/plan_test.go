package pipeline

import (
	"math"
	"testing"

	"github.com/jetstream-beam/jetstream/configs"
)

// Each experiment's enrollments come from its config's query type or custom query, else its
// platform's source; Glean sources read the dataset of Experimenter's app id (else the
// platform's).
func TestEnrollmentsSource(t *testing.T) {
	cases := []struct {
		name              string
		a                 configs.Analysis
		wantType, wantApp string
		wantCustom        string
	}{
		{"desktop", configs.Analysis{AppName: "firefox_desktop", AppID: "firefox-desktop"}, "normandy", "firefox_desktop", ""},
		{"fenix beta", configs.Analysis{AppName: "fenix", AppID: "org.mozilla.firefox_beta"}, "glean-event", "org_mozilla_firefox_beta", ""},
		{"ios without app id", configs.Analysis{AppName: "firefox_ios"}, "glean-event", "org_mozilla_ios_firefoxbeta", ""},
		{"desktop configured glean", configs.Analysis{AppName: "firefox_desktop", EnrollmentsQueryType: "glean-event"}, "glean-event", "firefox_desktop", ""},
		{"custom query", configs.Analysis{AppName: "firefox_desktop", EnrollmentQuery: "SELECT 1"}, "normandy", "firefox_desktop", "SELECT 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.a.Slug = "s"
			e := newExperimentPlan(&c.a, Dates{}, Options{}).Enrollments
			if e.Type != c.wantType || e.AppDataset != c.wantApp || e.Custom != c.wantCustom {
				t.Errorf("type %q, dataset %q, custom %q; want %q, %q, %q", e.Type, e.AppDataset, e.Custom, c.wantType, c.wantApp, c.wantCustom)
			}
		})
	}
}

// TestModelTallyDecision: a metric's (metric, covariate) pairs are read as a model tally
// sized for its linear models' largest drop_highest, unless a linear model has
// pre-treatments (they need the pairs themselves); other statistics do not matter. The
// tail grows as the smallest branch's share shrinks (2·d/share, the share at most 1/2),
// up to every pair.
func TestModelTallyDecision(t *testing.T) {
	cov := map[string]any{"period": "preenrollment_week"}
	lm := configs.StatisticSpec{Name: "linear_model_mean", Params: map[string]any{"covariate_adjustment": cov}}
	lmDrop := configs.StatisticSpec{Name: "linear_model_mean", Params: map[string]any{"drop_highest": 0.05, "covariate_adjustment": cov}}
	dau := configs.StatisticSpec{Name: "per_client_dau_impact", Params: map[string]any{"covariate_adjustment": cov}}
	censored := lm
	censored.PreTreatments = []configs.PreTreatmentSpec{{Name: "censor_highest_values", Params: map[string]any{"fraction": 0.9}}}
	boot := configs.StatisticSpec{Name: "bootstrap_mean", Params: map[string]any{}, PreTreatments: []configs.PreTreatmentSpec{{Name: "log"}}}
	cases := []struct {
		stats []configs.StatisticSpec
		share float64 // the smallest branch's
		model bool
		tail  float64
	}{
		{[]configs.StatisticSpec{lm}, 0.5, true, 0.02},
		{[]configs.StatisticSpec{lm}, 1, true, 0.02},
		{[]configs.StatisticSpec{lm}, 0.2, true, 0.05},
		{[]configs.StatisticSpec{lm}, 0.05, true, 0.2},
		{[]configs.StatisticSpec{lm}, 0, true, 1},
		{[]configs.StatisticSpec{dau}, 0.5, true, 0},
		{[]configs.StatisticSpec{dau, lmDrop, boot}, 0.5, true, 0.2},
		{[]configs.StatisticSpec{lmDrop}, 0.05, true, 1},
		{[]configs.StatisticSpec{censored, dau}, 0.5, false, 0.02},
	}
	for i, c := range cases {
		model, tail := modelTally(&configs.Metric{Name: "m", Statistics: c.stats}, c.share)
		if model != c.model || math.Abs(tail-c.tail) > 1e-15 {
			t.Errorf("case %d: model %v, tail fraction %v; want %v, %v", i, model, tail, c.model, c.tail)
		}
	}
}
