package statistics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// allStatistics lists every statistic with parameters small enough for quick tests.
var allStatistics = []struct {
	name   string
	params map[string]any
	pairs  bool // needs Input.Pairs
}{
	{"bootstrap_mean", map[string]any{"num_samples": int64(600)}, false},
	{"binomial", nil, false},
	{"deciles", map[string]any{"num_samples": int64(300)}, false},
	{"empirical_cdf", map[string]any{"grid_size": int64(32)}, false},
	{"kernel_density_estimate", map[string]any{"grid_size": int64(32)}, false},
	{"linear_model_mean", map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}}, true},
	{"per_client_dau_impact", nil, false},
	{"population_ratio", map[string]any{"numerator": "n", "denominator": "d", "num_samples": int64(300)}, true},
	{"count", nil, false},
	{"sum", nil, false},
}

// client is one client's (value, second column) for the property tests.
type client struct {
	branch string
	x, y   float64
}

// sampleClients makes a skewed, tied data set for three branches; binary is 0/1 data.
func sampleClients(binary bool) []client {
	r := rand.New(rand.NewPCG(7, 11))
	var out []client
	for i := 0; i < 900; i++ {
		b := []string{"control", "treatment-a", "treatment-b"}[i%3]
		x := math.Round(r.ExpFloat64()*float64(1+i%3)*4) / 4 // ties
		if binary {
			x = float64(r.IntN(2))
		}
		out = append(out, client{b, x, 1 + math.Round(r.ExpFloat64()*8)/8})
	}
	return out
}

// inputsFrom builds inputs from clients fed in the given order, in chunks merged afterwards.
func inputsFrom(clients []client, order []int, chunks int) []Input {
	parts := make([]map[string]*Input, chunks)
	for i := range parts {
		parts[i] = map[string]*Input{}
	}
	for i, k := range order {
		c := clients[k]
		p := parts[i%chunks]
		in, ok := p[c.branch]
		if !ok {
			in = &Input{Branch: c.branch}
			p[c.branch] = in
		}
		in.Tally.Add(c.x)
		in.Pairs.Add(c.x, c.y)
	}
	merged := map[string]Input{}
	for _, p := range parts {
		for b, in := range p {
			m := merged[b]
			m.Branch = b
			m.Tally = MergeTallies(m.Tally, in.Tally)
			m.Pairs = MergePairTallies(m.Pairs, in.Pairs)
			merged[b] = m
		}
	}
	var out []Input
	for _, b := range []string{"treatment-b", "control", "treatment-a"} {
		out = append(out, merged[b])
	}
	return out
}

func computeAll(t *testing.T, name string, params map[string]any, workers int, inputs []Input, pairs bool) []Row {
	t.Helper()
	st, err := NewWithOptions(name, params, Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if !pairs {
		for i := range inputs {
			inputs[i].Pairs = PairTally{}
		}
	}
	rows, errs := Compute(st, inputs, func(b string) uint64 { return Seed(3, "cell", b, name) })
	if len(errs) > 0 {
		t.Fatalf("%s: %v", name, errs)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", name)
	}
	return rows
}

// TestPropertiesAllStatistics: for every statistic, the rows are identical whether the
// clients arrive in order or permuted, in one accumulator or split over seven merged ones,
// computed on one goroutine or eight.
func TestPropertiesAllStatistics(t *testing.T) {
	for _, s := range allStatistics {
		t.Run(s.name, func(t *testing.T) {
			clients := sampleClients(s.name == "binomial")
			order := make([]int, len(clients))
			for i := range order {
				order[i] = i
			}
			base := computeAll(t, s.name, s.params, 1, inputsFrom(clients, order, 1), s.pairs)
			perm := rand.New(rand.NewPCG(1, 2)).Perm(len(clients))
			for _, v := range []struct {
				what    string
				order   []int
				chunks  int
				workers int
			}{
				{"permuted rows", perm, 1, 1},
				{"7 merged accumulators", perm, 7, 1},
				{"8 goroutines", order, 3, 8},
			} {
				got := computeAll(t, s.name, s.params, v.workers, inputsFrom(clients, v.order, v.chunks), s.pairs)
				if !sameRows(base, got) {
					t.Errorf("%s: rows differ from the in-order, single-accumulator, sequential result", v.what)
				}
			}
		})
	}
}

// TestBadInputNeverPanics feeds every statistic the degenerate cells Jetstream meets —
// an empty branch, a one-client branch, all-equal values, ±Inf, a zero reference — and
// requires rows or errors, never a panic, and never a non-NULL NaN/Inf in a row.
func TestBadInputNeverPanics(t *testing.T) {
	build := func(spec map[string][]float64) []Input {
		var in []Input
		for _, b := range []string{"control", "treatment"} {
			i := Input{Branch: b}
			for _, v := range spec[b] {
				i.Tally.Add(v)
				if !math.IsInf(v, 0) {
					i.Pairs.Add(v, 1)
				}
			}
			in = append(in, i)
		}
		return in
	}
	cases := map[string]map[string][]float64{
		"empty branch":     {"control": {1, 0, 1}, "treatment": nil},
		"one client":       {"control": {1, 0, 1, 1}, "treatment": {1}},
		"all equal":        {"control": {1, 1, 1}, "treatment": {1, 1}},
		"all zero":         {"control": {0, 0, 0}, "treatment": {0, 0}},
		"infinities":       {"control": {1, math.Inf(1), 0}, "treatment": {math.Inf(-1), 1}},
		"zero reference":   {"control": {0, 0, 0, 0}, "treatment": {1, 0, 1}},
		"negative numbers": {"control": {-1, -2, 0}, "treatment": {-3, 1}},
	}
	for _, s := range allStatistics {
		for name, spec := range cases {
			t.Run(s.name+"/"+name, func(t *testing.T) {
				st, err := NewWithOptions(s.name, s.params, Options{})
				if err != nil {
					t.Fatal(err)
				}
				inputs := build(spec)
				rows, errs := func() (rows []Row, errs []error) {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("panic: %v", r)
						}
					}()
					return Compute(st, inputs, func(b string) uint64 { return Seed(1, b) })
				}()
				for _, r := range rows {
					for _, v := range []float64{r.CIWidth, r.Point, r.Lower, r.Upper} {
						if math.IsInf(v, 0) {
							t.Errorf("row %+v carries an infinity instead of NULL", r)
						}
					}
				}
				for _, e := range errs {
					if e == nil || !strings.HasPrefix(e.Error(), s.name+": ") || !strings.Contains(e.Error(), "branch") {
						t.Errorf("error without the statistic and branch: %v", e)
					}
				}
				if len(rows) == 0 && len(errs) == 0 {
					t.Errorf("neither rows nor errors")
				}
			})
		}
	}
}

// TestDegenerateCellResults pins Jetstream's defined results for the degenerate cells:
// an empty branch is an error for that branch only, a zero reference gives NULL relative
// uplifts (bootstrap, deciles) or no rows for that reference (linear model), and counts
// report the empty branch as 0.
func TestDegenerateCellResults(t *testing.T) {
	in := func(b string, vs ...float64) Input {
		i := Input{Branch: b}
		for _, v := range vs {
			i.Tally.Add(v)
		}
		return i
	}
	zeroRef := []Input{in("control", 0, 0, 0, 0), in("treatment", 1, 0, 1)}
	empty := []Input{in("control", 1, 0, 1), in("treatment")}
	compute := func(name string, inputs []Input) ([]Row, []string) {
		st, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, errs := Compute(st, inputs, func(string) uint64 { return 1 })
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return rows, msgs
	}
	for _, name := range []string{"bootstrap_mean", "deciles"} {
		rows, errs := compute(name, zeroRef)
		if len(errs) != 0 {
			t.Errorf("%s zero reference: errors %v", name, errs)
		}
		n := 0
		for _, r := range rows {
			if r.Comparison == RelativeUplift && r.ComparisonToBranch == "control" {
				n++
				if !math.IsNaN(r.Point) || !math.IsNaN(r.Lower) || !math.IsNaN(r.Upper) {
					t.Errorf("%s: uplift against a zero reference = %+v, want NULL", name, r)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no relative uplift rows against the zero reference", name)
		}
		rows, errs = compute(name, empty)
		if want := name + `: branch "treatment": no values`; len(errs) != 1 || errs[0] != want {
			t.Errorf("%s empty branch: errors %v, want %s", name, errs, want)
		}
		for _, r := range rows {
			if r.Branch != "control" || r.Comparison != "" {
				t.Errorf("%s empty branch: unexpected row %+v", name, r)
			}
		}
	}
	rows, errs := compute("linear_model_mean", zeroRef)
	if want := `linear_model_mean: reference branch "control": all values are zero after outlier trimming; no rows`; len(errs) != 1 || errs[0] != want {
		t.Errorf("linear_model_mean zero reference: errors %v, want %s", errs, want)
	}
	for _, r := range rows {
		if r.ComparisonToBranch == "control" {
			t.Errorf("linear_model_mean: row against the zero reference %+v", r)
		}
	}
	rows, errs = compute("count", empty)
	if len(errs) != 0 || len(rows) != 2 || rows[1].Branch != "treatment" || rows[1].Point != 0 || rows[0].Point != 3 {
		t.Errorf("count with an empty branch = %+v, %v; want control 3, treatment 0", rows, errs)
	}
}
