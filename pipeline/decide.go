package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// Outcome of one experiment on one analysis date.
type Outcome string

// The outcomes: analysed (possibly with no window due that day), skipped (a rule says not
// to analyse it, as Jetstream's ValidationExceptions do), failed (an error Jetstream counts
// as a failed run).
const (
	Analysed Outcome = "analysed"
	Skipped  Outcome = "skipped"
	Failed   Outcome = "failed"
)

// Reasons are Jetstream's exception names, so that operators can match what they know.
// ReasonUnsupportedType and ReasonConfig have no Jetstream exception of their own: Jetstream's
// executor drops those experiments with a log line.
const (
	ReasonNoSlug                       = "NoSlugException"
	ReasonExplicitSkip                 = "ExplicitSkipException"
	ReasonNoEnrollmentPeriod           = "NoEnrollmentPeriodException"
	ReasonNoStartDate                  = "NoStartDateException"
	ReasonEnded                        = "EndedException"
	ReasonRollout                      = "RolloutSkipException"
	ReasonUnsupportedApplication       = "UnsupportedApplicationException"
	ReasonEnrollmentNotComplete        = "EnrollmentNotCompleteException"
	ReasonEnrollmentLongerThanAnalysis = "EnrollmentLongerThanAnalysisException"
	ReasonEmptyOverallWindow           = "AssertionError"
	ReasonUnsupportedType              = "UnsupportedTypeException"
	ReasonConfig                       = "ConfigException"
)

// Refusal is why an experiment is not analysed on a date.
type Refusal struct {
	Reason  string // Jetstream's exception name
	Failure bool   // Jetstream counts it as a failed run (not a validation skip)
	Message string // for people, with the dates involved
}

func (r *Refusal) Error() string { return r.Reason + ": " + r.Message }

// Decision is what happens to one experiment on one analysis date, and why.
type Decision struct {
	Slug    string
	Date    time.Time
	Outcome Outcome
	Reason  string // Jetstream's exception name; "" when analysed
	Message string
	// Analysis is the resolved configuration; nil when the experiment was dropped before its
	// config was resolved, or the config failed.
	Analysis *configs.Analysis
	// Experiment is the Experimenter record the decision is about.
	Experiment experimenter.Experiment
	Dates      Dates    // known once the experiment passed the date checks
	Windows    []Window // the windows computed on Date (analysed only)
	// EnrollmentsTable: the run writes enrollments_<slug> if it is absent (the checks passed
	// and the day period is ready), even when a period is then refused.
	EnrollmentsTable bool
}

// nimbusTypes are the experiment types Jetstream's daily run selects (every Nimbus
// experiment is "v6"; the others are legacy Normandy types).
var nimbusTypes = []string{"pref", "addon", "message", "v6"}

// daysKeptAfterEnd is how long after its end date an experiment is still considered by
// the daily run (Jetstream's ended_after_or_live(D − 90 days)).
const daysKeptAfterEnd = 90

// SelectDaily applies the filters of Jetstream's daily executor, which run before any
// config is resolved: the experiment ended less than 90 days before d or is live, is of a
// supported type and is not a rollout. It returns the refusal, or nil when selected.
func SelectDaily(e experimenter.Experiment, d time.Time) *Refusal {
	horizon := d.AddDate(0, 0, -daysKeptAfterEnd)
	switch {
	case e.Status != experimenter.StatusLive && e.Status != experimenter.StatusComplete:
		return &Refusal{Reason: ReasonEnded, Message: fmt.Sprintf("status %q is neither Live nor Complete", e.Status)}
	case e.EndDate.IsZero() && e.Status != experimenter.StatusLive:
		return &Refusal{Reason: ReasonEnded, Message: "complete without an end date"}
	case !e.EndDate.IsZero() && e.EndDate.Before(horizon):
		return &Refusal{Reason: ReasonEnded, Message: fmt.Sprintf("ended on %s, more than %d days before %s: the daily run no longer considers it",
			dateString(e.EndDate), daysKeptAfterEnd, dateString(d))}
	case e.Type != "" && !slices.Contains(nimbusTypes, e.Type):
		return &Refusal{Reason: ReasonUnsupportedType, Message: fmt.Sprintf("type %q is not analysed (only %v)", e.Type, nimbusTypes)}
	case e.IsRollout:
		return &Refusal{Reason: ReasonRollout, Message: "rollouts are not analysed"}
	}
	return nil
}

// Decide runs Jetstream's per-run checks (Analysis.check_runnable, then the enrollment
// check) for the resolved analysis a of experiment e on date d, in Jetstream's order, and
// when they pass, finds the windows of the configured periods (among periods) that close on d.
func Decide(a *configs.Analysis, e experimenter.Experiment, d time.Time, periods []configs.Period) Decision {
	dec := Decision{Slug: a.Slug, Date: d, Analysis: a, Experiment: e}
	if r := check(a, e, d); r != nil {
		return dec.refuse(r)
	}
	dates, err := DatesOf(a)
	if err != nil { // unreachable after check; kept so that a future rule cannot panic here
		return dec.refuse(&Refusal{Reason: ReasonNoEnrollmentPeriod, Message: err.Error()})
	}
	dec.Dates = dates
	dayReady, _ := dates.DueOn(d, []configs.Period{configs.Day})
	dec.EnrollmentsTable = len(dayReady) > 0
	var configured []configs.Period
	for _, p := range periods {
		if len(a.Periods[p]) > 0 {
			configured = append(configured, p)
		}
	}
	windows, err := dates.DueOn(d, configured)
	if err != nil {
		var r *Refusal
		if !errors.As(err, &r) {
			r = &Refusal{Reason: "Error", Failure: true, Message: err.Error()}
		}
		return dec.refuse(r)
	}
	dec.Outcome = Analysed
	dec.Windows = windows
	if len(windows) == 0 {
		dec.Message = nothingDue(dates, d)
	}
	return dec
}

func (dec Decision) refuse(r *Refusal) Decision {
	dec.Outcome, dec.Reason, dec.Message = Skipped, r.Reason, r.Message
	if r.Failure {
		dec.Outcome = Failed
	}
	return dec
}

// check is Analysis.check_runnable followed by the enrollment-complete condition of
// Analysis.run.
func check(a *configs.Analysis, e experimenter.Experiment, d time.Time) *Refusal {
	switch {
	case a.Slug == "":
		return &Refusal{Reason: ReasonNoSlug, Message: "the experiment has no slug"}
	case a.Skip:
		return &Refusal{Reason: ReasonExplicitSkip, Message: "the config sets skip = true"}
	case a.EnrollmentPeriod <= 0:
		return &Refusal{Reason: ReasonNoEnrollmentPeriod, Message: fmt.Sprintf(
			"the enrollment period is %d days (%s); set [experiment] enrollment_period in the config", a.EnrollmentPeriod, periodSource(a))}
	case a.StartDate.IsZero():
		return &Refusal{Reason: ReasonNoStartDate, Message: "the experiment has no start date (not launched yet?)"}
	case !a.EndDate.IsZero() && a.EndDate.Before(d):
		return &Refusal{Reason: ReasonEnded, Message: fmt.Sprintf("ended on %s, before %s", dateString(a.EndDate), dateString(d))}
	case e.IsRollout:
		return &Refusal{Reason: ReasonRollout, Message: "rollouts are not analysed"}
	case !configs.IsAnalysedApplication(a.AppName):
		return &Refusal{Reason: ReasonUnsupportedApplication, Failure: true, Message: fmt.Sprintf(
			"application %q is not in the platform configuration", a.AppName)}
	case (e.Type == "" || e.Type == "v6") && e.EnrollmentEndDate.IsZero() && a.EnrollmentPeriodSource != "config":
		return &Refusal{Reason: ReasonEnrollmentNotComplete, Message: "Experimenter has no enrollment end date yet " +
			"(enrollment is still open); set [experiment] enrollment_period in the config to analyse it anyway"}
	}
	return nil
}

func periodSource(a *configs.Analysis) string {
	switch a.EnrollmentPeriodSource {
	case "":
		return "no enrollment end date, no proposed enrollment and no config override"
	case "enrollmentEndDate":
		return "Experimenter's enrollment end date is before the start date"
	}
	return "from " + a.EnrollmentPeriodSource
}

// nothingDue explains an analysed experiment with no window on d.
func nothingDue(ds Dates, d time.Time) string {
	switch {
	case d.Before(ds.Start):
		return fmt.Sprintf("starts on %s", dateString(ds.Start))
	case d.Before(ds.LastEnrollment):
		return fmt.Sprintf("still enrolling: the first daily window closes on %s (last enrollment date)", dateString(ds.LastEnrollment))
	}
	return "no window of a configured period closes on this date"
}

func dateString(t time.Time) string { return t.Format(time.DateOnly) }
