// Package statistics implements the statistics of Mozilla's Jetstream experiment analysis —
// mozanalysis' Bayesian bootstrap of the mean, the Beta–binomial posterior, deciles by
// order-statistic resampling, empirical CDF, kernel density, linear models with a
// pre-enrollment covariate, per-client DAU impact, population ratio, counts and sums — and
// Jetstream's pre-treatments, on value→count tallies. Pure Go; no Beam, no I/O.
//
// The data flow mirrors Jetstream:
//
//  1. For one cell (experiment, analysis basis, period, window, segment, metric) and one
//     branch, the non-null metric values of every client are accumulated into a [Tally]
//     (and, for statistics that need a second column — a covariate, a denominator — into a
//     [PairTally]). Jetstream's subset query filters `WHERE <metric> IS NOT NULL`, so
//     callers drop nulls before adding; a tally that nevertheless contains NaN is refused.
//  2. [ApplyPreTreatments] transforms the [Input]s of every branch of the cell (pooled
//     thresholds need all branches).
//  3. [Compute] runs a [Statistic] over the cell: statistics that need every branch at once
//     implement [CellStatistic]; the others summarise each branch into an [Estimate]
//     (exact rows, Monte-Carlo replicates, or both) and combine the estimates with
//     [Statistic.Rows] into rows ([Row], Jetstream schema v4): one individual row per branch
//     (per parameter) and, for comparative statistics, a `difference` and a
//     `relative_uplift` row for every ordered pair of branches. Each branch is estimated
//     once; comparisons pair its replicates with the reference's.
//
// Monte-Carlo results depend only on the data, the statistic's parameters and a 64-bit seed
// (see [Seed]). The replicates of one estimate are split into fixed blocks of [BlockSize],
// each with its own random stream, so the result is bit-identical however many goroutines
// compute it. The [NumpyLegacy] engine replays numpy's legacy MT19937 routines instead,
// which reproduces mozanalysis bit for bit when the draws are made in its order.
//
// NULL is represented by NaN in float fields and by "" in string fields; ±Inf results are
// reported as NULL, as Jetstream does.
package statistics
