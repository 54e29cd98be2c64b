package statistics

import (
	"math"
	"testing"
)

// expand lists a tally's values with repeats, ascending (NaN first).
func expand(t Tally) []float64 {
	c := t.Compacted()
	var out []float64
	for i, v := range c.Values {
		for range c.Counts[i] {
			out = append(out, v)
		}
	}
	return out
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(a[i] == b[i] || math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func mustPreTreatment(t *testing.T, name string, params map[string]any) PreTreatment {
	t.Helper()
	pt, err := NewPreTreatment(name, params)
	if err != nil {
		t.Fatal(err)
	}
	if pt.Name() != name {
		t.Errorf("Name() = %q, want %q", pt.Name(), name)
	}
	return pt
}

func rangeTally(lo, hi int) Tally {
	var t Tally
	for v := lo; v <= hi; v++ {
		t.Add(float64(v))
	}
	return t
}

func TestPreTreatments(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name   string
		params map[string]any
		ctx    PreTreatmentContext
		in     []float64
		want   []float64
	}{
		{"remove_nulls", nil, PreTreatmentContext{}, []float64{nan, 1, inf, -inf}, []float64{-inf, 1, inf}},
		{"remove_indefinites", nil, PreTreatmentContext{}, []float64{nan, 1, inf, -inf, 2}, []float64{-inf, 1, 2}},
		{"zero_fill", nil, PreTreatmentContext{}, []float64{nan, nan, 0, 3, inf}, []float64{0, 0, 0, 3, inf}},
		// Jetstream's tests: threshold 0.1 on 150×0.05 + 50×1.1 keeps 50 (below) or 150 (above) rows.
		{"censor_values_below_threshold", map[string]any{"threshold": 0.1}, PreTreatmentContext{}, repeat(0.05, 150, 1.1, 50), repeat(1.1, 50)},
		{"censor_values_above_threshold", map[string]any{"threshold": 0.1}, PreTreatmentContext{}, repeat(0.05, 150, 1.1, 50), repeat(0.05, 150)},
		// Strict inequalities: the threshold itself is dropped.
		{"censor_values_below_threshold", map[string]any{"threshold": int64(2)}, PreTreatmentContext{}, []float64{1, 2, 3}, []float64{3}},
		{"censor_values_above_threshold", map[string]any{"threshold": int64(2)}, PreTreatmentContext{}, []float64{1, 2, 3}, []float64{1}},
		// Q(0.5) of 1..4 = 2.5; Q(0.75) = 3.25.
		{"censor_highest_values", map[string]any{"fraction": 0.75}, PreTreatmentContext{}, []float64{4, 1, 2, 3}, []float64{1, 2, 3}},
		{"censor_lowest_values", map[string]any{"fraction": 0.5}, PreTreatmentContext{}, []float64{4, 1, 2, 3}, []float64{3, 4}},
		// Default fraction 1 − 1e-5: Q over 1..10 is 9.99991, so only 10 goes.
		{"censor_highest_values", nil, PreTreatmentContext{}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		// Ties at the quantile are all dropped (strict <): Q(0.9) of 1 1 1 1 = 1.
		{"censor_highest_values", map[string]any{"fraction": 0.9}, PreTreatmentContext{}, []float64{1, 1, 1, 1}, nil},
		// Jetstream's tests: normalize(10): 1 → 0.1, 5 → 0.5; WEEK injects 7: 1400 → 200, 7000 → 1000.
		{"normalize_over_analysis_period", nil, PreTreatmentContext{PeriodLength: 10}, []float64{1, 5}, []float64{0.1, 0.5}},
		{"normalize_over_analysis_period", nil, PreTreatmentContext{PeriodLength: 7}, []float64{1400, 7000}, []float64{200, 1000}},
		// Jetstream's test: log(10) on −1..10 gives one NaN, one −inf, and 1 last.
		// np.log(x)/np.log(10): log₁₀ 1000 is 2.9999999999999996, not 3.
		{"log", map[string]any{"base": int64(10)}, PreTreatmentContext{}, []float64{-1, 0, 1, 10, 100, 1000},
			[]float64{nan, math.Inf(-1), 0, 1, 2, 2.9999999999999996}},
		{"log", nil, PreTreatmentContext{}, []float64{0.5}, []float64{-0.30102999566398114}},
		{"log", map[string]any{"base": 2.0}, PreTreatmentContext{}, []float64{8, 0.25}, []float64{-2, 3}},
		{"log", map[string]any{"base": nil}, PreTreatmentContext{}, []float64{1, math.E}, []float64{0, 1}},
	}
	for _, tc := range tests {
		pt := mustPreTreatment(t, tc.name, tc.params)
		var tl Tally
		for _, v := range tc.in {
			tl.Add(v)
		}
		out, err := pt.Apply([]Input{{Branch: "a", Tally: tl}}, tc.ctx)
		if err != nil {
			t.Errorf("%s %v: %v", tc.name, tc.params, err)
			continue
		}
		if got := expand(out[0].Tally); !sameValues(got, tc.want) || out[0].Branch != "a" {
			t.Errorf("%s %v on %v = %v, want %v", tc.name, tc.params, tc.in, got, tc.want)
		}
	}
}

// repeat returns v1 n1 times, then v2 n2 times, and so on.
func repeat(vn ...float64) []float64 {
	var out []float64
	for i := 0; i < len(vn); i += 2 {
		for range int(vn[i+1]) {
			out = append(out, vn[i])
		}
	}
	return out
}

// TestPreTreatmentJetstreamCensor is Jetstream's test_pretreatment: on
// 0..9999, censor_highest_values(0.9) keeps 9000 rows (x < 8999.1) and
// censor_lowest_values(0.1) keeps 9000 (x > 999.9).
func TestPreTreatmentJetstreamCensor(t *testing.T) {
	data := rangeTally(0, 9999)
	for _, tc := range []struct {
		name        string
		fraction    float64
		first, last float64
		wantN       int64
	}{
		{"censor_highest_values", 0.9, 0, 8999, 9000},
		{"censor_lowest_values", 0.1, 1000, 9999, 9000},
	} {
		out, err := mustPreTreatment(t, tc.name, map[string]any{"fraction": tc.fraction}).Apply([]Input{{Branch: "a", Tally: data}}, PreTreatmentContext{})
		if err != nil {
			t.Fatal(err)
		}
		got := out[0].Tally
		if got.N() != tc.wantN || got.Min() != tc.first || got.Max() != tc.last {
			t.Errorf("%s(%v): n %d in [%v, %v], want %d in [%v, %v]", tc.name, tc.fraction, got.N(), got.Min(), got.Max(), tc.wantN, tc.first, tc.last)
		}
	}
}

// TestPreTreatmentPooled checks that quantile thresholds are pooled over the
// branches: Q(0.5) of 1..10 is 5.5, so branch a (1..5) keeps everything
// and branch b (6..10) nothing, where per-branch thresholds would keep 1..2
// and 6..7.
func TestPreTreatmentPooled(t *testing.T) {
	pt := mustPreTreatment(t, "censor_highest_values", map[string]any{"fraction": 0.5})
	out, err := pt.Apply([]Input{{Branch: "a", Tally: rangeTally(1, 5)}, {Branch: "b", Tally: rangeTally(6, 10)}}, PreTreatmentContext{})
	if err != nil {
		t.Fatal(err)
	}
	if got := expand(out[0].Tally); !sameValues(got, []float64{1, 2, 3, 4, 5}) {
		t.Errorf("branch a = %v", got)
	}
	if out[1].Tally.N() != 0 || out[1].Branch != "b" {
		t.Errorf("branch b = %v", expand(out[1].Tally))
	}
}

func pairsOf(xy ...float64) PairTally {
	var p PairTally
	for i := 0; i < len(xy); i += 2 {
		p.Add(xy[i], xy[i+1])
	}
	return p
}

func TestPreTreatmentPairs(t *testing.T) {
	// Both columns are treated; a pair goes when either value goes.
	pt := mustPreTreatment(t, "censor_values_below_threshold", map[string]any{"threshold": int64(0)})
	in := []Input{{Branch: "a", Pairs: pairsOf(1, 10, 2, 20, 3, -5, -1, 4, 2, 20)}}
	out, err := pt.Apply(in, PreTreatmentContext{})
	if err != nil {
		t.Fatal(err)
	}
	p := out[0].Pairs
	if !sameValues(p.X, []float64{1, 2}) || !sameValues(p.Y, []float64{10, 20}) || p.Counts[0] != 1 || p.Counts[1] != 2 || len(p.Pending) != 0 {
		t.Errorf("pairs = %+v", p)
	}
	if out[0].Tally.N() != 0 {
		t.Errorf("empty tally became %v", expand(out[0].Tally))
	}

	// log maps both columns; equal results merge.
	out, err = mustPreTreatment(t, "log", map[string]any{"base": int64(2)}).Apply([]Input{{Branch: "a", Pairs: pairsOf(8, 1, 4, 2, 8, 1)}}, PreTreatmentContext{})
	if err != nil {
		t.Fatal(err)
	}
	p = out[0].Pairs
	if !sameValues(p.X, []float64{2, 3}) || !sameValues(p.Y, []float64{1, 0}) || p.Counts[0] != 1 || p.Counts[1] != 2 {
		t.Errorf("log pairs = %+v", p)
	}

	// censor_highest_values: the metric column uses the tallies' pooled
	// threshold (Q(0.75) of 1..4 = 3.25, covering the rows without a
	// covariate too); the covariate column its own, over the surviving
	// pairs: Q(0.75) of {10, 30, 20} = 25.
	pt = mustPreTreatment(t, "censor_highest_values", map[string]any{"fraction": 0.75})
	in = []Input{
		{Branch: "a", Tally: tallyOf(1, 4), Pairs: pairsOf(1, 10, 4, 40)},
		{Branch: "b", Tally: tallyOf(2, 3), Pairs: pairsOf(2, 30, 3, 20)},
	}
	out, err = pt.Apply(in, PreTreatmentContext{})
	if err != nil {
		t.Fatal(err)
	}
	if got := expand(out[0].Tally); !sameValues(got, []float64{1}) {
		t.Errorf("tally a = %v", got)
	}
	if got := expand(out[1].Tally); !sameValues(got, []float64{2, 3}) {
		t.Errorf("tally b = %v", got)
	}
	if a, b := out[0].Pairs, out[1].Pairs; !sameValues(a.X, []float64{1}) || !sameValues(b.X, []float64{3}) || !sameValues(b.Y, []float64{20}) {
		t.Errorf("pairs a = %+v, b = %+v", a, b)
	}
}

func TestApplyPreTreatmentsDoesNotMutate(t *testing.T) {
	tl := tallyOf(3, 1, 0, 2, 2)
	tl.Compact()
	tl.Add(7) // a pending value too
	pairs := pairsOf(1, 2, 3, 4)
	pairs.Compact()
	inputs := []Input{{Branch: "a", Tally: tl, Pairs: pairs}}
	before := Input{Branch: "a", Tally: tl.Clone(), Pairs: PairTally{X: append([]float64(nil), pairs.X...), Y: append([]float64(nil), pairs.Y...), Counts: append([]int64(nil), pairs.Counts...)}}
	var pts []PreTreatment
	for _, spec := range []struct {
		name   string
		params map[string]any
	}{
		{"remove_nulls", nil},
		{"log", nil},
		{"zero_fill", nil},
		{"normalize_over_analysis_period", nil},
		{"censor_highest_values", map[string]any{"fraction": 0.9}},
	} {
		pts = append(pts, mustPreTreatment(t, spec.name, spec.params))
	}
	out, err := ApplyPreTreatments(pts, inputs, PreTreatmentContext{PeriodLength: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !sameValues(inputs[0].Tally.Values, before.Tally.Values) || !sameValues(inputs[0].Tally.Pending, before.Tally.Pending) ||
		!sameValues(inputs[0].Pairs.X, before.Pairs.X) || !sameValues(inputs[0].Pairs.Y, before.Pairs.Y) {
		t.Error("ApplyPreTreatments modified its input")
	}
	// log₁₀ 0 = −inf, normalized: −inf; log₁₀ 1 = 0; then the pooled
	// Q(0.9) of {−inf, 0, l(2), l(2), l(3), l(7)} with l(x) = log₁₀(x)/2 lies
	// between l(3) and l(7), so only l(7) goes.
	l := func(x float64) float64 { return math.Log(x) / math.Log(10) / 2 }
	want := []float64{math.Inf(-1), 0, l(2), l(2), l(3)}
	if got := expand(out[0].Tally); !sameValues(got, want) {
		t.Errorf("treated tally = %v, want %v", got, want)
	}
	// No pre-treatments: a copy of the slice.
	same, err := ApplyPreTreatments(nil, inputs, PreTreatmentContext{})
	if err != nil || len(same) != 1 || &same[0] == &inputs[0] {
		t.Errorf("ApplyPreTreatments(nil) = %v, %v", same, err)
	}
}

func TestNewPreTreatmentErrors(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"winsorize", nil, `pre-treatment "winsorize" does not exist (known: censor_highest_values, censor_lowest_values, censor_values_above_threshold, censor_values_below_threshold, log, normalize_over_analysis_period, remove_indefinites, remove_nulls, zero_fill)`},
		{"log", map[string]any{"bas": int64(2)}, `pre-treatment "log": unknown parameter "bas" (accepted: base)`},
		{"zero_fill", map[string]any{"value": int64(1)}, `pre-treatment "zero_fill": unknown parameter "value" (accepted: none)`},
		{"censor_values_below_threshold", nil, `pre-treatment "censor_values_below_threshold": parameter threshold is required`},
		{"censor_values_above_threshold", map[string]any{"threshold": "high"}, `pre-treatment "censor_values_above_threshold": parameter threshold = "high" (string): want a number`},
		{"censor_highest_values", map[string]any{"fraction": 1.5}, `pre-treatment "censor_highest_values": parameter fraction = 1.5 is out of range [0, 1]`},
		{"log", map[string]any{"base": int64(1)}, `pre-treatment "log": parameter base = 1: want a positive number other than 1`},
	}
	for _, tc := range tests {
		_, err := NewPreTreatment(tc.name, tc.params)
		if err == nil || err.Error() != tc.want {
			t.Errorf("NewPreTreatment(%q, %v) error\n got: %v\nwant: %s", tc.name, tc.params, err, tc.want)
		}
	}
	pt := mustPreTreatment(t, "normalize_over_analysis_period", nil)
	_, err := pt.Apply([]Input{{Branch: "a", Tally: tallyOf(1)}}, PreTreatmentContext{})
	if want := `pre-treatment "normalize_over_analysis_period": analysis period length is 0, want a positive number of days`; err == nil || err.Error() != want {
		t.Errorf("normalize without a period length: %v, want %s", err, want)
	}
}
