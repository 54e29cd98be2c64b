package statistics

// legacyRatioReplicates replays mozanalysis' get_bootstrap_samples for
// population_ratio with numpy's legacy RandomState: replicate i uses a
// fresh RandomState(seedStart + i) (init_genrand; the seed wraps modulo 2³²
// where numpy would raise), draws randint(0, n, n) by masked rejection
// (boundedUint32(n − 1) n times; nothing for n = 1), and computes
//
//	mean(num[idx]) / mean(den[idx])
//
// with numpy's pairwise sums. num and den are the branch's winsorized
// columns in mozanalysis' row order (the order of the query result);
// another order gives statistically equivalent but different replicates.
func legacyRatioReplicates(num, den []float64, r int, seedStart uint32) []float64 {
	n := len(num)
	out := make([]float64, r)
	sx, sy := make([]float64, n), make([]float64, n)
	for i := range out {
		m := newMT19937(seedStart + uint32(i))
		for j := range n {
			k := int(m.boundedUint32(uint32(n - 1)))
			sx[j], sy[j] = num[k], den[k]
		}
		fn := float64(n)
		out[i] = (pairwiseSum(sx) / fn) / (pairwiseSum(sy) / fn)
	}
	return out
}
