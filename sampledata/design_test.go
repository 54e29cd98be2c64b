package sampledata

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCalendarOfSampleDesign(t *testing.T) {
	c, err := newCalendar(sampleDesign(), DefaultPreDays)
	if err != nil {
		t.Fatal(err)
	}
	// Start 09-01, enrollment end 09-07 (E = 7), end 10-07 (36 days, data through 10-06).
	if c.enrollDays != 7 || c.totalDays != 36 || c.lastDay() != 35 {
		t.Errorf("E = %d, total = %d, last day = %d; want 7, 36, 35", c.enrollDays, c.totalDays, c.lastDay())
	}
	// Overall: (End − Start) − (E + 1) + 1 = 36 − 8 + 1 = 29 days.
	if got := c.overallLength(); got != 29 {
		t.Errorf("overall length = %d, want 29", got)
	}
	// The last enrollers (09-07) have data through 10-06, 29 days later.
	if got := c.maxWindowEnd(); got != 29 {
		t.Errorf("max window end = %d, want 29", got)
	}
	want := []windowSpec{
		{"weekly", 1, 0, 6}, {"weekly", 2, 7, 13}, {"weekly", 3, 14, 20}, {"weekly", 4, 21, 27},
		{"days28", 1, 0, 27},
		{"overall", 1, 0, 28},
		{"preenrollment_weekly", 1, -7, -1},
		{"preenrollment_days28", 1, -28, -1},
	}
	if got := c.windows(); !reflect.DeepEqual(got, want) {
		t.Errorf("windows =\n%v\nwant\n%v", got, want)
	}
}

func TestCalendarWindowsShortExperiment(t *testing.T) {
	// Jetstream's unit-test design: start 2019-12-01, enrollment end 12-07, end 12-22
	// (data through 12-21). Weekly windows close on 12-14 and 12-21; no 28-day window.
	d := sampleDesign()
	d.Start, d.EnrollmentEnd, d.End = day(2019, 12, 1), day(2019, 12, 7), day(2019, 12, 22)
	c, err := newCalendar(d, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []windowSpec{{"weekly", 1, 0, 6}, {"weekly", 2, 7, 13}, {"overall", 1, 0, 13}}
	if got := c.windows(); !reflect.DeepEqual(got, want) {
		t.Errorf("windows = %v, want %v", got, want)
	}
}

func TestDesignValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *Options)
		want   string // error substring; "" for valid
	}{
		{"valid", func(o *Options) {}, ""},
		{"local-time dates", func(o *Options) {
			loc := time.FixedZone("x", 5*3600)
			o.Design.Start = time.Date(2026, 9, 1, 10, 0, 0, 0, loc)
		}, ""},
		{"no clients", func(o *Options) { o.Clients = 0 }, "clients must be at least 1"},
		{"no slug", func(o *Options) { o.Design.Slug = "" }, "empty slug"},
		{"no dates", func(o *Options) { o.Design.End = time.Time{} }, "dates are required"},
		{"enrollment end before start", func(o *Options) { o.Design.EnrollmentEnd = day(2026, 8, 31) }, "before start"},
		{"end too early", func(o *Options) { o.Design.End = day(2026, 9, 8) }, "at least two days after"},
		{"negative pre days", func(o *Options) { o.PreDays = -1 }, "negative pre-enrollment days"},
		{"no branches", func(o *Options) { o.Design.Branches = nil }, "no branches"},
		{"unnamed branch", func(o *Options) { o.Design.Branches[1].Name = "" }, "has no name"},
		{"duplicate branch", func(o *Options) { o.Design.Branches[1].Name = "control" }, "duplicate branch"},
		{"zero ratio", func(o *Options) { o.Design.Branches[1].Ratio = 0 }, "positive ratio"},
		{"unknown reference", func(o *Options) { o.Design.Reference = "ctrl" }, `reference branch "ctrl"`},
		{"bad hours effect", func(o *Options) { o.Effects = DefaultEffects(); o.Effects.ActiveHoursEffect = -1 }, "active_hours_effect"},
		{"bad hazard", func(o *Options) { o.Effects = DefaultEffects(); o.Effects.TreatmentChurnHazard = 1 }, "treatment_churn_hazard"},
		{"bad tag rate", func(o *Options) { o.Effects = DefaultEffects(); o.Effects.EnrollmentDayTagRate = 1.5 }, "enrollment_day_tag_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Clients: 10, Seed: 1, Design: sampleDesign()}
			tt.change(&o)
			_, err := newPlan(o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPlanDefaults(t *testing.T) {
	p, err := newPlan(Options{Clients: 1, Design: sampleDesign()})
	if err != nil {
		t.Fatal(err)
	}
	if p.cal.preDays != DefaultPreDays || p.effects != DefaultEffects() || p.cal.featureID != defaultFeatureID {
		t.Errorf("defaults: pre days %d, effects %+v, feature %q", p.cal.preDays, p.effects, p.cal.featureID)
	}
	// A branch index is drawn from the normalized cumulative ratios.
	d := sampleDesign()
	d.Branches = []Branch{{"control", 1}, {"a", 2}, {"b", 1}}
	c, err := newCalendar(d, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.2499, 0}, {0.25, 1}, {0.7499, 1}, {0.75, 2}, {0.9999, 2}} {
		if got := c.branchOf(tt.u); got != tt.want {
			t.Errorf("branchOf(%v) = %d, want %d", tt.u, got, tt.want)
		}
	}
}
