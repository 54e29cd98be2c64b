package sampledata

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"time"
)

// Truth is the metadata of one generation: its options, the realized branch counts, the
// levers and model, and the analytic population truth. It marshals to truth.json.
type Truth struct {
	Slug    string `json:"slug"`
	Seed    uint64 `json:"seed"`
	Clients int    `json:"clients"`
	PreDays int    `json:"pre_days"`
	Design  Design `json:"design"`
	// EnrollmentPeriod is Jetstream's enrollment_period E = (EnrollmentEnd − Start) + 1 days.
	EnrollmentPeriod int `json:"enrollment_period"`
	// OverallLength is the length of Jetstream's overall window, (End − Start) − (E + 1) + 1.
	OverallLength int `json:"overall_window_length"`
	// FirstDate and LastDate bound the generated submission dates: Start − PreDays and End − 1.
	FirstDate string `json:"first_date"`
	LastDate  string `json:"last_date"`
	// BranchCounts and ExposedCounts are the realized numbers of enrolled and exposed clients.
	BranchCounts  map[string]int64 `json:"branch_counts"`
	ExposedCounts map[string]int64 `json:"exposed_counts"`
	Effects       Effects          `json:"effects"`
	Model         Model            `json:"model"`
	// Windows is the analytic truth of Jetstream's analysis windows of the design, for every
	// metric of Metrics and every non-reference branch (see Effect for the formulas).
	Windows []WindowTruth `json:"windows"`
}

// WindowTruth is the analytic truth of one analysis window.
type WindowTruth struct {
	Period  string        `json:"period"` // weekly, days28, overall, preenrollment_weekly, preenrollment_days28
	Index   int           `json:"window_index"`
	Start   int           `json:"analysis_window_start"` // days after each client's enrollment date
	End     int           `json:"analysis_window_end"`   // inclusive
	Metrics []MetricTruth `json:"metrics"`
}

// MetricTruth is the truth of one metric for one non-reference branch in a window.
type MetricTruth struct {
	Metric string `json:"metric"`
	Branch string `json:"branch"`
	Effect
}

// Effect is a branch comparison of population means per client.
type Effect struct {
	Reference      float64 `json:"reference_mean"`  // mean of the reference branch
	Treatment      float64 `json:"treatment_mean"`  // mean of the compared branch
	Difference     float64 `json:"difference"`      // Treatment − Reference
	RelativeUplift float64 `json:"relative_uplift"` // Treatment/Reference − 1 (0 if Reference is 0)
}

// Metric names with an analytic truth, as in metric-hub's firefox_desktop definitions over
// clients_daily (experiments_column_type "simple").
const (
	MetricActiveHours = "active_hours" // SUM(active_hours_sum)
	MetricURICount    = "uri_count"    // SUM(scalar_parent_browser_engagement_total_uri_count_sum)
	MetricDaysOfUse   = "days_of_use"  // COUNT(submission_date)
	MetricSearchCount = "search_count" // SUM(search_count_all)
	MetricAdClicks    = "ad_clicks"    // SUM(ad_clicks_count_all)
	MetricRetained    = "retained"     // SUM(pings_aggregated_by_this_row) > 0, i.e. any row
)

// Metrics returns the metric names that have an analytic truth.
func Metrics() []string {
	return []string{MetricActiveHours, MetricURICount, MetricDaysOfUse, MetricSearchCount, MetricAdClicks, MetricRetained}
}

func newTruth(p plan, counts tally) Truth {
	d := p.cal.design
	t := Truth{
		Slug:             d.Slug,
		Seed:             p.seed,
		Clients:          p.clients,
		PreDays:          p.cal.preDays,
		Design:           d,
		EnrollmentPeriod: p.cal.enrollDays,
		OverallLength:    p.cal.overallLength(),
		FirstDate:        p.cal.start.AddDate(0, 0, -p.cal.preDays).Format(time.DateOnly),
		LastDate:         p.cal.start.AddDate(0, 0, p.cal.lastDay()).Format(time.DateOnly),
		BranchCounts:     make(map[string]int64, len(d.Branches)),
		ExposedCounts:    make(map[string]int64, len(d.Branches)),
		Effects:          p.effects,
		Model:            p.model,
	}
	for i, b := range d.Branches {
		t.BranchCounts[b.Name] = counts.enrolled[i]
		t.ExposedCounts[b.Name] = counts.exposed[i]
	}
	for _, w := range p.cal.windows() {
		wt := WindowTruth{Period: w.period, Index: w.index, Start: w.start, End: w.end}
		for _, metric := range Metrics() {
			for _, b := range d.Branches {
				if b.Name == d.Reference {
					continue
				}
				if e, ok := t.EffectFor(b.Name, metric, w.start, w.end); ok {
					wt.Metrics = append(wt.Metrics, MetricTruth{Metric: metric, Branch: b.Name, Effect: e})
				}
			}
		}
		t.Windows = append(t.Windows, wt)
	}
	return t
}

// Effect returns the analytic population truth of metric over the analysis window
// [start, end] (inclusive day offsets from each client's enrollment date, e.g. week 1 is
// [0, 6], the pre-enrollment week [−7, −1]) for the first non-reference branch against the
// reference branch. ok is false for a metric without an analytic truth, a design without a
// non-reference branch, or a window that the generated data does not fully cover for every
// client (start < −PreDays or end > (End − 1) − EnrollmentEnd).
func (t Truth) Effect(metric string, start, end int) (e Effect, ok bool) {
	for _, b := range t.Design.Branches {
		if b.Name != t.Design.Reference {
			return t.EffectFor(b.Name, metric, start, end)
		}
	}
	return Effect{}, false
}

// EffectFor is Effect for a given non-reference (or, trivially, the reference) branch.
func (t Truth) EffectFor(branch, metric string, start, end int) (Effect, bool) {
	ref, ok := t.Mean(t.Design.Reference, metric, start, end)
	if !ok {
		return Effect{}, false
	}
	treat, ok := t.Mean(branch, metric, start, end)
	if !ok {
		return Effect{}, false
	}
	e := Effect{Reference: ref, Treatment: treat, Difference: treat - ref}
	if ref != 0 {
		e.RelativeUplift = treat/ref - 1
	}
	return e, true
}

// Mean returns the population mean per client of metric for branch over the window
// [start, end], as Jetstream computes the metric from clients_daily with the "simple"
// experiments column filter (an enrollment-day row counts only if annotated). With
//
//	π_b(d) = E[p]            d < 0   (pre-enrollment: a row with probability p)
//	π_b(0) = τ               d = 0   (always a row; annotated with probability τ = EnrollmentDayTagRate)
//	π_b(d) = E[p]·(1−h_b)^d  d ≥ 1   (alive with probability (1−h_b)^d, then a row with probability p)
//	m_b(d) = 1 + ActiveHoursEffect for non-reference branches and d ≥ 0, else 1
//
// the means are (p, μ, G independent, so expectations factor):
//
//	days_of_use  = Σ_{d=start..end} π_b(d)
//	active_hours = E[μ]·E[G] · Σ m_b(d)·π_b(d),  E[μ] = exp(m + s²/2), E[G] = shape·scale
//	uri_count    = URIsPerHour · active_hours
//	search_count = SearcherRate·SearchShape·SearchScale · Σ π_b(d)
//	ad_clicks    = AdClicksPerSearch · search_count
//	retained     = 1 − P(no counted row), see retainedProbability
//
// active_hours ignores the rounding of each row to 5 s; rounding to the nearest step is
// unbiased up to terms far below 1e-6 h per row, invisible next to the sampling error.
func (t Truth) Mean(branch, metric string, start, end int) (float64, bool) {
	cal, err := newCalendar(t.Design, t.PreDays)
	if err != nil || start > end || start < -cal.preDays || end > cal.maxWindowEnd() {
		return 0, false
	}
	i := slices.IndexFunc(t.Design.Branches, func(b Branch) bool { return b.Name == branch })
	if i < 0 {
		return 0, false
	}
	treated := cal.treated[i]
	m := t.Model
	h := t.Effects.hazard(treated)
	var rows, weighted float64 // Σ π(d), Σ m(d)·π(d)
	for d := start; d <= end; d++ {
		var pi float64
		switch {
		case d < 0:
			pi = m.MeanActivity()
		case d == 0:
			pi = t.Effects.EnrollmentDayTagRate
		default:
			pi = m.MeanActivity() * math.Pow(1-h, float64(d))
		}
		rows += pi
		weighted += t.Effects.multiplier(treated, d) * pi
	}
	switch metric {
	case MetricDaysOfUse:
		return rows, true
	case MetricActiveHours:
		return m.MeanHoursPerActiveDay() * weighted, true
	case MetricURICount:
		return m.URIsPerHour * m.MeanHoursPerActiveDay() * weighted, true
	case MetricSearchCount:
		return m.MeanSearchesPerActiveDay() * rows, true
	case MetricAdClicks:
		return m.AdClicksPerSearch * m.MeanSearchesPerActiveDay() * rows, true
	case MetricRetained:
		return retainedProbability(m, t.Effects.EnrollmentDayTagRate, h, start, end), true
	}
	return 0, false
}

// retainedProbability is P(at least one counted row in [a, b]) for a client with churn hazard
// h. Let k_pre = #{d ∈ [a, b] : d < 0} (days with a row with probability p), a₁ = max(a, 1),
// n = #{d ∈ [a₁, b]}, and T the churn day (P(T = t) = (1−h)^(t−1)·h, t ≥ 1). The client is
// alive on post days d < T, so it has k(T) = clamp(T − a₁, 0, n) Bernoulli(p) days after
// enrollment. Conditioning on T and integrating p ~ Beta(α, β) with M(k) = E[(1−p)^k]:
//
//	P(no row) = (1 − τ·[0 ∈ [a,b]]) · ( P(T ≤ a₁)·M(k_pre)
//	            + Σ_{t=a₁+1}^{b} P(T = t)·M(k_pre + t − a₁)
//	            + P(T > b)·M(k_pre + n) )
//
// with P(T ≤ a₁) = 1 − (1−h)^a₁ and P(T > b) = (1−h)^b (for b < 1 the bracket is M(k_pre)).
func retainedProbability(m Model, tagRate, h float64, a, b int) float64 {
	kPre := 0
	if a < 0 {
		kPre = min(b, -1) - a + 1
	}
	noRow := 1.0
	if a <= 0 && b >= 0 {
		noRow = 1 - tagRate
	}
	if b < 1 {
		return 1 - noRow*m.noRowProbability(kPre)
	}
	a1 := max(a, 1)
	n := b - a1 + 1
	q := 1 - h
	s := (1 - math.Pow(q, float64(a1))) * m.noRowProbability(kPre)
	for t := a1 + 1; t <= b; t++ {
		s += math.Pow(q, float64(t-1)) * h * m.noRowProbability(kPre+t-a1)
	}
	s += math.Pow(q, float64(b)) * m.noRowProbability(kPre+n)
	return 1 - noRow*s
}

// File names inside WriteDuckDB's output directory.
const (
	DatabaseFile = "mozdata.duckdb" // the database; its catalog is therefore mozdata
	TruthFile    = "truth.json"     // the Truth
)

// WriteFile writes t as indented JSON to path.
func (t Truth) WriteFile(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding truth: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing truth: %w", err)
	}
	return nil
}

// LoadTruth reads a truth.json written by WriteDuckDB (or Truth.WriteFile).
func LoadTruth(path string) (Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Truth{}, fmt.Errorf("reading truth: %w", err)
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return Truth{}, fmt.Errorf("decoding truth %s: %w", path, err)
	}
	if _, err := newCalendar(t.Design, t.PreDays); err != nil {
		return Truth{}, fmt.Errorf("truth %s: %w", path, err)
	}
	if err := t.Effects.validate(); err != nil {
		return Truth{}, fmt.Errorf("truth %s: %w", path, err)
	}
	if err := t.Model.validate(); err != nil {
		return Truth{}, fmt.Errorf("truth %s: %w", path, err)
	}
	return t, nil
}
