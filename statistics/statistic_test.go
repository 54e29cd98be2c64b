package statistics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		opts   Options
		want   string // the exact error text
	}{
		{"mann_whitney_u", nil, Options{}, `statistic "mann_whitney_u" does not exist`},
		{"kernel_density_estimate", map[string]any{"adjust": 2.0}, Options{},
			`statistic "kernel_density_estimate": KDE Adjust parameter no longer supported (adjust = 2; only 1.0 is accepted)`},
		{"kernel_density_estimate", map[string]any{"bandwidth": "silverman"}, Options{},
			`statistic "kernel_density_estimate": parameter bandwidth = "silverman" is not supported (supported: scott)`},
		{"empirical_cdf", map[string]any{"log_space": "yes"}, Options{},
			`statistic "empirical_cdf": parameter log_space = "yes" (string): want true or false`},
		{"empirical_cdf", map[string]any{"grid_size": int64(0)}, Options{},
			`statistic "empirical_cdf": parameter grid_size = 0 is out of range [1, 1048576]`},
		{"deciles", map[string]any{"drop_highest": 0.01}, Options{},
			`statistic "deciles": unknown parameter "drop_highest" (accepted: confidence_interval, num_samples)`},
		{"bootstrap_mean", map[string]any{"num_sample": int64(5)}, Options{},
			`statistic "bootstrap_mean": unknown parameter "num_sample" (accepted: confidence_interval, drop_highest, num_samples)`},
		{"count", map[string]any{"confidence_interval": 0.9}, Options{},
			`statistic "count": unknown parameter "confidence_interval" (accepted: none)`},
		{"bootstrap_mean", map[string]any{"num_samples": "many"}, Options{},
			`statistic "bootstrap_mean": parameter num_samples = "many" (string): want an integer`},
		{"bootstrap_mean", map[string]any{"num_samples": 1000.5}, Options{},
			`statistic "bootstrap_mean": parameter num_samples = 1000.5 (float64): want an integer`},
		{"bootstrap_mean", map[string]any{"num_samples": int64(0)}, Options{},
			`statistic "bootstrap_mean": parameter num_samples = 0 is out of range [1, 2147483647]`},
		{"bootstrap_mean", map[string]any{"drop_highest": 0.6}, Options{},
			`statistic "bootstrap_mean": parameter drop_highest = 0.6 is out of range [0, 0.5]`},
		{"bootstrap_mean", map[string]any{"drop_highest": true}, Options{},
			`statistic "bootstrap_mean": parameter drop_highest = true (bool): want a number`},
		{"binomial", map[string]any{"confidence_interval": int64(1)}, Options{},
			`statistic "binomial": parameter confidence_interval = 1 is out of range (0, 1)`},
		{"binomial", map[string]any{"confidence_interval": 0.0}, Options{},
			`statistic "binomial": parameter confidence_interval = 0 is out of range (0, 1)`},
		{"binomial", map[string]any{"num_samples": int64(10000)}, Options{},
			`statistic "binomial": unknown parameter "num_samples" (accepted: confidence_interval)`},
		{"binomial", nil, Options{Engine: "mersenne"},
			`statistic "binomial": unknown random engine "mersenne" (known: "fast", "numpy-legacy")`},
	}
	for _, tc := range tests {
		st, err := NewWithOptions(tc.name, tc.params, tc.opts)
		if err == nil {
			t.Errorf("New(%q, %v) = %v, want error %q", tc.name, tc.params, st, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("New(%q, %v) error\n got: %s\nwant: %s", tc.name, tc.params, err, tc.want)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	st, err := New("bootstrap_mean", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := st.(bootstrapMean)
	if b.numSamples != 10000 || b.dropHighest != 0.005 || b.ci != 0.95 {
		t.Errorf("bootstrap_mean defaults = %+v", b)
	}
	// TOML integers are accepted for float parameters (drop_highest = 0).
	st, err = New("bootstrap_mean", map[string]any{"num_samples": int64(500), "drop_highest": int64(0), "confidence_interval": 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if b := st.(bootstrapMean); b.numSamples != 500 || b.dropHighest != 0 || b.ci != 0.9 {
		t.Errorf("bootstrap_mean params = %+v", b)
	}
	for name, output := range map[string]string{"bootstrap_mean": "mean", "binomial": "binomial", "count": "count", "sum": "sum"} {
		st, err := New(name, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Name() != name || st.Output() != output {
			t.Errorf("New(%q): Name %q Output %q, want %q %q", name, st.Name(), st.Output(), name, output)
		}
	}
	if got := Names(); !slices.Equal(got, []string{"binomial", "bootstrap_mean", "count", "deciles", "empirical_cdf", "kernel_density_estimate", "linear_model_mean", "per_client_dau_impact", "population_ratio", "sum"}) {
		t.Errorf("Names() = %v", got)
	}
}

func TestEstimateErrors(t *testing.T) {
	boot, _ := New("bootstrap_mean", nil)
	bin, _ := New("binomial", nil)
	sum, _ := New("sum", nil)
	tests := []struct {
		st   Statistic
		t    Tally
		want string
	}{
		{boot, Tally{}, `bootstrap_mean: branch "b": no values`},
		{bin, Tally{}, `binomial: branch "b": no values`},
		{boot, tallyOf(1, math.NaN()), `bootstrap_mean: branch "b": data contains NaN (drop null metric values before adding them to the tally)`},
		{sum, tallyOf(math.NaN()), `sum: branch "b": data contains NaN (drop null metric values before adding them to the tally)`},
		{bin, tallyOf(0, 1, 2, 1), `binomial: branch "b": value 2 is not 0 or 1`},
		{bin, tallyOf(1, 0.5), `binomial: branch "b": value 0.5 is not 0 or 1`},
	}
	for _, tc := range tests {
		_, err := tc.st.Estimate("b", tc.t, 1)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s.Estimate error = %v, want %q", tc.st.Name(), err, tc.want)
		}
	}
}

func TestCountSum(t *testing.T) {
	count, _ := New("count", nil)
	sum, _ := New("sum", nil)
	data := map[string]Tally{"treatment": tallyOf(1, 2, 2, 3.5), "control": tallyOf(-1, 4), "empty": {}}
	var ce, se []Estimate
	for _, b := range []string{"treatment", "control", "empty"} {
		e, err := count.Estimate(b, data[b], 0)
		if err != nil {
			t.Fatal(err)
		}
		ce = append(ce, e)
		e, err = sum.Estimate(b, data[b], 0)
		if err != nil {
			t.Fatal(err)
		}
		se = append(se, e)
	}
	check := func(rows []Row, stat string, want map[string]float64) {
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows, want %d", stat, len(rows), len(want))
		}
		if !slices.IsSortedFunc(rows, compareRows) {
			t.Errorf("%s rows are not sorted", stat)
		}
		for _, r := range rows {
			if r.Statistic != stat || r.Comparison != "" || r.Point != want[r.Branch] ||
				!math.IsNaN(r.CIWidth) || !math.IsNaN(r.Lower) || !math.IsNaN(r.Upper) {
				t.Errorf("%s row %+v, want point %v and NULL ci/bounds", stat, r, want[r.Branch])
			}
		}
	}
	check(count.Rows(ce), "count", map[string]float64{"treatment": 4, "control": 2, "empty": 0})
	check(sum.Rows(se), "sum", map[string]float64{"treatment": 8.5, "control": 3, "empty": 0})
}

// TestBinomialIndividual checks the exact posterior rows against closed
// forms: Beta(1, 2) has quantile 1 − √(1 − q), Beta(3, 1) has q^{1/3}.
func TestBinomialIndividual(t *testing.T) {
	tests := []struct {
		data                []float64
		ci                  float64
		point, lower, upper float64
	}{
		{[]float64{0}, 0.95, 1.0 / 3, 1 - math.Sqrt(0.975), 1 - math.Sqrt(0.025)},
		{[]float64{1, 1}, 0.95, 0.75, math.Cbrt(0.025), math.Cbrt(0.975)},
		{[]float64{1, 1}, 0.99, 0.75, math.Cbrt(0.005), math.Cbrt(0.995)},
		{[]float64{1, 1}, 0.9, 0.75, math.NaN(), math.NaN()}, // DEFAULT_QUANTILES quirk
	}
	for _, tc := range tests {
		st, err := New("binomial", map[string]any{"confidence_interval": tc.ci})
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Estimate("a", tallyOf(tc.data...), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Replicates) != binomialSamples || len(e.Individual) != 1 {
			t.Fatalf("binomial estimate has %d replicates and %d rows", len(e.Replicates), len(e.Individual))
		}
		r := e.Individual[0]
		near := func(got, want float64) bool {
			return math.IsNaN(got) && math.IsNaN(want) || math.Abs(got-want) <= 1e-12
		}
		if r.Statistic != "binomial" || r.CIWidth != tc.ci || !near(r.Point, tc.point) || !near(r.Lower, tc.lower) || !near(r.Upper, tc.upper) {
			t.Errorf("binomial(%v, ci %v) = %v [%v, %v], want %v [%v, %v]", tc.data, tc.ci, r.Point, r.Lower, r.Upper, tc.point, tc.lower, tc.upper)
		}
	}
}

func TestBootstrapDegenerate(t *testing.T) {
	st, _ := New("bootstrap_mean", map[string]any{"num_samples": int64(1000)})
	// One client: every replicate is its value (up to rounding of v·g/g).
	e, err := st.Estimate("solo", tallyOf(4.2), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range e.Replicates {
		if math.Abs(x-4.2) > 1e-15*4.2 {
			t.Fatalf("single-value replicate %v, want 4.2", x)
		}
	}
	// All zeros: exactly 0; relative uplifts against it are NULL.
	z, _ := st.Estimate("zero", tallyOf(0, 0, 0), 4)
	rows := st.Rows([]Estimate{e, z})
	for _, r := range rows {
		switch {
		case r.Branch == "zero" && r.Comparison == "":
			if r.Point != 0 || r.Lower != 0 || r.Upper != 0 {
				t.Errorf("all-zero branch row %+v, want 0 [0, 0]", r)
			}
		case r.Branch == "solo" && r.Comparison == RelativeUplift:
			if !math.IsNaN(r.Point) || !math.IsNaN(r.Lower) || !math.IsNaN(r.Upper) {
				t.Errorf("relative uplift over an all-zero reference %+v, want NULL", r)
			}
		case r.Branch == "zero" && r.Comparison == RelativeUplift:
			if r.Point != -1 || r.Lower != -1 || r.Upper != -1 {
				t.Errorf("relative uplift of an all-zero branch %+v, want −1 [−1, −1]", r)
			}
		}
	}
}

// TestRowsAllPairs checks the row set of a comparative statistic: one
// individual row per branch and a difference and a relative_uplift row per
// ordered pair, in sorted order, with Metric/Segment/AnalysisBasis empty.
func TestRowsAllPairs(t *testing.T) {
	st, _ := New("bootstrap_mean", map[string]any{"num_samples": int64(200)})
	var est []Estimate
	for i, b := range []string{"treatment-b", "control", "treatment-a"} {
		e, err := st.Estimate(b, tallyOf(1, 2, 3, float64(i)), uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		est = append(est, e)
	}
	rows := st.Rows(est)
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.Branch+"|"+r.Comparison+"|"+r.ComparisonToBranch)
		if r.Metric != "" || r.Segment != "" || r.AnalysisBasis != "" || r.Statistic != "mean" || r.CIWidth != 0.95 {
			t.Errorf("row %+v: want only statistic, branch, comparison and values set", r)
		}
	}
	want := []string{
		"control||", "control|difference|treatment-a", "control|difference|treatment-b",
		"control|relative_uplift|treatment-a", "control|relative_uplift|treatment-b",
		"treatment-a||", "treatment-a|difference|control", "treatment-a|difference|treatment-b",
		"treatment-a|relative_uplift|control", "treatment-a|relative_uplift|treatment-b",
		"treatment-b||", "treatment-b|difference|control", "treatment-b|difference|treatment-a",
		"treatment-b|relative_uplift|control", "treatment-b|relative_uplift|treatment-a",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("rows =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	// Difference rows are antisymmetric: point(b − a) = −point(a − b).
	byKey := map[string]Row{}
	for i, r := range rows {
		byKey[keys[i]] = r
	}
	ab, ba := byKey["control|difference|treatment-a"], byKey["treatment-a|difference|control"]
	if math.Abs(ab.Point+ba.Point) > 1e-12 || math.Abs(ab.Lower+ba.Upper) > 1e-12 {
		t.Errorf("difference rows not antisymmetric: %+v vs %+v", ab, ba)
	}
}

func TestRowsPanics(t *testing.T) {
	st, _ := New("bootstrap_mean", map[string]any{"num_samples": int64(10)})
	e1, _ := st.Estimate("a", tallyOf(1, 2), 1)
	e2, _ := st.Estimate("b", tallyOf(1, 2), 2)
	short := e2
	short.Replicates = short.Replicates[:5]
	for name, est := range map[string][]Estimate{
		"duplicate branch":   {e1, e1},
		"replicate mismatch": {e1, short},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Rows did not panic", name)
				}
			}()
			st.Rows(est)
		}()
	}
}
