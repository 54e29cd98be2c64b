package statistics

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// modelClients are one branch's clients: metric y (every client) and covariate x (NaN:
// the client has none).
type modelClients struct {
	branch string
	y, x   []float64
}

func randomModelClients(g *rand.Rand, branch string, n int, shift float64, integer bool) modelClients {
	c := modelClients{branch: branch}
	for range n {
		pre := math.Exp(g.NormFloat64())
		y := pre*0.7 + math.Exp(g.NormFloat64()+shift)
		if integer {
			pre, y = math.Floor(pre*4), math.Floor(y*4)
		}
		if g.IntN(20) == 0 {
			pre = math.NaN()
		}
		c.y, c.x = append(c.y, y), append(c.x, pre)
	}
	return c
}

// pairsInput is the branch as the statistics take it from a PairTally.
func (c modelClients) pairsInput() Input {
	in := Input{Branch: c.branch}
	for i, y := range c.y {
		in.Tally.Add(y)
		if !math.IsNaN(c.x[i]) {
			in.Pairs.Add(y, c.x[i])
		}
	}
	return in
}

// modelInput is the branch as the pipeline gives it: a ModelTally built in parts, each
// from a shuffled share of the clients, merged in some order, then compacted.
func (c modelClients) modelInput(g *rand.Rand, tailFraction float64, parts int) Input {
	in := Input{Branch: c.branch}
	ms := make([]ModelTally, parts)
	for i := range ms {
		ms[i] = NewModelTally(tailFraction)
	}
	for _, i := range g.Perm(len(c.y)) {
		in.Tally.Add(c.y[i])
		if !math.IsNaN(c.x[i]) {
			ms[g.IntN(parts)].Add(c.y[i], c.x[i])
		}
	}
	order := g.Perm(parts)
	for _, i := range order[1:] {
		ms[order[0]].Merge(ms[i])
	}
	ms[order[0]].Compact()
	in.Model = ms[order[0]]
	return in
}

// TestModelTallyMatchesPairs: linear_model_mean and per_client_dau_impact from model
// tallies give the same rows, bit for bit, as from every pair, while the tallies keep a
// small share of the pairs.
func TestModelTallyMatchesPairs(t *testing.T) {
	g := rand.New(rand.NewPCG(11, 12))
	for _, integer := range []bool{false, true} {
		clients := []modelClients{
			randomModelClients(g, "control", 20000, 0, integer),
			randomModelClients(g, "treatment", 20000, 0.1, integer),
			randomModelClients(g, "small", 3000, 0.3, integer),
		}
		for _, name := range []string{"linear_model_mean", "per_client_dau_impact"} {
			st, err := New(name, map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}})
			if err != nil {
				t.Fatal(err)
			}
			frac, ok := ModelTailFraction(st, 0.5)
			if !ok {
				t.Fatalf("%s: ModelTailFraction not ok", name)
			}
			var pairs, models []Input
			for _, c := range clients {
				pairs = append(pairs, c.pairsInput())
				models = append(models, c.modelInput(g, frac, 4))
			}
			seed := func(string) uint64 { return 0 }
			want, errs := Compute(st, pairs, seed)
			if len(errs) > 0 || len(want) == 0 {
				t.Fatalf("%s from pairs: %d rows, errs %v", name, len(want), errs)
			}
			got, errs := Compute(st, models, seed)
			if len(errs) > 0 {
				t.Fatalf("%s from model tallies: %v", name, errs)
			}
			if !sameRows(got, want) {
				t.Errorf("%s (integer %v): rows from model tallies differ:\n got %v\nwant %v", name, integer, got, want)
			}
			// Pruning keeps fewer than K pairs above each column's cut: under 2K in all.
			for _, in := range models {
				if k := in.Model.keep(); in.Model.Bulk.N == 0 || in.Model.Tail.N() >= 2*k {
					t.Errorf("%s (integer %v), %s: %d pairs in the tail (K = %d), %d in the bulk: not pruned",
						name, integer, in.Branch, in.Model.Tail.N(), k, in.Model.Bulk.N)
				}
			}
		}
	}
}

// TestModelTallyRefusesUnsafeBulk: pairs arriving by decreasing metric value push values
// above the pooled threshold into the bulk (the first pruning, at about 5,500 pairs, keeps
// the top 366, while the threshold is about the 500th largest of each branch's 100,000);
// the statistic then fails instead of using moments it cannot clip.
func TestModelTallyRefusesUnsafeBulk(t *testing.T) {
	g := rand.New(rand.NewPCG(13, 14))
	st, _ := New("linear_model_mean", map[string]any{"covariate_adjustment": map[string]any{"period": "preenrollment_week"}})
	frac, _ := ModelTailFraction(st, 0.5)
	var inputs []Input
	for _, branch := range []string{"control", "treatment"} {
		c := randomModelClients(g, branch, 100000, 0, false)
		order := make([]int, len(c.y))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(c.y[b], c.y[a]) })
		in := Input{Branch: branch, Model: NewModelTally(frac)}
		for _, i := range order {
			in.Tally.Add(c.y[i])
			if !math.IsNaN(c.x[i]) {
				in.Model.Add(c.y[i], c.x[i])
			}
		}
		in.Model.Compact()
		inputs = append(inputs, in)
	}
	rows, errs := Compute(st, inputs, func(string) uint64 { return 0 })
	if len(rows) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "kept too few top values") {
		t.Fatalf("rows %v, errs %v: want no rows and the bulk error", rows, errs)
	}
}

// BenchmarkModelTallyAdd: pairs in a random order, as the pipeline reads them.
func BenchmarkModelTallyAdd(b *testing.B) {
	g := rand.New(rand.NewPCG(1, 1))
	c := randomModelClients(g, "b", 1<<20, 0, false)
	m := NewModelTally(0.02)
	b.ResetTimer()
	for i := range b.N {
		k := i % len(c.y)
		if !math.IsNaN(c.x[k]) {
			m.Add(c.y[k], c.x[k])
		}
	}
}

func TestKthLargest(t *testing.T) {
	values := []float64{5, 1, 3, 3, 9, 7, 3}
	counts := []int64{1, 2, 1, 3, 1, 2, 1}
	// Expanded, descending: 9 7 7 5 3 3 3 3 3 1 1.
	want := []float64{9, 7, 7, 5, 3, 3, 3, 3, 3, 1, 1}
	for k, w := range want {
		if got := kthLargest(values, counts, int64(k+1)); got != w {
			t.Errorf("k = %d: %v, want %v", k+1, got, w)
		}
	}
}

// TestModelTallyGroup: the clipped moments of a pruned model tally are those of the
// clipped pairs themselves (lmGroupOf over min(y, t), min(x, t_x)), bit for bit.
func TestModelTallyGroup(t *testing.T) {
	g := rand.New(rand.NewPCG(15, 16))
	c := randomModelClients(g, "b", 30000, 0, false)
	in := c.modelInput(g, 0.02, 3)
	if in.Model.Bulk.N == 0 {
		t.Fatal("the model tally was not pruned")
	}
	var ys, xs []float64
	for i, y := range c.y {
		if !math.IsNaN(c.x[i]) {
			ys, xs = append(ys, y), append(xs, c.x[i])
		}
	}
	yt, xt := NewTally(ys, slices.Repeat([]int64{1}, len(ys))), NewTally(xs, slices.Repeat([]int64{1}, len(xs)))
	for _, q := range []float64{1, 0.999, 0.995} {
		ty, tx := yt.Quantile(q), xt.Quantile(q)
		got, err := in.Model.group("b", ty, tx)
		if err != nil {
			t.Fatal(err)
		}
		cy, cx := make([]float64, len(ys)), make([]float64, len(xs))
		for i := range ys {
			cy[i], cx[i] = min(ys[i], ty), min(xs[i], tx)
		}
		if want := lmGroupOf("b", cy, cx, slices.Repeat([]int64{1}, len(cy))); got != want {
			t.Errorf("q = %v: group %+v, want %+v", q, got, want)
		}
	}
}
