package transforms

import (
	"maps"
	"slices"
	"testing"

	"github.com/jetstream-beam/jetstream/statistics"
)

// TestRowTallier tallies four hand-written client rows (key columns, one segment, two
// metrics, one pair) and checks every emitted tally: a NULL metric is skipped, a client
// outside the segment counts only in "all", and the (cell, branch) keys that never get a
// value — treatment in the segment — are not emitted although the treatment's tallies
// were created on its first row.
func TestRowTallier(t *testing.T) {
	q := Query{Experiment: "e", Basis: "enrollments", Period: "week", Window: 1, Segments: []string{"s"},
		Metrics: []string{"m", "n"}, Identity: true, Pairs: []PairColumns{{Metric: "m", X: "m", Y: "n"}}}
	values, pairs := Tallies{}, PairTallies{}
	rt, err := newRowTallier(q, values, pairs, ModelTallies{})
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		// analysis_id, branch, enrollment_date, exposure_date, s, m, n
		{"a", "control", nil, nil, true, 1.0, int64(2)},
		{"b", "control", nil, nil, false, 3.0, nil},
		{"c", "treatment", nil, nil, false, 5.0, int64(7)},
		{"d", "treatment", nil, nil, nil, 5.0, int64(8)},
	}
	for _, r := range rows {
		if err := rt.add(nil, r); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]statistics.Tally{}
	values.Emit(func(k string, tl statistics.Tally) { got[k] = tl })
	cell := func(seg, metric, branch string) string {
		return Cell{Experiment: "e", Basis: "enrollments", Period: "week", Window: 1, Segment: seg, Metric: metric}.BranchKey(branch)
	}
	want := map[string]statistics.Tally{
		cell("all", "m", "control"):        statistics.NewTally([]float64{1, 3}, []int64{1, 1}),
		cell("all", "n", "control"):        statistics.NewTally([]float64{2}, []int64{1}),
		cell("all", Identity, "control"):   statistics.NewTally([]float64{1}, []int64{2}),
		cell("s", "m", "control"):          statistics.NewTally([]float64{1}, []int64{1}),
		cell("s", "n", "control"):          statistics.NewTally([]float64{2}, []int64{1}),
		cell("s", Identity, "control"):     statistics.NewTally([]float64{1}, []int64{1}),
		cell("all", "m", "treatment"):      statistics.NewTally([]float64{5}, []int64{2}),
		cell("all", "n", "treatment"):      statistics.NewTally([]float64{7, 8}, []int64{1, 1}),
		cell("all", Identity, "treatment"): statistics.NewTally([]float64{1}, []int64{2}),
	}
	if len(got) != len(want) {
		t.Errorf("emitted %d tallies %v, want %d", len(got), slices.Sorted(maps.Keys(got)), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || !slices.Equal(g.Values, w.Values) || !slices.Equal(g.Counts, w.Counts) {
			t.Errorf("%s: tally %v, want %v", k, g, w)
		}
	}
	gotPairs := map[string]statistics.PairTally{}
	pairs.Emit(func(k string, p statistics.PairTally) { gotPairs[k] = p })
	if len(gotPairs) != 3 {
		t.Errorf("emitted pair tallies %v, want the control's in all and s, the treatment's in all", gotPairs)
	}
	if p := gotPairs[cell("all", "m", "treatment")]; !slices.Equal(p.X, []float64{5, 5}) || !slices.Equal(p.Y, []float64{7, 8}) || !slices.Equal(p.Counts, []int64{1, 1}) {
		t.Errorf("treatment pairs in all = %+v, want (5, 7) and (5, 8) once each", p)
	}
	if p := gotPairs[cell("s", "m", "control")]; !slices.Equal(p.X, []float64{1}) || !slices.Equal(p.Y, []float64{2}) {
		t.Errorf("control pairs in s = %+v, want (1, 2)", p)
	}
}
