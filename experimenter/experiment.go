// Package experimenter reads experiment records in the shape of Experimenter's v8 REST API
// (GET /api/v8/experiments/) and converts them into the Experiment Jetstream analyses.
//
// The reader is strict where Jetstream's Python client is lax: a wrongly typed field is an
// error naming the record and the field, never a silent coercion.
package experimenter

import (
	"time"
)

// Status of an experiment, as Jetstream derives it.
const (
	StatusLive     = "Live"
	StatusComplete = "Complete"
)

// Branch is one arm of an experiment.
type Branch struct {
	Slug  string
	Ratio int
}

// Experiment is what the analysis needs to know about one experiment.
// Dates are UTC midnight; a zero time means "not known".
type Experiment struct {
	Slug               string
	NormandySlug       string
	AppName            string
	AppID              string
	Branches           []Branch
	ReferenceBranch    string
	StartDate          time.Time
	EnrollmentEndDate  time.Time
	EndDate            time.Time
	ProposedEnrollment int
	IsRollout          bool
	IsEnrollmentPaused bool
	Outcomes           []string
	Segments           []string
	Status             string
}

// BranchNames lists the branch slugs in Experimenter's order.
func (e Experiment) BranchNames() []string {
	names := make([]string, len(e.Branches))
	for i, b := range e.Branches {
		names[i] = b.Slug
	}
	return names
}

// EnrollmentPeriod is the number of enrollment days Jetstream uses when the config does not
// override it: (enrollmentEndDate − startDate) + 1 when both are known, else proposedEnrollment.
func (e Experiment) EnrollmentPeriod() int {
	if !e.StartDate.IsZero() && !e.EnrollmentEndDate.IsZero() {
		return Days(e.StartDate, e.EnrollmentEndDate) + 1
	}
	return e.ProposedEnrollment
}

// Days is the whole number of days from a to b (b − a).
func Days(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
