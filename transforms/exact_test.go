package transforms

import (
	"math"
	"slices"
	"testing"

	"github.com/jetstream-beam/jetstream/statistics"
)

// Config.ExactBootstrap reaches the statistics: bootstrap_mean's replicates of a continuous
// metric are those of statistics.Options{ExactBootstrap: true}, and differ from the default
// (binned) ones.
func TestNewStatisticExactBootstrap(t *testing.T) {
	var values []float64
	for i := range 5000 {
		values = append(values, math.Sqrt(float64(i))/7)
	}
	tally := statistics.NewTally(values, slices.Repeat([]int64{1}, len(values)))
	params := map[string]any{"num_samples": int64(200), "drop_highest": 0.0}
	encoded, err := EncodeParams(params)
	if err != nil {
		t.Fatal(err)
	}
	sc := StatisticConfig{Name: "bootstrap_mean", Params: encoded}
	estimate := func(c Config, opts *statistics.Options) []float64 {
		t.Helper()
		var st statistics.Statistic
		var err error
		if opts != nil {
			st, err = statistics.NewWithOptions("bootstrap_mean", params, *opts)
		} else {
			st, err = newStatistic(sc, c)
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Estimate("control", tally, 9)
		if err != nil {
			t.Fatal(err)
		}
		return e.Replicates
	}
	exact := estimate(Config{ExactBootstrap: true}, nil)
	if want := estimate(Config{}, &statistics.Options{ExactBootstrap: true}); !slices.Equal(exact, want) {
		t.Errorf("Config.ExactBootstrap: replicates differ from statistics.Options{ExactBootstrap: true}'s")
	}
	if binned := estimate(Config{}, nil); slices.Equal(exact, binned) {
		t.Errorf("default Config: replicates equal the exact ones; want the binned draws")
	}
}
