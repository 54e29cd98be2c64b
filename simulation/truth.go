package simulation

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// dropHighest is the share of the highest values bootstrap_mean and linear_model_mean clip
// by default (their drop_highest), which the simulation uses.
const dropHighest = 0.005

// Targets are what the statistics estimate for an effect E, computed analytically from the
// generating distribution: Jetstream's winsorization (drop_highest = 0.005) changes the
// continuous metric's estimand. With L(m, t) = E[min(Z, t)] for Z log-normal (m, σ),
//
//	L(m, t) = e^{m+σ²/2}·Φ((ln t − m − σ²)/σ) + t·(1 − Φ((ln t − m)/σ)),
//
// the targets are:
//
//   - bootstrap_mean clips each branch at its own 99.5% quantile q_b, and q_treatment =
//     (1+E)·q_control, so its relative uplift targets E exactly and its difference
//     E·L(μ, q) with q = e^{μ+σ·z₀.₉₉₅} (≈ 0.982 × the true difference);
//   - linear_model_mean clips both branches at the pooled 99.5% quantile t, the root of
//     ½·P(Y_c > t) + ½·P(Y_t > t) = 0.005 (found by bisection), so its difference targets
//     D = L(μ + ln(1+E), t) − L(μ, t) (≈ 0.943 × the true difference) and its relative
//     uplift D / L(μ, t) (≈ 0.957·E at E = 0.1): the covariate is balanced by
//     randomisation, so the adjusted control mean β₀ + γ·q̄ estimates L(μ, t);
//   - binomial: no clipping, its targets are the truth.
type Targets struct {
	MeanDifference, LMDifference, LMRelative float64
}

// lognormalMinMean is L(m, t) = E[min(Z, t)] for ln Z ~ Normal(m, σ).
func lognormalMinMean(m, t float64) float64 {
	n := distuv.UnitNormal
	s := LogSD
	lt := math.Log(t)
	return math.Exp(m+s*s/2)*n.CDF((lt-m-s*s)/s) + t*(1-n.CDF((lt-m)/s))
}

// TargetsOf computes the Targets of effect E (> −1).
func TargetsOf(effect float64) Targets {
	n := distuv.UnitNormal
	q := math.Exp(LogMean + LogSD*n.Quantile(1-dropHighest))
	shift := math.Log1p(effect)
	tail := func(lt float64) float64 { // share of the pooled clients above e^lt
		return 0.5*(1-n.CDF((lt-LogMean)/LogSD)) + 0.5*(1-n.CDF((lt-LogMean-shift)/LogSD))
	}
	lo, hi := LogMean+min(0, shift), LogMean+max(0, shift)+10*LogSD // tail(lo) ≥ 0.25, tail(hi) < 1e-20
	for range 200 {
		mid := (lo + hi) / 2
		if tail(mid) > dropHighest {
			lo = mid
		} else {
			hi = mid
		}
	}
	t := math.Exp((lo + hi) / 2)
	control := lognormalMinMean(LogMean, t)
	d := lognormalMinMean(LogMean+shift, t) - control
	return Targets{
		MeanDifference: effect * lognormalMinMean(LogMean, q),
		LMDifference:   d,
		LMRelative:     d / control,
	}
}
