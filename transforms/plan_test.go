package transforms

import (
	"math"
	"math/big"
	"reflect"
	"testing"
)

func TestCellKeys(t *testing.T) {
	c := Cell{Experiment: "my-exp", Basis: "exposures", Period: "week", Window: 12, Segment: "all", Metric: "active_hours"}
	if c.Key() != "my-exp|exposures|week|12|all|active_hours" {
		t.Errorf("key = %s", c.Key())
	}
	back, branch, err := ParseBranchKey(c.BranchKey("treatment-a"))
	if err != nil || back != c || branch != "treatment-a" {
		t.Errorf("ParseBranchKey = %+v, %q, %v", back, branch, err)
	}
	if got := c.StatisticsTable("my_exp"); got != "statistics_my_exp_week_12" {
		t.Errorf("table = %s", got)
	}
	for _, bad := range []string{"a|b|c", "a|b|c|x|e|f"} {
		if _, err := ParseCell(bad); err == nil {
			t.Errorf("ParseCell(%q) gave no error", bad)
		}
	}
}

// Parameters survive the trip through a DoFn's JSON encoding with their TOML types.
func TestParamsRoundTrip(t *testing.T) {
	in := map[string]any{"num_samples": int64(10000), "drop_highest": 0.0, "confidence_interval": 0.9, "log_space": true, "bandwidth": "scott",
		"covariate_adjustment": map[string]any{"period": "preenrollment_week", "metric": "active_hours"}, "empty": map[string]any{}}
	ps, err := EncodeParams(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeParams(ps)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip %v → %v", in, out)
	}
	if _, err := EncodeParams(map[string]any{"grid": []any{1.0, 2.0}}); err == nil {
		t.Error("an array parameter encoded without error")
	}
}

func TestNumeric(t *testing.T) {
	cases := []struct {
		in   any
		want float64
		ok   bool
	}{
		{nil, 0, false}, {true, 1, true}, {false, 0, true}, {int64(7), 7, true}, {int32(-2), -2, true},
		{2.5, 2.5, true}, {math.NaN(), 0, false}, {big.NewInt(1 << 40), 1 << 40, true},
		{new(big.Int).Lsh(big.NewInt(3), 70), 3 * (1 << 70), true}, // beyond int64: through big.Float
	}
	for _, tc := range cases {
		got, ok, err := Numeric(tc.in)
		if err != nil || ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Numeric(%v) = %v, %v, %v; want %v, %v", tc.in, got, ok, err, tc.want, tc.ok)
		}
	}
	if _, _, err := Numeric("7"); err == nil {
		t.Error("Numeric(string) gave no error")
	}
}
