package experimenter

import "testing"

func TestSmallestBranchShare(t *testing.T) {
	cases := []struct {
		ratios []int
		want   float64
	}{
		{[]int{1, 1}, 0.5},
		{[]int{95, 5}, 0.05},
		{[]int{1, 1, 2}, 0.25},
		{[]int{0, 0, 0, 0}, 0.25}, // no ratios: equal shares
		{nil, 1},
	}
	for _, c := range cases {
		var e Experiment
		for i, r := range c.ratios {
			e.Branches = append(e.Branches, Branch{Slug: string(rune('a' + i)), Ratio: r})
		}
		if got := e.SmallestBranchShare(); got != c.want {
			t.Errorf("ratios %v: %v, want %v", c.ratios, got, c.want)
		}
	}
}
