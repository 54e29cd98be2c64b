package pipeline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// lifeOf is an experiment with every period configured, as Experimenter and the daily
// run see it on date d: the run of d happens on d + 1, so the experiment is Complete from
// its end date on.
func lifeOf(start time.Time, enrollment int, end time.Time, d time.Time) (*configs.Analysis, experimenter.Experiment) {
	status := experimenter.StatusLive
	if !d.Before(end) {
		status = experimenter.StatusComplete
	}
	a := &configs.Analysis{
		Slug: "life", AppName: "firefox_desktop", StartDate: start, EndDate: end, Status: status,
		EnrollmentPeriod: enrollment, EnrollmentPeriodSource: "enrollmentEndDate",
		Periods: map[configs.Period][]string{},
	}
	for _, p := range configs.Periods {
		a.Periods[p] = []string{"m"}
	}
	e := experimenter.Experiment{Slug: "life", NormandySlug: "life", Type: "v6", Status: status,
		StartDate: start, EnrollmentEndDate: start.AddDate(0, 0, enrollment-1), EndDate: end}
	return a, e
}

// Over the whole life of random experiments, run day by day, every window of every
// period is computed exactly once, on the day its last enrollee's data is complete; the
// windows of a period tile the days after enrollment without gap or overlap; overall is
// computed once, on the end date; pre-enrollment once, the day after the last enrollment;
// nothing after the end date.
func TestWindowsOverALifetime(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 12))
	lengths := map[configs.Period]int{configs.Day: 1, configs.Week: 7, configs.Days28: 28}
	for trial := 0; trial < 300; trial++ {
		start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3000))
		enrollment := 1 + rng.IntN(120)
		last := start.AddDate(0, 0, enrollment)
		end := last.AddDate(0, 0, 1+rng.IntN(200))
		computed := map[configs.Period][]Window{}
		for d := start.AddDate(0, 0, -3); !d.After(end.AddDate(0, 0, 3)); d = d.AddDate(0, 0, 1) {
			a, e := lifeOf(start, enrollment, end, d)
			dec := Decide(a, e, d, configs.Periods)
			if d.After(end) {
				if dec.Outcome != Skipped || dec.Reason != ReasonEnded {
					t.Fatalf("trial %d: %s after the end date %s: %s %s", trial, day2(d), day2(end), dec.Outcome, dec.Reason)
				}
				continue
			}
			if dec.Outcome != Analysed {
				t.Fatalf("trial %d on %s: %s %s: %s", trial, day2(d), dec.Outcome, dec.Reason, dec.Message)
			}
			for _, w := range dec.Windows {
				if !w.Date.Equal(d) {
					t.Fatalf("window dated %s computed on %s", day2(w.Date), day2(d))
				}
				computed[w.Period] = append(computed[w.Period], w)
			}
		}
		for period, p := range lengths {
			ws := computed[period]
			want := (experimenter.Days(last, end) + 1) / p // windows whose data is complete by the end date
			if len(ws) != want {
				t.Fatalf("trial %d (S %s, E %d, end %s): %d %s windows, want %d", trial, day2(start), enrollment, day2(end), len(ws), period, want)
			}
			for i, w := range ws {
				k := i + 1
				if w.Index != k || w.Start != (k-1)*p || w.End != k*p-1 {
					t.Fatalf("trial %d: %s window %d is #%d [%d, %d], want [%d, %d]", trial, period, i, w.Index, w.Start, w.End, (k-1)*p, k*p-1)
				}
				if i > 0 && w.Start != ws[i-1].End+1 {
					t.Fatalf("trial %d: %s windows %d and %d leave a gap or overlap", trial, period, k-1, k)
				}
				if !w.LastDate.Equal(w.Date) || !w.Date.Equal(last.AddDate(0, 0, k*p-1)) {
					t.Fatalf("trial %d: %s window %d computed on %s with data to %s", trial, period, k, day2(w.Date), day2(w.LastDate))
				}
			}
		}
		overall := computed[configs.Overall]
		if len(overall) != 1 || !overall[0].Date.Equal(end) || overall[0].Start != 0 ||
			overall[0].End != experimenter.Days(start, end)-enrollment-1 || !overall[0].LastDate.Equal(end.AddDate(0, 0, -1)) {
			t.Fatalf("trial %d (S %s, E %d, end %s): overall windows %+v", trial, day2(start), enrollment, day2(end), overall)
		}
		for _, p := range []configs.Period{configs.PreenrollmentWeek, configs.PreenrollmentDays28} {
			ws := computed[p]
			if len(ws) != 1 || !ws[0].Date.Equal(last.AddDate(0, 0, 1)) || !ws[0].LastDate.Equal(last.AddDate(0, 0, -1)) {
				t.Fatalf("trial %d: %s windows %+v", trial, p, ws)
			}
		}
	}
}

func day2(t time.Time) string { return t.Format(time.DateOnly) }

// The refusals, in Jetstream's order: each case breaks one rule of an otherwise runnable
// experiment (and the rules before it hold).
func TestDecideRefusals(t *testing.T) {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 60)
	d := start.AddDate(0, 0, 20)
	cases := []struct {
		name    string
		change  func(a *configs.Analysis, e *experimenter.Experiment)
		outcome Outcome
		reason  string
	}{
		{"runnable", func(*configs.Analysis, *experimenter.Experiment) {}, Analysed, ""},
		{"no slug", func(a *configs.Analysis, _ *experimenter.Experiment) { a.Slug = "" }, Skipped, ReasonNoSlug},
		{"skip", func(a *configs.Analysis, _ *experimenter.Experiment) { a.Skip = true }, Skipped, ReasonExplicitSkip},
		{"no enrollment period", func(a *configs.Analysis, _ *experimenter.Experiment) { a.EnrollmentPeriod = 0 }, Skipped, ReasonNoEnrollmentPeriod},
		{"no start date", func(a *configs.Analysis, _ *experimenter.Experiment) { a.StartDate = time.Time{} }, Skipped, ReasonNoStartDate},
		{"ended", func(a *configs.Analysis, _ *experimenter.Experiment) { a.EndDate = d.AddDate(0, 0, -1) }, Skipped, ReasonEnded},
		{"rollout", func(_ *configs.Analysis, e *experimenter.Experiment) { e.IsRollout = true }, Skipped, ReasonRollout},
		{"unsupported app", func(a *configs.Analysis, _ *experimenter.Experiment) { a.AppName = "monitor_cirrus" }, Failed, ReasonUnsupportedApplication},
		{"enrollment open", func(_ *configs.Analysis, e *experimenter.Experiment) { e.EnrollmentEndDate = time.Time{} }, Skipped, ReasonEnrollmentNotComplete},
		{"enrollment open, config period", func(a *configs.Analysis, e *experimenter.Experiment) {
			e.EnrollmentEndDate = time.Time{}
			a.EnrollmentPeriodSource = "config"
		}, Analysed, ""},
		{"ended rollout: ended first", func(a *configs.Analysis, e *experimenter.Experiment) {
			a.EndDate = d.AddDate(0, 0, -1)
			e.IsRollout = true
		}, Skipped, ReasonEnded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, e := lifeOf(start, 7, end, d)
			c.change(a, &e)
			dec := Decide(a, e, d, configs.Periods)
			if dec.Outcome != c.outcome || dec.Reason != c.reason {
				t.Errorf("%s %q (%s), want %s %q", dec.Outcome, dec.Reason, dec.Message, c.outcome, c.reason)
			}
			if dec.Outcome != Analysed && (len(dec.Windows) > 0 || dec.Message == "") {
				t.Errorf("a refusal with windows %v or without a message %q", dec.Windows, dec.Message)
			}
		})
	}
}

// The daily executor's filters: the 90-day horizon after the end date, types, rollouts.
func TestSelectDaily(t *testing.T) {
	d := time.Date(2025, 9, 9, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		e      experimenter.Experiment
		reason string
	}{
		{"live", experimenter.Experiment{Status: experimenter.StatusLive, Type: "v6"}, ""},
		{"ended 90 days ago", experimenter.Experiment{Status: experimenter.StatusComplete, Type: "v6", EndDate: d.AddDate(0, 0, -90)}, ""},
		{"ended 91 days ago", experimenter.Experiment{Status: experimenter.StatusComplete, Type: "v6", EndDate: d.AddDate(0, 0, -91)}, ReasonEnded},
		{"complete without end date", experimenter.Experiment{Status: experimenter.StatusComplete, Type: "v6"}, ReasonEnded},
		{"legacy type", experimenter.Experiment{Status: experimenter.StatusLive, Type: "rollout"}, ReasonUnsupportedType},
		{"rollout", experimenter.Experiment{Status: experimenter.StatusLive, Type: "v6", IsRollout: true}, ReasonRollout},
	}
	for _, c := range cases {
		got := ""
		if r := SelectDaily(c.e, d); r != nil {
			got = r.Reason
		}
		if got != c.reason {
			t.Errorf("%s: %q, want %q", c.name, got, c.reason)
		}
	}
}
