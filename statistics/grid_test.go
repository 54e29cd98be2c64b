package statistics

import (
	"math"
	"strconv"
	"testing"
)

func TestLinspaceGeomspace(t *testing.T) {
	tests := []struct {
		name string
		got  []float64
		want []float64
	}{
		{"linspace(0, 7, 15)", linspace(0, 7, 15), []float64{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}},
		{"linspace(-1, 1, 5)", linspace(-1, 1, 5), []float64{-1, -0.5, 0, 0.5, 1}},
		{"linspace(5, 5, 3)", linspace(5, 5, 3), []float64{5, 5, 5}},
		{"linspace(0, 0, 4)", linspace(0, 0, 4), []float64{0, 0, 0, 0}},
		{"linspace(2, 3, 1)", linspace(2, 3, 1), []float64{2}},
		// 0.1·i + 0 is not i/10 for every i: numpy gives 0.30000000000000004.
		{"linspace(0, 1, 11)", linspace(0, 1, 11)[:4], []float64{0, 0.1, 0.2, 0.30000000000000004}},
		{"geomspace(1, 1000, 4)", geomspace(1, 1000, 4), []float64{1, 10, 100, 1000}},
		{"geomspace(0.5, 8, 5)", geomspace(0.5, 8, 5), []float64{0.5, 1, 2, 4, 8}},
	}
	for _, tc := range tests {
		if len(tc.got) != len(tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
			continue
		}
		for i := range tc.want {
			if math.Abs(tc.got[i]-tc.want[i]) > 1e-13*math.Abs(tc.want[i]) {
				t.Errorf("%s[%d] = %v, want %v", tc.name, i, tc.got[i], tc.want[i])
			}
		}
	}
	// The end points are exact.
	g := geomspace(0.01021, 277.102353, 256)
	if g[0] != 0.01021 || g[255] != 277.102353 {
		t.Errorf("geomspace end points %v, %v", g[0], g[255])
	}
	if l := linspace(0.3, 7.7, 256); l[255] != 7.7 {
		t.Errorf("linspace last point %v", l[255])
	}
}

func TestGridPoints(t *testing.T) {
	tests := []struct {
		name   string
		spec   gridSpec
		values []float64
		want   []float64
	}{
		{"linear", gridSpec{size: 3}, []float64{1, 2, 5}, []float64{1, 3, 5}},
		{"log space", gridSpec{size: 3, logSpace: true}, []float64{1, 5, 100}, []float64{1, 10, 100}},
		// min 0: geometric from the second-smallest value, preceded by 0.
		{"log space with zeros", gridSpec{size: 3, logSpace: true}, []float64{0, 1, 7, 100}, []float64{0, 1, 10, 100}},
		{"log space with negatives", gridSpec{size: 3, logSpace: true}, []float64{-2, 0, 4}, []float64{-2, 1, 4}},
		{"log space all zero", gridSpec{size: 3, logSpace: true}, []float64{0}, []float64{0, 0, 0}},
		{"log space max 0", gridSpec{size: 3, logSpace: true}, []float64{-4, 0}, []float64{-4, -2, 0}},
	}
	for _, tc := range tests {
		got := tc.spec.points(tc.values)
		if len(got) != len(tc.want) {
			t.Errorf("%s: points = %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-13*math.Abs(tc.want[i]) {
				t.Errorf("%s: points = %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// TestStoredParameter compares with Python's str(round(x, 6)).
func TestStoredParameter(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{0, "0.0"},
		{3, "3.0"},
		{0.5, "0.5"},
		{0.1234567, "0.123457"},
		{277.1023525, "277.102352"}, // the binary value is below the tie
		{1.0000005, "1.000001"},     // … and this one above
		{5e-7, "0.0"},
		{2.5e-7, "0.0"},
		{-1e-9, "-0.0"},
		{0.1 + 0.2, "0.3"},
		{4e-6, "4e-06"},
		{1.5e-5, "1.5e-05"},
		{0.0001, "0.0001"},
		{1234567, "1234567.0"},
		{1e16, "1e+16"},
		{9999999999999998, "9999999999999998.0"},
	}
	for _, tc := range tests {
		if got := StoredParameter(tc.x); got != tc.want {
			t.Errorf("StoredParameter(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

// curveRows runs a curve statistic on one branch and returns its rows by
// stored parameter.
func curveRows(t *testing.T, name string, params map[string]any, tl Tally) (map[string]float64, Estimate) {
	t.Helper()
	st, err := New(name, params)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Estimate("b", tl, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows := st.Rows([]Estimate{e})
	got := map[string]float64{}
	for _, r := range rows {
		if r.Statistic != name || r.Branch != "b" || r.Comparison != "" || !math.IsNaN(r.CIWidth) || !math.IsNaN(r.Lower) || !math.IsNaN(r.Upper) {
			t.Errorf("%s: unexpected row %+v", name, r)
		}
		got[r.Parameter] = r.Point
	}
	if len(got) != len(rows) {
		t.Errorf("%s: duplicate parameters in %d rows", name, len(rows))
	}
	return got, e
}

func checkCurve(t *testing.T, name string, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: rows %v, want %v", name, got, want)
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok || math.Abs(g-w) > 1e-15*math.Abs(w) {
			t.Errorf("%s: F(%s) = %v (present %v), want %v", name, p, g, ok, w)
		}
	}
}

// TestGoldenGrid checks the unrounded grid points (Estimate.Parameters) of
// every empirical_cdf and kernel_density_estimate row of the golden cases
// against the oracle's numerically, within the exact class (1e-9 relative).
func TestGoldenGrid(t *testing.T) {
	checked := 0
	for _, name := range goldenCases {
		c := loadGolden(t, name)
		for _, run := range c.spec.Runs {
			if run.Statistic != "empirical_cdf" && run.Statistic != "kernel_density_estimate" {
				continue
			}
			st, err := New(run.Statistic, statParams(run.Statistic, run.Parameters))
			if err != nil {
				t.Fatal(err)
			}
			full := map[string]float64{} // row key → unrounded x
			for _, b := range run.BranchOrderFirstAppearance {
				e, err := st.Estimate(b, *c.tallies[run.Metric][b], 0)
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range e.Individual {
					r.Metric = run.Metric
					x, err := strconv.ParseFloat(e.Parameters[i], 64)
					if err != nil {
						t.Fatal(err)
					}
					full[r.key()] = x
				}
			}
			for _, want := range c.expected {
				if want.Metric != run.Metric || want.Statistic != st.Output() {
					continue
				}
				x, ok := full[want.key()]
				w := want.Parameter.(float64)
				if !ok || !(math.Abs(x-w) <= max(1e-9*math.Abs(w), 1e-12)) {
					t.Errorf("%s: %s: grid point %v (found %v), want %v", name, want.key(), x, ok, w)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no grid points checked")
	}
	t.Logf("%d grid points match", checked)
}

func TestCurveErrors(t *testing.T) {
	for _, name := range []string{"empirical_cdf", "kernel_density_estimate"} {
		st, _ := New(name, nil)
		for _, tc := range []struct {
			t    Tally
			want string
		}{
			{Tally{}, name + `: branch "b": no values`},
			{tallyOf(1, math.NaN()), name + `: branch "b": data contains NaN (drop null metric values before adding them to the tally)`},
			{tallyOf(math.Inf(-1), 1), name + `: branch "b": data contains infinite values`},
		} {
			if _, err := st.Estimate("b", tc.t, 0); err == nil || err.Error() != tc.want {
				t.Errorf("%s: error %v, want %s", name, err, tc.want)
			}
		}
	}
}
