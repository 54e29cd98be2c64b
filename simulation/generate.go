package simulation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// The generating distribution (see the package comment).
const (
	LogMean     = 1.0 // μ: mean of ln Y
	LogSD       = 1.0 // σ: standard deviation of ln Y
	Correlation = 0.6 // correlation of Y and its pre-enrollment covariate X
	BinaryP     = 0.3 // control's probability of B = 1
)

// Branch names.
const (
	Control   = "control"
	Treatment = "treatment"
)

// LogCorrelation is ρ_z, the correlation of ln X and ln Y that makes the correlation of X
// and Y equal to Correlation: ln(1 + ρ·(e^{σ²} − 1))/σ².
func LogCorrelation() float64 {
	s2 := LogSD * LogSD
	return math.Log1p(Correlation*math.Expm1(s2)) / s2
}

// ContinuousMean is E[Y] in control: exp(μ + σ²/2).
func ContinuousMean() float64 { return math.Exp(LogMean + LogSD*LogSD/2) }

// TrueDifference is the true difference treatment − control of the continuous and of the
// binary metric for an effect E: E·exp(μ + σ²/2) and E·p.
func TrueDifference(effect float64) (continuous, binary float64) {
	return effect * ContinuousMean(), effect * BinaryP
}

// CheckEffect reports whether E is a possible effect: 1 + E > 0 (a positive metric stays
// positive) and p·(1 + E) ≤ 1 (a probability).
func CheckEffect(effect float64) error {
	if math.IsNaN(effect) || math.IsInf(effect, 0) || effect <= -1 {
		return fmt.Errorf("effect %v: want > -1 (treatment's metric is multiplied by 1 + effect)", effect)
	}
	if BinaryP*(1+effect) > 1 {
		return fmt.Errorf("effect %v: want ≤ %.4g (the binary metric's probability %v·(1 + effect) must stay ≤ 1)", effect, 1/BinaryP-1, BinaryP)
	}
	return nil
}

// BranchData is one branch's clients, one element per client.
type BranchData struct {
	Name      string
	Metric    []float64 // Y, continuous
	Covariate []float64 // X, Y's pre-enrollment value
	Binary    []float64 // B, 0 or 1
}

// experimentName is the part that identifies experiment i in its seeds.
func experimentName(i int) string { return "experiment " + strconv.Itoa(i) }

// Generate draws experiment i of a simulation with the given seed: control then
// treatment, clients clients each, the treatment's metric and binary probability
// multiplied by 1 + effect. It depends only on its arguments.
func Generate(seed uint64, i, clients int, effect float64) ([2]BranchData, error) {
	if clients < 1 {
		return [2]BranchData{}, fmt.Errorf("clients %d: want ≥ 1", clients)
	}
	if err := CheckEffect(effect); err != nil {
		return [2]BranchData{}, err
	}
	s := statistics.Seed(seed, experimentName(i), "data")
	rng := rand.New(rand.NewPCG(s, statistics.Seed(s, "pcg increment")))
	rz := LogCorrelation()
	rest := math.Sqrt(1 - rz*rz)
	var out [2]BranchData
	for b, name := range [2]string{Control, Treatment} {
		m := 1.0
		if name == Treatment {
			m = 1 + effect
		}
		p := BinaryP * m
		d := BranchData{Name: name, Metric: make([]float64, clients), Covariate: make([]float64, clients), Binary: make([]float64, clients)}
		for k := range clients {
			z1 := rng.NormFloat64()
			z2 := rz*z1 + rest*rng.NormFloat64()
			d.Covariate[k] = math.Exp(LogMean + LogSD*z1)
			d.Metric[k] = m * math.Exp(LogMean+LogSD*z2)
			if rng.Float64() < p {
				d.Binary[k] = 1
			}
		}
		out[b] = d
	}
	return out, nil
}

// Inputs are the statistics inputs of one experiment's two branches, as
// transforms.ReadClients tallies them: the metric's values (Tally) with the (metric,
// covariate) pairs as a model tally of the given tail fraction (Model), and the binary
// metric's values.
func Inputs(branches [2]BranchData, modelTail float64) (continuous, binary []statistics.Input) {
	for _, d := range branches {
		c := statistics.Input{Branch: d.Name, Model: statistics.NewModelTally(modelTail)}
		bin := statistics.Input{Branch: d.Name}
		for k, y := range d.Metric {
			c.Tally.Add(y)
			c.Model.Add(y, d.Covariate[k])
			bin.Tally.Add(d.Binary[k])
		}
		c.Tally.Compact()
		c.Model.Compact()
		bin.Tally.Compact()
		continuous, binary = append(continuous, c), append(binary, bin)
	}
	return continuous, binary
}
