package transforms

import (
	"slices"
	"testing"

	"github.com/jetstream-beam/jetstream/statistics"
)

// A branch's bootstrap is cut into shards of about ShardDraws work (distinct values + 1, times
// replicates): 9 values and 10,000 replicates (40 blocks of 256) are 102,400 draws.
func TestShardCuts(t *testing.T) {
	st, err := statistics.New("bootstrap_mean", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tally statistics.Tally
	for v := range 9 {
		tally.Add(float64(v))
	}
	tally.Compact()
	in := statistics.Input{Branch: "control", Tally: tally}
	cases := []struct {
		draws int64
		want  []int // nil: computed in place
	}{
		{-1, nil},
		{102400, nil},
		{25600, []int{0, 10, 20, 30, 40}},
		{30000, []int{0, 11, 22, 33, 40}},
		{1, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40}},
	}
	for _, c := range cases {
		cuts, ok := Config{ShardDraws: c.draws}.shards(st, in)
		if ok != (c.want != nil) || !slices.Equal(cuts, c.want) {
			t.Errorf("ShardDraws %d: cuts %v (%v), want %v", c.draws, cuts, ok, c.want)
		}
	}
	binomial, _ := statistics.New("binomial", nil)
	if _, ok := (Config{ShardDraws: 1}).shards(binomial, in); ok {
		t.Error("binomial (no replicate blocks) was sharded")
	}
}
