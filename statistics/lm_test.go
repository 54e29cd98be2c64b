package statistics

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTQuantile checks Student's t quantiles at 0.975 against 30-digit
// values (mpmath: root of the regularized incomplete beta).
func TestTQuantile(t *testing.T) {
	tests := []struct{ df, want float64 }{
		{1, 12.70620473617470464602168},
		{2, 4.302652729749463852320944},
		{5, 2.570581835636315514696246},
		{30, 2.042272456301238309958042},
		{300, 1.967903011261087030130759},
		{1000, 1.96233908082640848499858},
		{4497, 1.960491647203394417848},
		{199998, 1.959975846085384672156631},
		{1e7, 1.959964221767205490369585},
	}
	for _, tc := range tests {
		got := tQuantile(0.975, tc.df)
		if d := math.Abs(got/tc.want - 1); !(d <= 2e-14) {
			t.Errorf("tQuantile(0.975, %v) = %.17g, want %.17g (rel err %.2g)", tc.df, got, tc.want, d)
		}
	}
	if !math.IsNaN(tQuantile(0.975, 0)) {
		t.Error("tQuantile(0.975, 0) is not NaN")
	}
}

// lmPairs builds a PairTally of (y, x) pairs.
func lmPairs(yx ...[2]float64) PairTally {
	var p PairTally
	for _, v := range yx {
		p.Add(v[0], v[1])
	}
	p.Compact()
	return p
}

func findRow(t *testing.T, rows []Row, branch, comparison, ref string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Branch == branch && r.Comparison == comparison && r.ComparisonToBranch == ref {
			return r
		}
	}
	t.Fatalf("no row %s/%s/%s in %v", branch, comparison, ref, rows)
	return Row{}
}

// TestLinearModelMean checks small cells against values computed
// independently (mpmath, 30 digits: OLS by the normal equations of the full
// design matrix, analytic delta method, datagrid over the exact
// probabilities i/10000).
func TestLinearModelMean(t *testing.T) {
	type want struct {
		branch, comparison, ref string
		point, lower, upper     float64
	}
	tests := []struct {
		name   string
		params map[string]any
		inputs []Input
		want   []want
	}{
		{
			name:   "unadjusted",
			params: map[string]any{"drop_highest": 0.0},
			inputs: []Input{
				{Branch: "control", Tally: tallyOf(1, 2, 3)},
				{Branch: "treatment", Tally: tallyOf(2, 4, 6)},
			},
			want: []want{
				{"control", "", "", 2, -0.48413771175033107104, 4.484137711750331071},
				{"treatment", "", "", 4, -0.96827542350066214208, 8.9682754235006621421},
				{"treatment", Difference, "control", 2, -1.5843752180300523931, 5.5843752180300523931},
				{"treatment", RelativeUplift, "control", 1, -0.51504614123854991695, 7.2482073866074941102},
			},
		},
		{
			name:   "covariate",
			params: map[string]any{"drop_highest": 0.0, "covariate_adjustment": map[string]any{"period": "preenrollment_week"}},
			inputs: []Input{
				{Branch: "control", Tally: tallyOf(1, 2, 4), Pairs: lmPairs([2]float64{1, 0}, [2]float64{2, 1}, [2]float64{4, 2})},
				{Branch: "treatment", Tally: tallyOf(3, 5, 6), Pairs: lmPairs([2]float64{3, 1}, [2]float64{5, 2}, [2]float64{6, 4})},
			},
			want: []want{
				{"control", "", "", 2.3333333333333333333, -1.4612497002634278565, 6.1279163669300945231},
				{"treatment", "", "", 4.6666666666666666667, 0.87208363306990547688, 8.4612497002634278565},
				{"treatment", Difference, "control", 0.86666666666666666667, -1.1311241700029399019, 2.8644575033362732352},
				{"treatment", RelativeUplift, "control", 0.28955357520708648965, -0.28785985643167371982, 1.3351420901465124308},
			},
		},
	}
	for _, tc := range tests {
		st, err := New("linear_model_mean", tc.params)
		if err != nil {
			t.Fatal(err)
		}
		rows, errs := Compute(st, tc.inputs, func(string) uint64 { return 0 })
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tc.name, errs)
		}
		if len(rows) != 2+2*2 {
			t.Errorf("%s: %d rows, want 6", tc.name, len(rows))
		}
		for _, w := range tc.want {
			r := findRow(t, rows, w.branch, w.comparison, w.ref)
			if r.Statistic != "mean_lm" || r.CIWidth != 0.95 {
				t.Errorf("%s: row %+v", tc.name, r)
			}
			width := w.upper - w.lower
			for _, f := range []struct {
				name      string
				got, want float64
				tol       float64
			}{
				{"point", r.Point, w.point, 1e-12 * max(1, math.Abs(w.point))},
				{"lower", r.Lower, w.lower, 1e-12 * max(1, math.Abs(w.lower))},
				{"upper", r.Upper, w.upper, 1e-12 * max(1, math.Abs(w.upper))},
			} {
				if w.comparison == RelativeUplift && f.name != "point" {
					f.tol = 1e-5 * width // lm_relative_bounds: forward-difference Jacobian
				}
				if !(math.Abs(f.got-f.want) <= f.tol) {
					t.Errorf("%s: %s %s %s: %s = %.17g, want %.17g", tc.name, w.branch, w.comparison, w.ref, f.name, f.got, f.want)
				}
			}
		}
	}
}

// TestRelativeUpliftJacobian compares the forward-difference delta method
// with the analytic gradient ∂θ/∂β = (1/μ_hi − 1/μ_lo, 1/μ_hi, q̄(1/μ_hi − 1/μ_lo)).
func TestRelativeUpliftJacobian(t *testing.T) {
	beta := [3]float64{2.5, 0.04, 0.7}
	cov := [3][3]float64{{1e-3, -4e-4, -2e-4}, {-4e-4, 9e-4, 1e-5}, {-2e-4, 1e-5, 3e-4}}
	qbar, tq := 1.3, 1.96
	_, lo, hi := relativeUplift(beta, cov, qbar, tq)
	mlo := beta[0] + beta[2]*qbar
	mhi := mlo + beta[1]
	g := [3]float64{1/mhi - 1/mlo, 1 / mhi, qbar * (1/mhi - 1/mlo)}
	v := 0.0
	for i := range g {
		for j := range g {
			v += g[i] * cov[i][j] * g[j]
		}
	}
	theta := math.Log(mhi / mlo)
	wlo, whi := math.Exp(theta-tq*math.Sqrt(v))-1, math.Exp(theta+tq*math.Sqrt(v))-1
	if d := max(math.Abs(lo-wlo), math.Abs(hi-whi)); !(d <= 1e-6*(whi-wlo)) {
		t.Errorf("bounds (%v, %v), analytic (%v, %v)", lo, hi, wlo, whi)
	}
}

// TestLinearModelSpecialCases covers the zero-reference guard, the
// no-variation NULL rows, a constant covariate (refit without it) and
// per_client_dau_impact's scaling.
func TestLinearModelSpecialCases(t *testing.T) {
	seed := func(string) uint64 { return 0 }
	lm, _ := New("linear_model_mean", nil)

	// Zero reference: no rows with control as reference, rows with treatment.
	in := []Input{{Branch: "control", Tally: tallyOf(0, 0, 0)}, {Branch: "treatment", Tally: tallyOf(1, 2, 4)}}
	rows, errs := Compute(lm, in, seed)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `reference branch "control": all values are zero`) {
		t.Errorf("errs = %v", errs)
	}
	for _, r := range rows {
		if r.ComparisonToBranch == "control" {
			t.Errorf("row against the zero reference: %+v", r)
		}
	}
	if len(rows) != 4 {
		t.Errorf("zero reference: %d rows, want 2 individual + 2 against treatment", len(rows))
	}
	if r := findRow(t, rows, "control", RelativeUplift, "treatment"); r.Point != -1 {
		t.Errorf("control vs treatment relative uplift = %v, want -1", r.Point)
	}
	if rows, _ := lm.(linearModelMean).computeReferences(in, []string{"control"}); len(rows) != 0 {
		t.Errorf("zero reference alone: %d rows, want none", len(rows))
	}

	// No variation: NULL rows for every branch and comparison.
	rows, errs = Compute(lm, []Input{{Branch: "a", Tally: tallyOf(3, 3)}, {Branch: "b", Tally: tallyOf(3)}}, seed)
	if len(errs) != 0 || len(rows) != 2+2*2 {
		t.Fatalf("no variation: %d rows, errs %v", len(rows), errs)
	}
	for _, r := range rows {
		if !math.IsNaN(r.Point) || !math.IsNaN(r.Lower) || !math.IsNaN(r.Upper) || r.CIWidth != 0.95 {
			t.Errorf("no variation: row %+v, want NULL values", r)
		}
	}

	// A constant covariate makes XᵀX singular: the unadjusted fit is used.
	cov, _ := New("linear_model_mean", map[string]any{"drop_highest": 0.0, "covariate_adjustment": map[string]any{"period": "preenrollment_days28", "metric": "x"}})
	plain, _ := New("linear_model_mean", map[string]any{"drop_highest": 0.0})
	in = []Input{
		{Branch: "control", Tally: tallyOf(1, 2, 3), Pairs: lmPairs([2]float64{1, 5}, [2]float64{2, 5}, [2]float64{3, 5})},
		{Branch: "treatment", Tally: tallyOf(2, 4, 6), Pairs: lmPairs([2]float64{2, 5}, [2]float64{4, 5}, [2]float64{6, 5})},
	}
	a, _ := Compute(cov, in, seed)
	b, _ := Compute(plain, in, seed)
	if !sameRows(a, b) {
		t.Errorf("constant covariate:\n%v\nwant the unadjusted rows\n%v", a, b)
	}

	// per_client_dau_impact = comparisons only, difference × N (all clients
	// with a metric, including those without a covariate).
	dau, _ := New("per_client_dau_impact", map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}})
	lm0, _ := New("linear_model_mean", map[string]any{"drop_highest": 0.0, "covariate_adjustment": map[string]any{"period": "preenrollment_week"}})
	in[0].Tally = tallyOf(1, 2, 3, 7) // a client without covariate
	in[1].Pairs = lmPairs([2]float64{2, 1}, [2]float64{4, 5}, [2]float64{6, 4})
	d, _ := Compute(dau, in, seed)
	l, _ := Compute(lm0, in, seed)
	if len(d) != 4 {
		t.Fatalf("per_client_dau_impact: %d rows, want 4", len(d))
	}
	for _, r := range d {
		w := findRow(t, l, r.Branch, r.Comparison, r.ComparisonToBranch)
		m := 1.0
		if r.Comparison == Difference {
			m = 7
		}
		if r.Statistic != "per_client_dau_impact" || r.Point != w.Point*m || r.Lower != w.Lower*m || r.Upper != w.Upper*m {
			t.Errorf("per_client_dau_impact row %+v, mean_lm row %+v", r, w)
		}
	}
}

func TestLinearModelParams(t *testing.T) {
	const msg = "Covariate adjustment must be done using a pre-treatment analysis period (one of: ['preenrollment_week', 'preenrollment_days28'])"
	for _, p := range []map[string]any{
		{"covariate_adjustment": map[string]any{"period": "week"}},
		{"covariate_adjustment": map[string]any{"metric": "x"}},
	} {
		_, err := New("linear_model_mean", p)
		if err == nil || err.Error() != `statistic "linear_model_mean": `+msg {
			t.Errorf("New(%v) error = %v", p, err)
		}
	}
	_, err := New("per_client_dau_impact", map[string]any{"integer_metric": "yes"})
	if err == nil || err.Error() != `statistic "per_client_dau_impact": parameter integer_metric = "yes" (string): want a boolean` {
		t.Errorf("error = %v", err)
	}
	st, err := New("linear_model_mean", map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week", "metric": "active_hours"}})
	if err != nil {
		t.Fatal(err)
	}
	period, col, ok := st.(linearModelMean).CovariateAdjustment("uri_count")
	if period != "preenrollment_week" || col != "active_hours_pre" || !ok {
		t.Errorf("CovariateAdjustment = %q %q %v", period, col, ok)
	}
	if st.(linearModelMean).dropHighest != 0.005 {
		t.Error("linear_model_mean drop_highest default")
	}
	st, _ = New("per_client_dau_impact", nil)
	if st.(linearModelMean).dropHighest != 0 || st.Output() != "per_client_dau_impact" {
		t.Error("per_client_dau_impact defaults")
	}
}

// TestLinearModelIntegerThreshold: integer columns round the pooled
// threshold up, whether declared or detected.
func TestLinearModelIntegerThreshold(t *testing.T) {
	var tl Tally
	for i := range 1000 {
		tl.Add(float64(i)) // Q(0.995) = 994.005
	}
	q := 1 - 0.005
	raw := tl.Quantile(q)
	if raw == math.Ceil(raw) {
		t.Fatalf("test data: threshold %v is integral", raw)
	}
	yes, no := true, false
	if got := clipThreshold(tl, q, nil); got != math.Ceil(raw) {
		t.Errorf("detected: %v, want %v", got, math.Ceil(raw))
	}
	if got := clipThreshold(tl, q, &yes); got != math.Ceil(raw) {
		t.Errorf("declared integer: %v", got)
	}
	if got := clipThreshold(tl, q, &no); got != raw {
		t.Errorf("declared float: %v, want %v", got, raw)
	}
}

// sameRows reports whether two row lists are identical, NaN equal to NaN.
func sameRows(a, b []Row) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return slices.EqualFunc(a, b, func(x, y Row) bool {
		return x.Metric == y.Metric && x.Statistic == y.Statistic && x.Parameter == y.Parameter &&
			x.Branch == y.Branch && x.Comparison == y.Comparison && x.ComparisonToBranch == y.ComparisonToBranch &&
			eq(x.CIWidth, y.CIWidth) && eq(x.Point, y.Point) && eq(x.Lower, y.Lower) && eq(x.Upper, y.Upper)
	})
}

// splitInputs rebuilds each input from its clients added in a random order
// and split at random into parts merged back with MergeTallies /
// MergePairTallies.
func splitInputs(in []Input, g *rand.Rand) []Input {
	out := make([]Input, len(in))
	for i, x := range in {
		vals := expandTally(x.Tally)
		g.Shuffle(len(vals), func(a, b int) { vals[a], vals[b] = vals[b], vals[a] })
		num, den := expandPairs(x.Pairs.Compacted())
		perm := g.Perm(len(num))
		var t1, t2 Tally
		cut := g.IntN(len(vals) + 1)
		for _, v := range vals[:cut] {
			t1.Add(v)
		}
		for _, v := range vals[cut:] {
			t2.Add(v)
		}
		var p1, p2 PairTally
		pcut := g.IntN(len(num) + 1)
		for j, k := range perm {
			if j < pcut {
				p1.Add(num[k], den[k])
			} else {
				p2.Add(num[k], den[k])
			}
		}
		out[len(in)-1-i] = Input{Branch: x.Branch, Tally: MergeTallies(t2, t1), Pairs: MergePairTallies(p2, p1)}
	}
	return out
}

func expandTally(t Tally) []float64 {
	c := t.Compacted()
	var v []float64
	for k, n := range c.Counts {
		for range n {
			v = append(v, c.Values[k])
		}
	}
	return v
}

// randomLMInputs makes three branches of integer-ish metric values with
// covariates, some clients without a covariate.
func randomLMInputs(g *rand.Rand) []Input {
	var in []Input
	for b, name := range []string{"control", "treatment-a", "treatment-b"} {
		var x Input
		x.Branch = name
		for range 300 {
			pre := math.Floor(g.ExpFloat64() * 5)
			y := math.Floor(pre*0.8 + g.ExpFloat64()*3 + float64(b))
			x.Tally.Add(y)
			if g.IntN(10) > 0 {
				x.Pairs.Add(y, pre)
			}
		}
		in = append(in, x)
	}
	return in
}

// TestLinearModelMergeInvariance: splitting, merging and reordering the
// clients and the inputs gives identical rows.
func TestLinearModelMergeInvariance(t *testing.T) {
	g := rand.New(rand.NewPCG(1, 2))
	in := randomLMInputs(g)
	seed := func(string) uint64 { return 0 }
	for _, params := range []map[string]any{
		nil,
		{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}},
	} {
		for _, name := range []string{"linear_model_mean", "per_client_dau_impact"} {
			st, err := New(name, params)
			if err != nil {
				t.Fatal(err)
			}
			base := in
			if params == nil {
				base = slices.Clone(in)
				for i := range base {
					base[i].Pairs = PairTally{}
				}
			}
			want, errs := Compute(st, base, seed)
			if len(errs) > 0 || len(want) == 0 {
				t.Fatalf("%s: %d rows, errs %v", name, len(want), errs)
			}
			for range 5 {
				got, _ := Compute(st, splitInputs(base, g), seed)
				if !sameRows(got, want) {
					t.Errorf("%s %v: rows differ after split/merge/reorder", name, params)
				}
			}
		}
	}
}

// TestGoldenLinearModelDetectedTypes runs the linear-model golden cases
// without the integer_metric / integer_covariate flags: detecting integer
// columns from the data gives the same rows.
func TestGoldenLinearModelDetectedTypes(t *testing.T) {
	for _, name := range []string{"linear-model-covariate", "linear-model-covariate-nulls", "linear-model-no-covariate", "linear-model-zero-reference", "per-client-dau-impact"} {
		c := loadGolden(t, name)
		rows, stats := runGolden(t, c, Options{}, func(p map[string]any) {
			delete(p, "integer_metric")
			delete(p, "integer_covariate")
		})
		if ms := compareGolden(t, c, stats, rows, false); ms.rows == 0 && name != "linear-model-zero-reference" {
			t.Errorf("%s: no rows compared", name)
		}
	}
}
