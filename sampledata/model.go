package sampledata

import (
	"fmt"
	"math"
)

// Model holds the fixed parameters of the client population. The generator always uses
// [DefaultModel]; the values are recorded in truth.json so that the analytic truth can be
// recomputed from the file alone.
//
// Per client i (drawn once):
//
//	branch        ~ Categorical(ratios)
//	enrollment e  ~ U{0 … EnrollmentEnd−Start} days after Start
//	p             ~ Beta(ActivityAlpha, ActivityBeta)              daily activity probability
//	μ             ~ LogNormal(HoursLogMean, HoursLogSD)            hours intensity
//	searcher      ~ Bernoulli(SearcherRate);  λ ~ Gamma(SearchShape, SearchScale) if searcher, else 0
//	default       ~ Bernoulli(DefaultBrowserRate)                  is_default_browser, constant
//	T             ~ 1 + Geometric(h_b) on {1, 2, …}                 churn day: P(T > d) = (1−h_b)^d
//
// Per day (d = days since the client's enrollment date):
//
//	d < 0 (pre-enrollment):  a row with probability p
//	d = 0 (enrollment day):  always a row
//	d ≥ 1:                   a row with probability p if d < T (alive), none once churned
//
// Per row:
//
//	x      = μ · G · m_b(d),  G ~ Gamma(DailyShape, DailyScale)  (mean DailyShape·DailyScale = 1),
//	         m_b(d) = 1 + ActiveHoursEffect for non-reference branches on d ≥ 0, else 1
//	active_hours_sum      = round(x · 3600/HoursResolution) · HoursResolution/3600
//	subsession_hours_sum  = round to the same grid of active · (1 + Exp(mean SubsessionExtra))  (≥ active)
//	uri_count             ~ Poisson(URIsPerHour · x)
//	uri_count_normal_and_private = uri_count + Poisson(PrivateURIShare · URIsPerHour · x)
//	search_count_all      ~ Poisson(λ)
//	ad_clicks_count_all   ~ Poisson(AdClicksPerSearch · search_count_all)
//	pings                 = 1 + Poisson(PingsPerHour · subsession_hours_sum)
type Model struct {
	ActivityAlpha      float64 `json:"activity_alpha"`         // α of p ~ Beta(α, β)
	ActivityBeta       float64 `json:"activity_beta"`          // β of p ~ Beta(α, β)
	HoursLogMean       float64 `json:"hours_log_mean"`         // m of μ ~ LogNormal(m, s); median μ = exp(m)
	HoursLogSD         float64 `json:"hours_log_sd"`           // s of μ ~ LogNormal(m, s)
	DailyShape         float64 `json:"daily_shape"`            // shape of the day factor G ~ Gamma
	DailyScale         float64 `json:"daily_scale"`            // scale of the day factor G ~ Gamma
	HoursResolution    float64 `json:"hours_resolution_s"`     // hours are rounded to this many seconds
	SubsessionExtra    float64 `json:"subsession_extra"`       // mean of the relative subsession excess
	URIsPerHour        float64 `json:"uris_per_hour"`          // Poisson rate of URIs per active hour
	PrivateURIShare    float64 `json:"private_uri_share"`      // extra private-mode URIs, relative
	SearcherRate       float64 `json:"searcher_rate"`          // share of clients who search at all
	SearchShape        float64 `json:"search_shape"`           // shape of a searcher's daily rate λ
	SearchScale        float64 `json:"search_scale"`           // scale of a searcher's daily rate λ
	AdClicksPerSearch  float64 `json:"ad_clicks_per_search"`   // Poisson rate of ad clicks per search
	PingsPerHour       float64 `json:"pings_per_subsession_h"` // extra pings per subsession hour
	DefaultBrowserRate float64 `json:"default_browser_rate"`   // P(is_default_browser)
	ExposureRate       float64 `json:"exposure_rate"`          // share of clients with an exposure event
	OtherEnrollRate    float64 `json:"other_enroll_rate"`      // share also enrolled in OtherSlug(slug)
	ForeignEventRate   float64 `json:"foreign_event_rate"`     // share with a category 'foo' event
}

// DefaultModel returns the population model of the sample data:
//
//	p ~ Beta(2.0, 1.2)            E[p] = 0.625
//	μ ~ LogNormal(0, 0.7)         median 1 h, E[μ] = exp(0.245) ≈ 1.2776 h
//	G ~ Gamma(2, 0.5)             E[G] = 1, CV 0.71
//	hours on a 5 s grid, subsession = active·(1 + Exp(0.5))
//	URIs 25 per hour (+4 % private), 60 % searchers with λ ~ Gamma(1, 2) (E = 1.2 searches per
//	active day), 0.05 ad clicks per search, pings 1 + Poisson(subsession/2),
//	35 % default browser, 85 % exposed, 1 % also enrolled in another experiment, 0.5 % with a
//	category 'foo' enroll event for the slug.
func DefaultModel() Model {
	return Model{
		ActivityAlpha:      2.0,
		ActivityBeta:       1.2,
		HoursLogMean:       0,
		HoursLogSD:         0.7,
		DailyShape:         2,
		DailyScale:         0.5,
		HoursResolution:    5,
		SubsessionExtra:    0.5,
		URIsPerHour:        25,
		PrivateURIShare:    0.04,
		SearcherRate:       0.6,
		SearchShape:        1,
		SearchScale:        2,
		AdClicksPerSearch:  0.05,
		PingsPerHour:       0.5,
		DefaultBrowserRate: 0.35,
		ExposureRate:       0.85,
		OtherEnrollRate:    0.01,
		ForeignEventRate:   0.005,
	}
}

// MeanActivity is E[p] = α/(α+β), the probability that a client who has not churned sends
// a row on a given day.
func (m Model) MeanActivity() float64 { return m.ActivityAlpha / (m.ActivityAlpha + m.ActivityBeta) }

// MeanHoursPerActiveDay is E[μ·G] = exp(m + s²/2) · DailyShape·DailyScale, the expected
// active hours of a row before any treatment multiplier.
func (m Model) MeanHoursPerActiveDay() float64 {
	return math.Exp(m.HoursLogMean+m.HoursLogSD*m.HoursLogSD/2) * m.DailyShape * m.DailyScale
}

// MeanSearchesPerActiveDay is E[search_count_all] on a row: SearcherRate·SearchShape·SearchScale.
func (m Model) MeanSearchesPerActiveDay() float64 {
	return m.SearcherRate * m.SearchShape * m.SearchScale
}

// noRowProbability returns E[(1−p)^k] for p ~ Beta(α, β), the probability that a client sends
// no row on k days on which it is alive:
//
//	E[(1−p)^k] = B(α, β+k)/B(α, β) = Π_{j<k} (β+j)/(α+β+j).
func (m Model) noRowProbability(k int) float64 {
	v := 1.0
	for j := range k {
		v *= (m.ActivityBeta + float64(j)) / (m.ActivityAlpha + m.ActivityBeta + float64(j))
	}
	return v
}

func (m Model) validate() error {
	positive := []struct {
		name string
		v    float64
	}{
		{"activity_alpha", m.ActivityAlpha}, {"activity_beta", m.ActivityBeta},
		{"hours_log_sd", m.HoursLogSD}, {"daily_shape", m.DailyShape}, {"daily_scale", m.DailyScale},
		{"hours_resolution_s", m.HoursResolution}, {"search_shape", m.SearchShape},
		{"search_scale", m.SearchScale},
	}
	for _, p := range positive {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("model: %s must be positive and finite, got %v", p.name, p.v)
		}
	}
	nonNegative := []struct {
		name string
		v    float64
	}{
		{"subsession_extra", m.SubsessionExtra}, {"uris_per_hour", m.URIsPerHour},
		{"private_uri_share", m.PrivateURIShare}, {"ad_clicks_per_search", m.AdClicksPerSearch},
		{"pings_per_subsession_h", m.PingsPerHour},
	}
	for _, p := range nonNegative {
		if !(p.v >= 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("model: %s must be non-negative and finite, got %v", p.name, p.v)
		}
	}
	rates := []struct {
		name string
		v    float64
	}{
		{"searcher_rate", m.SearcherRate}, {"default_browser_rate", m.DefaultBrowserRate},
		{"exposure_rate", m.ExposureRate}, {"other_enroll_rate", m.OtherEnrollRate},
		{"foreign_event_rate", m.ForeignEventRate},
	}
	for _, p := range rates {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("model: %s must be in [0, 1], got %v", p.name, p.v)
		}
	}
	if math.IsNaN(m.HoursLogMean) || math.IsInf(m.HoursLogMean, 0) {
		return fmt.Errorf("model: hours_log_mean must be finite, got %v", m.HoursLogMean)
	}
	return nil
}

// Effects are the treatment levers. Every non-reference branch gets the treatment values;
// the reference branch gets the control values. The zero value in [Options] means
// [DefaultEffects]; to switch a lever off, start from DefaultEffects and change it (see
// [NullEffects] for an A/A set-up).
type Effects struct {
	// ActiveHoursEffect is the relative change of a treated client's hours (and therefore its
	// URI counts) on every day from its enrollment date on: hours are multiplied by
	// 1 + ActiveHoursEffect. Must be > −1.
	ActiveHoursEffect float64 `json:"active_hours_effect"`
	// ControlChurnHazard is h for the reference branch: after enrollment a client is alive on
	// day d ≥ 1 with probability (1−h)^d. In [0, 1).
	ControlChurnHazard float64 `json:"control_churn_hazard"`
	// TreatmentChurnHazard is h for the non-reference branches (the retention lever). In [0, 1).
	TreatmentChurnHazard float64 `json:"treatment_churn_hazard"`
	// EnrollmentDayTagRate is the probability that the enrollment-day row carries the
	// experiments annotation (Jetstream drops the un-annotated ones). In [0, 1].
	EnrollmentDayTagRate float64 `json:"enrollment_day_tag_rate"`
}

// DefaultEffects returns the levers of the sample data: +5 % hours, daily churn hazard 0.010
// (control) vs 0.0075 (treatment), 90 % of enrollment-day rows annotated. Over Jetstream's
// overall window of the bundled sample ([0, 28]) this gives a true relative uplift of mean
// active hours of +8.54 % (1.05 × 1.0337 from the extra retained days), which 20,000 clients
// detect with z ≈ 5.3 (standard error of the uplift ≈ 1.6 points); days of use +3.4 %.
func DefaultEffects() Effects {
	return Effects{
		ActiveHoursEffect:    0.05,
		ControlChurnHazard:   0.010,
		TreatmentChurnHazard: 0.0075,
		EnrollmentDayTagRate: 0.9,
	}
}

// NullEffects returns DefaultEffects without any treatment effect (an A/A set-up): no hours
// multiplier and the control churn hazard for every branch.
func NullEffects() Effects {
	e := DefaultEffects()
	e.ActiveHoursEffect = 0
	e.TreatmentChurnHazard = e.ControlChurnHazard
	return e
}

func (e Effects) validate() error {
	if !(e.ActiveHoursEffect > -1) || math.IsInf(e.ActiveHoursEffect, 0) {
		return fmt.Errorf("effects: active_hours_effect must be finite and > -1, got %v", e.ActiveHoursEffect)
	}
	if !(e.ControlChurnHazard >= 0 && e.ControlChurnHazard < 1) {
		return fmt.Errorf("effects: control_churn_hazard must be in [0, 1), got %v", e.ControlChurnHazard)
	}
	if !(e.TreatmentChurnHazard >= 0 && e.TreatmentChurnHazard < 1) {
		return fmt.Errorf("effects: treatment_churn_hazard must be in [0, 1), got %v", e.TreatmentChurnHazard)
	}
	if !(e.EnrollmentDayTagRate >= 0 && e.EnrollmentDayTagRate <= 1) {
		return fmt.Errorf("effects: enrollment_day_tag_rate must be in [0, 1], got %v", e.EnrollmentDayTagRate)
	}
	return nil
}

// hazard returns the daily churn hazard of a branch.
func (e Effects) hazard(treated bool) float64 {
	if treated {
		return e.TreatmentChurnHazard
	}
	return e.ControlChurnHazard
}

// multiplier returns the hours multiplier m_b(d) of a branch on day d after enrollment.
func (e Effects) multiplier(treated bool, d int) float64 {
	if treated && d >= 0 {
		return 1 + e.ActiveHoursEffect
	}
	return 1
}
