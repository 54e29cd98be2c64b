package sampledata

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// DefaultPreDays is the number of days of pre-enrollment history generated when
// Options.PreDays is 0: enough for Jetstream's preenrollment_days28 window of every client.
const DefaultPreDays = 28

// Design is the experiment the data is generated for (the launcher fills it from the bundled
// Experimenter record). Dates are calendar days: only their year, month and day (in their own
// location) are used.
type Design struct {
	Slug          string    `json:"slug"`
	Start         time.Time `json:"start"`          // first enrollment date (UTC midnight)
	EnrollmentEnd time.Time `json:"enrollment_end"` // last day clients enroll (inclusive)
	End           time.Time `json:"end"`            // experiment end date; data is generated through End−1 day
	Branches      []Branch  `json:"branches"`       // e.g. control 1, treatment 1
	Reference     string    `json:"reference"`      // reference branch name, e.g. "control"
	// FeatureID is the featureId of the exposure events; "" means "sample-feature".
	FeatureID string `json:"feature_id,omitempty"`
}

// Branch is one branch of the design and its relative share of the clients.
type Branch struct {
	Name  string  `json:"name"`
	Ratio float64 `json:"ratio"`
}

// Options of one generation.
type Options struct {
	Clients int     // ≥ 1
	Seed    uint64  // the same (Seed, Clients, PreDays, Design, Effects) give the same rows
	PreDays int     // days of pre-enrollment history before Start; 0 means DefaultPreDays
	Design  Design  // the experiment
	Effects Effects // zero value means DefaultEffects()

	// Overwrite lets WriteDuckDB replace an existing DIR/mozdata.duckdb (and truth.json);
	// without it WriteDuckDB refuses to run. Generate ignores it.
	Overwrite bool
	// Progress, if set, is called each time another ProgressInterval clients are generated
	// and once with the total at the end of the generation (WriteDuckDB then still builds
	// the tables, which takes about as long again). Calls are serialized but may come from
	// different goroutines.
	Progress func(done, total int)
}

// ProgressInterval is the number of clients between two Options.Progress calls.
const ProgressInterval = 100_000

// defaultFeatureID is the featureId of exposure events when Design.FeatureID is empty.
const defaultFeatureID = "sample-feature"

// OtherSlug is the slug of the unrelated experiment that a few clients also enroll in (noise
// that a correct enrollment query must ignore). It shares slug as a prefix on purpose.
func OtherSlug(slug string) string { return slug + "-followup" }

// calendar is a validated design in day numbers: day 0 is Start.
type calendar struct {
	design     Design
	start      time.Time // Start as UTC midnight
	enrollDays int       // E = (EnrollmentEnd − Start) + 1, Jetstream's enrollment_period
	totalDays  int       // (End − Start) days; data covers days [−preDays, totalDays−1]
	preDays    int
	reference  int       // index of the reference branch
	cumRatio   []float64 // cumulative normalized ratios
	treated    []bool    // branch is not the reference
	featureID  string
}

// dateOf returns the UTC midnight of t's calendar day.
func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween returns the number of calendar days from a to b.
func daysBetween(a, b time.Time) int {
	return int(math.Round(dateOf(b).Sub(dateOf(a)).Hours() / 24))
}

// newCalendar validates d and preDays (already defaulted).
func newCalendar(d Design, preDays int) (calendar, error) {
	if d.Slug == "" {
		return calendar{}, errors.New("design: empty slug")
	}
	if d.Start.IsZero() || d.EnrollmentEnd.IsZero() || d.End.IsZero() {
		return calendar{}, fmt.Errorf("design %s: start, enrollment end and end dates are required", d.Slug)
	}
	c := calendar{
		design:     d,
		start:      dateOf(d.Start),
		enrollDays: daysBetween(d.Start, d.EnrollmentEnd) + 1,
		totalDays:  daysBetween(d.Start, d.End),
		preDays:    preDays,
		reference:  -1,
		featureID:  d.FeatureID,
	}
	if c.featureID == "" {
		c.featureID = defaultFeatureID
	}
	if c.enrollDays < 1 {
		return calendar{}, fmt.Errorf("design %s: enrollment end %s is before start %s",
			d.Slug, d.EnrollmentEnd.Format(time.DateOnly), d.Start.Format(time.DateOnly))
	}
	if c.totalDays <= c.enrollDays {
		return calendar{}, fmt.Errorf("design %s: end %s must be at least two days after the enrollment end %s",
			d.Slug, d.End.Format(time.DateOnly), d.EnrollmentEnd.Format(time.DateOnly))
	}
	if preDays < 0 {
		return calendar{}, fmt.Errorf("design %s: negative pre-enrollment days %d", d.Slug, preDays)
	}
	if len(d.Branches) == 0 {
		return calendar{}, fmt.Errorf("design %s: no branches", d.Slug)
	}
	var total float64
	seen := make(map[string]bool, len(d.Branches))
	for i, b := range d.Branches {
		if b.Name == "" {
			return calendar{}, fmt.Errorf("design %s: branch %d has no name", d.Slug, i)
		}
		if seen[b.Name] {
			return calendar{}, fmt.Errorf("design %s: duplicate branch %q", d.Slug, b.Name)
		}
		seen[b.Name] = true
		if !(b.Ratio > 0) || math.IsInf(b.Ratio, 0) {
			return calendar{}, fmt.Errorf("design %s: branch %q needs a positive ratio, got %v", d.Slug, b.Name, b.Ratio)
		}
		if b.Name == d.Reference {
			c.reference = i
		}
		total += b.Ratio
		c.cumRatio = append(c.cumRatio, total)
		c.treated = append(c.treated, b.Name != d.Reference)
	}
	if c.reference < 0 {
		return calendar{}, fmt.Errorf("design %s: reference branch %q is not one of its branches", d.Slug, d.Reference)
	}
	for i := range c.cumRatio {
		c.cumRatio[i] /= total
	}
	c.cumRatio[len(c.cumRatio)-1] = 1
	return c, nil
}

// lastDay is the day number of End − 1, the last day with data.
func (c calendar) lastDay() int { return c.totalDays - 1 }

// maxWindowEnd is the largest window end (days after enrollment) for which every client has
// data: the last enrollers (day E−1) have data through lastDay.
func (c calendar) maxWindowEnd() int { return c.lastDay() - (c.enrollDays - 1) }

// overallLength is Jetstream's overall window length (mozanalysis TimeLimits):
// (End − Start) − num_dates_enrollment + 1 with num_dates_enrollment = E + 1.
func (c calendar) overallLength() int { return c.totalDays - (c.enrollDays + 1) + 1 }

// windows returns Jetstream's analysis windows for the whole experiment: weekly (and 28-day)
// window i = [p(i−1), p·i−1] for every i with Start + E + p·i − 1 ≤ End − 1, the overall window
// [0, overallLength−1], and the pre-enrollment windows [−7, −1] and [−28, −1] if the history
// covers them.
func (c calendar) windows() []windowSpec {
	var ws []windowSpec
	for _, p := range []struct {
		name string
		days int
	}{{"weekly", 7}, {"days28", 28}} {
		for i := 1; c.enrollDays+p.days*i-1 <= c.lastDay(); i++ {
			ws = append(ws, windowSpec{p.name, i, p.days * (i - 1), p.days*i - 1})
		}
	}
	if n := c.overallLength(); n >= 1 {
		ws = append(ws, windowSpec{"overall", 1, 0, n - 1})
	}
	if c.preDays >= 7 {
		ws = append(ws, windowSpec{"preenrollment_weekly", 1, -7, -1})
	}
	if c.preDays >= 28 {
		ws = append(ws, windowSpec{"preenrollment_days28", 1, -28, -1})
	}
	return ws
}

type windowSpec struct {
	period     string
	index      int
	start, end int
}

// branchOf maps a uniform u ∈ [0, 1) to a branch index.
func (c calendar) branchOf(u float64) int {
	for i, cum := range c.cumRatio {
		if u < cum {
			return i
		}
	}
	return len(c.cumRatio) - 1
}

// plan is everything a generation needs, validated.
type plan struct {
	cal     calendar
	model   Model
	effects Effects
	clients int
	seed    uint64
}

func newPlan(opts Options) (plan, error) {
	if opts.Clients < 1 {
		return plan{}, fmt.Errorf("sample data: clients must be at least 1, got %d", opts.Clients)
	}
	pre := opts.PreDays
	if pre == 0 {
		pre = DefaultPreDays
	}
	cal, err := newCalendar(opts.Design, pre)
	if err != nil {
		return plan{}, err
	}
	eff := opts.Effects
	if eff == (Effects{}) {
		eff = DefaultEffects()
	}
	if err := eff.validate(); err != nil {
		return plan{}, err
	}
	m := DefaultModel()
	if err := m.validate(); err != nil {
		return plan{}, err
	}
	return plan{cal: cal, model: m, effects: eff, clients: opts.Clients, seed: opts.Seed}, nil
}
