// Package statistics implements the per-branch statistics of Mozilla's
// Jetstream experiment analysis (mozanalysis' Bayesian bootstrap, the
// Beta–binomial posterior, counts and sums) on value→count tallies.
//
// The data flow mirrors Jetstream:
//
//  1. For one cell (experiment, analysis basis, period, window, segment,
//     metric) and one branch, the non-null metric values of every client are
//     accumulated into a [Tally]. Jetstream's subset query filters
//     `WHERE <metric> IS NOT NULL`, so callers drop nulls before [Tally.Add];
//     a tally that nevertheless contains NaN makes [Statistic.Estimate]
//     return an error.
//  2. [Statistic.Estimate] summarises one branch into an [Estimate]: exact
//     rows, Monte-Carlo replicates, or both. Estimates are plain values
//     (exported fields only) so that they can travel through Apache Beam.
//  3. [Statistic.Rows] combines the estimates of all branches of the cell into
//     result rows ([Row], Jetstream schema v4): one individual row per branch
//     and, for comparative statistics, a `difference` and a `relative_uplift`
//     row for every ordered pair of branches.
//
// Monte-Carlo results depend only on the tally, the statistic's parameters
// and a 64-bit seed (see [Seed]). The replicates of one estimate are split
// into fixed blocks of [BlockSize], each with its own random stream, so the
// result is bit-identical however many goroutines compute it.
//
// NULL is represented by NaN in float fields and by "" in string fields;
// ±Inf results are reported as NULL, as Jetstream does.
package statistics
