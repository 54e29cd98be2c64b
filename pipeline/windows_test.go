package pipeline

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

type readinessCase struct {
	ID         string `json:"id"`
	Experiment struct {
		Status             string  `json:"status"`
		StartDate          *string `json:"start_date"`
		EnrollmentEndDate  *string `json:"enrollment_end_date"`
		ProposedEnrollment int     `json:"proposed_enrollment"`
		EndDate            *string `json:"end_date"`
	} `json:"experiment"`
	Override struct {
		EnrollmentPeriod *int    `json:"enrollment_period"`
		EndDate          *string `json:"end_date"`
		StartDate        *string `json:"start_date"`
	} `json:"config_override"`
	RunDate  string `json:"run_date"`
	Expected struct {
		EnrollmentPeriod int                        `json:"enrollment_period"`
		LastEnrollment   string                     `json:"last_enrollment_date"`
		ReadyPeriods     map[string]json.RawMessage `json:"ready_periods"`
		RunOutcome       string                     `json:"run_outcome"`
	} `json:"expected"`
}

type readyWindow struct {
	WindowIndex int    `json:"window_index"`
	Start       int    `json:"analysis_window_start"`
	End         int    `json:"analysis_window_end"`
	FirstDate   string `json:"first_date_data_required"`
	LastDate    string `json:"last_date_data_required"`
}

func day(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestReadinessCases checks every runnable case of fixtures/readiness (derived by running
// Jetstream's own _get_timelimits_if_ready): which periods are due on the run date, with
// the window index, offsets and data dates.
func TestReadinessCases(t *testing.T) {
	data, err := os.ReadFile("../../shared/fixtures/readiness/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []readinessCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range doc.Cases {
		if c.Expected.RunOutcome != "ok" {
			continue // refusals (ended, enrollment not complete, …) are the run checks' business
		}
		checked++
		t.Run(c.ID, func(t *testing.T) {
			exp := experimenter.Experiment{
				Slug: "x", NormandySlug: "x", Status: c.Experiment.Status,
				StartDate: day(c.Experiment.StartDate), EnrollmentEndDate: day(c.Experiment.EnrollmentEndDate),
				EndDate: day(c.Experiment.EndDate), ProposedEnrollment: c.Experiment.ProposedEnrollment,
			}
			spec := &configs.Spec{Experiment: configs.ExperimentSpec{
				StartDate: day(c.Override.StartDate), EndDate: day(c.Override.EndDate), EnrollmentPeriod: c.Override.EnrollmentPeriod,
			}}
			a, err := configs.Resolve(spec, exp)
			if err != nil {
				t.Fatal(err)
			}
			if a.EnrollmentPeriod != c.Expected.EnrollmentPeriod {
				t.Fatalf("enrollment period = %d, want %d", a.EnrollmentPeriod, c.Expected.EnrollmentPeriod)
			}
			dates, err := DatesOf(a)
			if err != nil {
				t.Fatal(err)
			}
			if got := dates.LastEnrollment.Format(time.DateOnly); got != c.Expected.LastEnrollment {
				t.Errorf("last enrollment = %s, want %s", got, c.Expected.LastEnrollment)
			}
			runDate := day(&c.RunDate)
			windows, err := dates.DueOn(runDate, configs.Periods)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Window{}
			for _, w := range windows {
				got[string(w.Period)] = w
			}
			for period, raw := range c.Expected.ReadyPeriods {
				w, due := got[period]
				if string(raw) == "null" {
					if due {
						t.Errorf("%s: due (window %d), want not due", period, w.Index)
					}
					continue
				}
				var want readyWindow
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				if !due {
					t.Errorf("%s: not due, want window %d", period, want.WindowIndex)
					continue
				}
				if w.Index != want.WindowIndex || w.Start != want.Start || w.End != want.End ||
					w.FirstDate.Format(time.DateOnly) != want.FirstDate || w.LastDate.Format(time.DateOnly) != want.LastDate {
					t.Errorf("%s: window %d [%d, %d] data %s..%s, want %d [%d, %d] data %s..%s", period,
						w.Index, w.Start, w.End, w.FirstDate.Format(time.DateOnly), w.LastDate.Format(time.DateOnly),
						want.WindowIndex, want.Start, want.End, want.FirstDate, want.LastDate)
				}
			}
		})
	}
	if checked != 49 {
		t.Errorf("checked %d runnable cases, want the fixture's 49", checked)
	}
}
