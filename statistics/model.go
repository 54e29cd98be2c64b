package statistics

import (
	"fmt"
	"math"
)

// ModelTally is what linear_model_mean needs of one branch's (metric y, covariate x)
// pairs, in far less room than the pairs themselves (a PairTally holds every distinct
// pair: about one per client for a continuous metric). The model data are the clipped
// pairs (min(y, t), min(x, t_x)), with t and t_x pooled quantiles known only once every
// branch is in, so the clipped moments cannot be summed as the pairs arrive. But the clip
// only touches the top of each column, so:
//
//   - Covariate is the tally of every x: t_x, the integer check and q̄ (10,000 quantiles
//     of the clipped pooled covariate) need the column itself;
//   - Tail holds, as pairs, those with one of the K largest y or one of the K largest x,
//     K = ⌈TailFraction·m⌉ + minModelTail for m pairs; TailFraction is 2·d/s for the
//     largest drop_highest d of the statistics that read it and the smallest branch's
//     share s of the clients (at most 1/2; see ModelTailFraction);
//   - Bulk holds the exact moments of the other pairs, and BulkMaxY, BulkMaxX their
//     largest values. Once a pruning has set CutY and CutX (its K-th largest y and x), a
//     pair at or below both goes straight to Bulk: most pairs never enter the tail.
//
// At the end (group), if BulkMaxY ≤ t and BulkMaxX ≤ t_x the clip is the identity on the
// bulk, and the clipped moments are Bulk plus the clipped tail, exactly: the same bits as
// from every pair (the moments are exact sums). Otherwise group fails. That needs a branch
// with more than a fraction 2·d/s of its clients above the pooled threshold: twice what
// the smallest branch has when it holds the whole pooled top d·N. Pairs arriving sorted by
// decreasing y could do it too; the pipeline reads clients in a random order (by
// analysis_id).
//
// Like Tally it is a Beam-encodable CombineFn accumulator: exported fields only.
type ModelTally struct {
	Covariate          Tally
	Tail               PairTally // X = y (the metric), Y = x (the covariate), as Input.Pairs
	Bulk               Moments
	BulkMaxY, BulkMaxX float64
	CutY, CutX         float64 // the last pruning's K-th largest y and x (when Bulk.N > 0)
	TailFraction       float64
	Pairs              int64 // pairs recorded, Bulk.N + Tail.N(), kept so that N is O(1)
}

// minModelTail is the tail kept whatever the size, so that small partial tallies (a read
// part, a bundle) are never pruned below their expected share of the pooled top.
const minModelTail = 256

// ModelTailFraction is the TailFraction that the pairs read by statistic s need when the
// smallest branch has the given share of the clients: 2·d/share for its drop_highest d,
// the share at most 1/2 (2·d·B with B equal branches; see ModelTally). ok is false when s
// is not a linear model (linear_model_mean, per_client_dau_impact), which never reads a
// model tally.
func ModelTailFraction(s Statistic, smallestShare float64) (float64, bool) {
	lm, ok := s.(linearModelMean)
	if !ok {
		return 0, false
	}
	share := min(smallestShare, 0.5)
	if !(share > 0) {
		return 1, true
	}
	return min(1, 2*lm.dropHighest/share), true
}

// NewModelTally is an empty model tally with the given TailFraction.
func NewModelTally(tailFraction float64) ModelTally {
	return ModelTally{TailFraction: tailFraction}
}

// modelTallyOfPairs is the model tally of every pair of p, all kept in the tail.
func modelTallyOfPairs(p PairTally) ModelTally {
	c := p.Compacted()
	return ModelTally{Covariate: NewTally(c.Y, c.Counts), Tail: c, Pairs: c.N()}
}

// N is the number of pairs.
func (m ModelTally) N() int64 { return m.Pairs }

// Add records one pair (callers drop pairs with a null on either side first).
func (m *ModelTally) Add(y, x float64) {
	m.Pairs++
	m.Covariate.Add(x)
	if m.Bulk.N > 0 && y <= m.CutY && x <= m.CutX { // false for NaN: it stays in the tail
		m.BulkMaxY, m.BulkMaxX = max(m.BulkMaxY, y), max(m.BulkMaxX, x)
		m.Bulk.Add(y, x, 1)
		return
	}
	m.Tail.Add(y, x)
	if len(m.Tail.X)+len(m.Tail.Pending)/2 >= m.pruneAt() {
		m.prune()
	}
}

// MergeModelTallies returns the union of a and b; neither is modified.
func MergeModelTallies(a, b ModelTally) ModelTally {
	a.Bulk = a.Bulk.clone()
	a.Merge(b)
	return a
}

// Merge adds the pairs of o (o is not modified).
func (m *ModelTally) Merge(o ModelTally) {
	m.Pairs += o.Pairs
	m.Covariate = MergeTallies(m.Covariate, o.Covariate)
	m.Tail = MergePairTallies(m.Tail, o.Tail)
	if o.Bulk.N > 0 {
		if m.Bulk.N == 0 {
			m.BulkMaxY, m.BulkMaxX, m.CutY, m.CutX = o.BulkMaxY, o.BulkMaxX, o.CutY, o.CutX
		}
		m.BulkMaxY, m.BulkMaxX = max(m.BulkMaxY, o.BulkMaxY), max(m.BulkMaxX, o.BulkMaxX)
		m.CutY, m.CutX = min(m.CutY, o.CutY), min(m.CutX, o.CutX)
		m.Bulk.Merge(o.Bulk)
	}
	m.TailFraction = max(m.TailFraction, o.TailFraction)
	if len(m.Tail.X) >= m.pruneAt() {
		m.prune()
	}
}

// Compact compacts the covariate tally and prunes the tail.
func (m *ModelTally) Compact() {
	m.Covariate.Compact()
	m.prune()
}

// keep is K, the pairs kept by each column's largest values.
func (m ModelTally) keep() int64 {
	return int64(math.Ceil(m.TailFraction*float64(m.N()))) + minModelTail
}

// pruneAt is the tail length at which Add and Merge prune: four times what pruning keeps
// at most, so that its cost is amortised over many pairs.
func (m ModelTally) pruneAt() int { return int(8*m.keep()) + compactThreshold }

// prune moves to Bulk the tail pairs whose y is at most the K-th largest y and whose x is
// at most the K-th largest x, K = keep().
func (m *ModelTally) prune() {
	m.Tail.Compact()
	k := m.keep()
	t := m.Tail
	if t.N() <= k {
		return
	}
	yK := kthLargest(t.X, t.Counts, k)
	xK := kthLargest(t.Y, t.Counts, k)
	m.CutY, m.CutX = yK, xK
	kept := PairTally{}
	for i, y := range t.X {
		x, c := t.Y[i], t.Counts[i]
		if y > yK || x > xK || !finite(y) || !finite(x) {
			kept.X, kept.Y, kept.Counts = append(kept.X, y), append(kept.Y, x), append(kept.Counts, c)
			continue
		}
		if m.Bulk.N == 0 {
			m.BulkMaxY, m.BulkMaxX = y, x
		}
		m.BulkMaxY, m.BulkMaxX = max(m.BulkMaxY, y), max(m.BulkMaxX, x)
		m.Bulk.Add(y, x, c)
	}
	m.Tail = kept
}

func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

// kthLargest is the k-th largest of the values with multiplicities (1 ≤ k ≤ Σ counts), by
// quickselect: O(len(values)) on average.
func kthLargest(values []float64, counts []int64, k int64) float64 {
	type vc struct {
		v float64
		c int64
	}
	all := make([]vc, len(values))
	for i, v := range values {
		all[i] = vc{v, counts[i]}
	}
	for len(all) > 1 {
		pivot := all[len(all)/2].v
		// Three-way partition: above the pivot, equal, below.
		hi, eq, lo := 0, 0, len(all)
		var above, at int64
		for eq < lo {
			switch e := all[eq]; {
			case e.v > pivot:
				all[hi], all[eq] = all[eq], all[hi]
				above += e.c
				hi++
				eq++
			case e.v < pivot:
				lo--
				all[eq], all[lo] = all[lo], all[eq]
			default:
				at += e.c
				eq++
			}
		}
		switch {
		case k <= above:
			all = all[:hi]
		case k <= above+at:
			return pivot
		default:
			k -= above + at
			all = all[lo:]
		}
	}
	return all[0].v
}

// group returns the linear model's sufficient statistics of the pairs clipped at (t, tx),
// or an error when the bulk holds values above a threshold (see ModelTally).
func (m ModelTally) group(branch string, t, tx float64) (lmGroup, error) {
	if m.Bulk.N > 0 && (m.BulkMaxY > t || m.BulkMaxX > tx) {
		return lmGroup{}, fmt.Errorf("branch %q: the model tally kept too few top values: "+
			"its bulk reaches y = %v, x = %v above the thresholds t = %v, t_x = %v "+
			"(too large a share of the branch's clients above the pooled threshold)", branch, m.BulkMaxY, m.BulkMaxX, t, tx)
	}
	mo := m.Bulk.clone()
	tail := m.Tail.Compacted()
	for i, y := range tail.X {
		mo.Add(min(y, t), min(tail.Y[i], tx), tail.Counts[i])
	}
	return mo.group(branch), nil
}
