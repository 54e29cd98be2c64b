package statistics

import (
	"cmp"
	"math"
	"slices"
)

// compactThreshold is the smallest Pending length at which Add compacts.
const compactThreshold = 4096

// Tally is a value→count accumulator (the result of numpy's
// `np.unique(x, return_counts=True)`), usable as an Apache Beam CombineFn
// accumulator: it has only exported fields, because the encoder silently
// drops unexported ones.
//
// Callers drop nulls before Add (Jetstream's subset query has
// `WHERE <metric> IS NOT NULL`); NaN is kept if added (it sorts first) and
// the statistics refuse a tally that contains it (see HasNaN). Negative zero
// is recorded as +0, so a tally does not depend on which zero came first.
//
// A Tally has slice semantics: copies share their backing arrays. Use
// Clone or MergeTallies to get an independent value.
type Tally struct {
	Values  []float64 // sorted ascending (cmp.Compare order: NaN first), distinct
	Counts  []int64   // Counts[i] = multiplicity of Values[i]
	Pending []float64 // values added but not yet merged into Values/Counts (unsorted)
}

// Add records one value. It appends to Pending and compacts once Pending is
// longer than both 4096 and len(Values), so the amortised cost is
// O(log n) per value (dominated by sorting).
func (t *Tally) Add(v float64) {
	if v == 0 {
		v = 0 // fold −0 into +0
	}
	t.Pending = append(t.Pending, v)
	if len(t.Pending) >= compactThreshold && len(t.Pending) > len(t.Values) {
		t.Compact()
	}
}

// NewTally builds a compacted tally from (value, count) pairs in any order,
// e.g. the result of a `GROUP BY value` query. Equal values are merged,
// non-positive counts are ignored and −0 is recorded as +0. The inputs are
// not modified. It panics if the slices differ in length.
func NewTally(values []float64, counts []int64) Tally {
	if len(values) != len(counts) {
		panic("statistics: NewTally: values and counts differ in length")
	}
	idx := make([]int, 0, len(values))
	for i, c := range counts {
		if c > 0 {
			idx = append(idx, i)
		}
	}
	key := func(i int) float64 {
		if values[i] == 0 {
			return 0
		}
		return values[i]
	}
	slices.SortFunc(idx, func(i, j int) int { return cmp.Compare(key(i), key(j)) })
	var t Tally
	for _, i := range idx {
		v := key(i)
		if n := len(t.Values); n > 0 && cmp.Compare(t.Values[n-1], v) == 0 {
			t.Counts[n-1] += counts[i]
			continue
		}
		t.Values = append(t.Values, v)
		t.Counts = append(t.Counts, counts[i])
	}
	return t
}

// Compact merges Pending into Values/Counts (sorting Pending in place) and
// empties Pending.
func (t *Tally) Compact() {
	if len(t.Pending) == 0 {
		return
	}
	slices.Sort(t.Pending) // NaN first, like cmp.Compare
	t.Values, t.Counts = mergeSorted(t.Values, t.Counts, t.Pending)
	t.Pending = t.Pending[:0]
}

// Compacted returns a compacted copy of t without modifying t. When t has
// no Pending values the copy shares t's Values and Counts.
func (t Tally) Compacted() Tally {
	if len(t.Pending) == 0 {
		return Tally{Values: t.Values, Counts: t.Counts}
	}
	p := slices.Clone(t.Pending)
	slices.Sort(p)
	v, c := mergeSorted(t.Values, t.Counts, p)
	return Tally{Values: v, Counts: c}
}

// Clone returns a deep copy of t.
func (t Tally) Clone() Tally {
	return Tally{
		Values:  slices.Clone(t.Values),
		Counts:  slices.Clone(t.Counts),
		Pending: slices.Clone(t.Pending),
	}
}

// MergeTallies returns the compacted union of a and b (counts of equal
// values add up). It allocates new slices and never modifies a or b.
func MergeTallies(a, b Tally) Tally {
	p := make([]float64, 0, len(a.Pending)+len(b.Pending))
	p = append(p, a.Pending...)
	p = append(p, b.Pending...)
	slices.Sort(p)
	v, c := mergeRuns(a.Values, a.Counts, b.Values, b.Counts)
	if len(p) > 0 {
		v, c = mergeSorted(v, c, p)
	} else if sameArray(v, a.Values) || sameArray(v, b.Values) {
		v, c = slices.Clone(v), slices.Clone(c)
	}
	if len(v) == 0 {
		return Tally{}
	}
	return Tally{Values: v, Counts: c}
}

// sameArray reports whether two non-empty slices start at the same element.
func sameArray(x, y []float64) bool {
	return len(x) > 0 && len(y) > 0 && &x[0] == &y[0]
}

// same reports whether two values are the same tally key (NaNs are equal).
func same(a, b float64) bool { return a == b || a != a && b != b }

// mergeSorted merges the sorted values p (with repeats; NaN first) into the
// sorted distinct values av with counts ac, in one pass, returning new
// slices.
func mergeSorted(av []float64, ac []int64, p []float64) ([]float64, []int64) {
	v := make([]float64, 0, len(av)+len(p))
	c := make([]int64, 0, len(av)+len(p))
	i := 0
	for j := 0; j < len(p); {
		x := p[j]
		k := j + 1
		for k < len(p) && same(p[k], x) {
			k++
		}
		i0 := i
		for i < len(av) && cmp.Less(av[i], x) {
			i++
		}
		v, c = append(v, av[i0:i]...), append(c, ac[i0:i]...)
		n := int64(k - j)
		if i < len(av) && same(av[i], x) {
			n += ac[i]
			i++
		}
		v, c = append(v, x), append(c, n)
		j = k
	}
	return append(v, av[i:]...), append(c, ac[i:]...)
}

// mergeRuns merges two sorted distinct value lists with their counts into a
// new sorted distinct list. If one side is empty the other side's slices are
// returned as they are.
func mergeRuns(av []float64, ac []int64, bv []float64, bc []int64) ([]float64, []int64) {
	if len(bv) == 0 {
		return av, ac
	}
	if len(av) == 0 {
		return bv, bc
	}
	v := make([]float64, 0, len(av)+len(bv))
	c := make([]int64, 0, len(av)+len(bv))
	i, j := 0, 0
	for i < len(av) && j < len(bv) {
		switch cmp.Compare(av[i], bv[j]) {
		case -1:
			v, c = append(v, av[i]), append(c, ac[i])
			i++
		case 1:
			v, c = append(v, bv[j]), append(c, bc[j])
			j++
		default:
			v, c = append(v, av[i]), append(c, ac[i]+bc[j])
			i++
			j++
		}
	}
	v, c = append(v, av[i:]...), append(c, ac[i:]...)
	v, c = append(v, bv[j:]...), append(c, bc[j:]...)
	return v, c
}

// N returns the total count n = Σ c_k, including Pending.
func (t Tally) N() int64 {
	n := int64(len(t.Pending))
	for _, c := range t.Counts {
		n += c
	}
	return n
}

// Distinct returns the number K of distinct values, including Pending.
func (t Tally) Distinct() int {
	return len(t.Compacted().Values)
}

// Sum returns Σ_k v_k·c_k, accumulated over the distinct values in ascending
// order, so the result does not depend on the order values arrived in.
func (t Tally) Sum() float64 {
	c := t.Compacted()
	s := 0.0
	for i, v := range c.Values {
		s += float64(v * float64(c.Counts[i]))
	}
	return s
}

// HasNaN reports whether t contains a NaN value.
func (t Tally) HasNaN() bool {
	if len(t.Values) > 0 && math.IsNaN(t.Values[0]) {
		return true
	}
	for _, v := range t.Pending {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}

// Min returns the smallest value (NaN when t is empty or contains NaN).
func (t Tally) Min() float64 {
	c := t.Compacted()
	if len(c.Values) == 0 {
		return math.NaN()
	}
	return c.Values[0]
}

// Max returns the largest value (NaN when t is empty or contains NaN).
func (t Tally) Max() float64 {
	c := t.Compacted()
	if len(c.Values) == 0 || math.IsNaN(c.Values[0]) {
		return math.NaN()
	}
	return c.Values[len(c.Values)-1]
}

// Quantile returns numpy's default (linear, type 7) q-quantile of the
// expanded data x_(0) ≤ … ≤ x_(n−1):
//
//	h = (n − 1)·q,  i = ⌊h⌋,  Q(q) = x_(i) + (x_(i+1) − x_(i))·(h − i)
//
// (interpolated as numpy does, see lerp). It is NaN when t is empty, when t
// contains NaN, or when q is outside [0, 1]. Example: data [1 2 3 4],
// q = 0.25 → 1.75.
func (t Tally) Quantile(q float64) float64 {
	c := t.Compacted()
	if c.HasNaN() {
		return math.NaN()
	}
	n := c.N()
	if n == 0 {
		return math.NaN()
	}
	// at maps an index of the expanded data to its value. Quantile asks for
	// at most two neighbouring indexes, so a linear walk is fine.
	at := func(idx int) float64 {
		var cum int64
		for k, cnt := range c.Counts {
			cum += cnt
			if int64(idx) < cum {
				return c.Values[k]
			}
		}
		return c.Values[len(c.Values)-1]
	}
	return quantileAt(int(n), at, q)
}

// Clip winsorizes the tally from above, like np.clip(x, min(x), hi): every
// value above hi becomes hi (counts of merged values add up). The result is
// compacted and does not share memory with t. A NaN hi clips nothing.
func (t Tally) Clip(hi float64) Tally {
	c := t.Compacted()
	k := len(c.Values)
	for k > 0 && c.Values[k-1] > hi {
		k--
	}
	v := slices.Clone(c.Values[:k])
	n := slices.Clone(c.Counts[:k])
	if k == len(c.Values) {
		return Tally{Values: v, Counts: n}
	}
	var clipped int64
	for _, cnt := range c.Counts[k:] {
		clipped += cnt
	}
	if k > 0 && v[k-1] == hi {
		n[k-1] += clipped
	} else {
		v, n = append(v, hi), append(n, clipped)
	}
	return Tally{Values: v, Counts: n}
}
