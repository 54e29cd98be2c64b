package statistics

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Replicates computed in block ranges and joined are bit-identical to one Estimate, for
// every split, whatever the goroutine count.
func TestEstimateBlocksJoin(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var tally Tally
	for range 5000 {
		tally.Add(float64(rng.IntN(300)) / 7)
	}
	tally.Compact()
	for _, workers := range []int{1, 3} {
		st, err := NewWithOptions("bootstrap_mean", map[string]any{"num_samples": int64(2000)}, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		sh := st.(Sharded)
		if sh.Blocks() != 8 { // ⌈2000/256⌉
			t.Fatalf("blocks = %d, want 8", sh.Blocks())
		}
		whole, err := st.Estimate("control", tally, 42)
		if err != nil {
			t.Fatal(err)
		}
		for _, cuts := range [][]int{{0, 8}, {0, 1, 8}, {0, 3, 5, 8}, {0, 1, 2, 3, 4, 5, 6, 7, 8}} {
			var parts []Estimate
			for i := 0; i+1 < len(cuts); i++ {
				p, err := sh.EstimateBlocks("control", tally, 42, cuts[i], cuts[i+1])
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, p)
			}
			joined := JoinBlocks(parts)
			if joined.N != whole.N || !slices.Equal(joined.Replicates, whole.Replicates) {
				t.Errorf("workers %d, cuts %v: joined replicates differ from Estimate's", workers, cuts)
			}
		}
	}
	st, _ := New("bootstrap_mean", nil)
	if _, err := st.(Sharded).EstimateBlocks("control", tally, 1, 3, 3); err == nil {
		t.Error("an empty block range was accepted")
	}
	legacy, _ := NewWithOptions("bootstrap_mean", nil, Options{Engine: NumpyLegacy})
	if _, err := legacy.(Sharded).EstimateBlocks("control", tally, 1, 0, 1); err == nil {
		t.Error("the numpy-legacy engine split its stream")
	}
}
