package statistics_test

import (
	"fmt"

	"github.com/jetstream-beam/jetstream/statistics"
)

// Example runs bootstrap_mean on one cell: a tally per branch, one
// estimate per branch seeded from the cell's identity, then the rows.
func Example() {
	data := map[string][]float64{
		"control":   {0, 1, 1, 2, 3, 5, 8},
		"treatment": {1, 1, 2, 3, 5, 8, 13},
	}
	st, err := statistics.New("bootstrap_mean", map[string]any{"num_samples": int64(2000), "drop_highest": 0.0})
	if err != nil {
		panic(err)
	}
	var estimates []statistics.Estimate
	for _, branch := range []string{"control", "treatment"} {
		var t statistics.Tally
		for _, v := range data[branch] {
			t.Add(v)
		}
		seed := statistics.Seed(2024, "my-experiment", "enrollments", "overall", "1", "all", "my_metric", branch, st.Name())
		e, err := st.Estimate(branch, t, seed)
		if err != nil {
			panic(err)
		}
		estimates = append(estimates, e)
	}
	for _, r := range st.Rows(estimates) {
		fmt.Printf("%-9s %-15s %-9s %5.2f [%5.2f, %5.2f]\n", r.Branch, r.Comparison, r.ComparisonToBranch, r.Point, r.Lower, r.Upper)
	}
	// Output:
	// control                              2.88 [ 1.33,  4.95]
	// control   difference      treatment -1.85 [-5.55,  1.32]
	// control   relative_uplift treatment -0.33 [-0.76,  0.47]
	// treatment                            4.73 [ 2.35,  7.98]
	// treatment difference      control    1.85 [-1.32,  5.55]
	// treatment relative_uplift control    0.85 [-0.32,  3.16]
}
