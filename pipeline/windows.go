// Package pipeline plans an analysis (which experiments, periods and windows are due on
// which dates) and builds the Beam graph that computes it.
package pipeline

import (
	"fmt"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// Window is one analysis window that closes on a date: mozanalysis' TimeLimits for one
// period, reduced to the newest window (Jetstream computes only that one each day).
type Window struct {
	Period configs.Period
	Index  int // 1-based window number (the statistics table suffix)
	Start  int // first day, relative to each client's enrollment (or exposure) date
	End    int // last day, inclusive
	// FirstDate and LastDate bound the data the window needs, over all clients:
	// first enrollment date + Start through last enrollment date + End.
	FirstDate time.Time
	LastDate  time.Time
	Date      time.Time // the analysis date on which the window closed
}

// Length is the number of days in the window (the analysis period length pre-treatments use).
func (w Window) Length() int { return w.End - w.Start + 1 }

// Dates of an experiment, derived as Jetstream derives them.
type Dates struct {
	Start            time.Time // S: first enrollment date
	EnrollmentPeriod int       // E
	LastEnrollment   time.Time // L = S + E (Jetstream's num_dates_enrollment is E + 1)
	End              time.Time // zero while live
	Complete         bool
}

// DatesOf computes the experiment's dates, or the reason it cannot be analysed.
func DatesOf(a *configs.Analysis) (Dates, error) {
	if a.StartDate.IsZero() {
		return Dates{}, fmt.Errorf("experiment %q has no start date", a.Slug)
	}
	if a.EnrollmentPeriod <= 0 {
		return Dates{}, fmt.Errorf("experiment %q has no enrollment period (enrollment not complete and no [experiment] enrollment_period override)", a.Slug)
	}
	return Dates{
		Start:            a.StartDate,
		EnrollmentPeriod: a.EnrollmentPeriod,
		LastEnrollment:   a.StartDate.AddDate(0, 0, a.EnrollmentPeriod),
		End:              a.EndDate,
		Complete:         a.Status == experimenter.StatusComplete,
	}, nil
}

// DueOn lists the windows of the given periods that close on date d, in period order.
// It mirrors Jetstream's _get_timelimits_if_ready:
//   - day/week/days28 (length p): with n = d − L + 1 days since the last enrollment date,
//     ready when n ≥ p and n is a multiple of p; window k = n/p covers [(k−1)p, kp − 1];
//   - overall: only on the end date of a complete experiment, window [0, len − 1] with
//     len = (end − S) − (E + 1) + 1 (a *Refusal when len ≤ 0);
//   - preenrollment_week / preenrollment_days28: only on S + E + 1, windows [−7, −1] / [−28, −1].
func (ds Dates) DueOn(d time.Time, periods []configs.Period) ([]Window, error) {
	var out []Window
	for _, p := range periods {
		w, ok, err := ds.window(p, d)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, w)
		}
	}
	return out, nil
}

func (ds Dates) window(p configs.Period, d time.Time) (Window, bool, error) {
	if !ds.End.IsZero() && d.After(ds.End) {
		return Window{}, false, nil
	}
	n := experimenter.Days(ds.LastEnrollment, d) + 1
	switch p {
	case configs.Day, configs.Week, configs.Days28:
		length := map[configs.Period]int{configs.Day: 1, configs.Week: 7, configs.Days28: 28}[p]
		if n < length || n%length != 0 {
			return Window{}, false, nil
		}
		k := n / length
		return ds.make(p, k, (k-1)*length, k*length-1, d), true, nil
	case configs.Overall:
		if ds.End.IsZero() || !ds.Complete || !d.Equal(ds.End) {
			return Window{}, false, nil
		}
		length := experimenter.Days(ds.Start, ds.End) - (ds.EnrollmentPeriod + 1) + 1
		if length < 0 {
			return Window{}, false, &Refusal{Reason: ReasonEnrollmentLongerThanAnalysis, Message: fmt.Sprintf(
				"the enrollment period (%d days from %s) ends after the experiment's end date %s",
				ds.EnrollmentPeriod, ds.Start.Format(time.DateOnly), ds.End.Format(time.DateOnly))}
		}
		if length == 0 {
			// mozanalysis fails an assertion on AnalysisWindow(0, -1); Jetstream reports the run as failed.
			return Window{}, false, &Refusal{Reason: ReasonEmptyOverallWindow, Failure: true, Message: fmt.Sprintf(
				"the overall window would be empty: the experiment ends (%s) on the day after its last enrollment date (%s)",
				ds.End.Format(time.DateOnly), ds.LastEnrollment.Format(time.DateOnly))}
		}
		return ds.make(p, 1, 0, length-1, d), true, nil
	case configs.PreenrollmentWeek, configs.PreenrollmentDays28:
		if !d.Equal(ds.LastEnrollment.AddDate(0, 0, 1)) {
			return Window{}, false, nil
		}
		days := map[configs.Period]int{configs.PreenrollmentWeek: 7, configs.PreenrollmentDays28: 28}[p]
		return ds.make(p, 1, -days, -1, d), true, nil
	}
	return Window{}, false, fmt.Errorf("unknown analysis period %q", p)
}

func (ds Dates) make(p configs.Period, index, start, end int, d time.Time) Window {
	return Window{
		Period:    p,
		Index:     index,
		Start:     start,
		End:       end,
		FirstDate: ds.Start.AddDate(0, 0, start),
		LastDate:  ds.LastEnrollment.AddDate(0, 0, end),
		Date:      d,
	}
}
