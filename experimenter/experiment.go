// Package experimenter reads experiments from Experimenter's v8 REST API and converts them
// into the Experiment Jetstream analyses.
//
// Two layers:
//
//   - ParseList and Parse convert response bodies (GET /api/v8/experiments/, the draft list,
//     or one record from a detail endpoint). They are pure functions of the bytes and a clock,
//     so files on disk and HTTP responses go through the same rules.
//   - Client fetches those bodies over HTTP with Jetstream's retry policy (a few attempts with
//     growing pauses) and hands them to ParseList.
//
// The reader is strict where Jetstream's Python client is lax: cattrs coerces scalars
// ("isRollout": "false" becomes true, "proposedEnrollment": 7.9 becomes 7), which silently
// changes what gets analysed. Here a wrongly typed field is a problem naming the record and
// the field. Like Jetstream, a bad record only costs that record: ParseList keeps the others.
package experimenter

import (
	"time"
)

// Status of an experiment, as Jetstream derives it.
const (
	StatusLive     = "Live"
	StatusComplete = "Complete"
)

// TypeV6 is Jetstream's experiment type for every Nimbus (v8 API) record; its executor only
// analyses experiments of this type.
const TypeV6 = "v6"

// Analysis units, the column enrollments and metrics are keyed by.
const (
	AnalysisUnitClient       = "client_id"
	AnalysisUnitProfileGroup = "profile_group_id"
)

// DefaultBucketTotal is bucketConfig.total when Experimenter leaves it out.
const DefaultBucketTotal = 10000

// Branch is one arm of an experiment.
type Branch struct {
	Slug  string
	Ratio int
}

// BucketConfig is how Nimbus assigns clients to the experiment: Count of Total buckets,
// starting at Start, in Namespace, hashed on RandomizationUnit (normandy_id, nimbus_id,
// user_id or group_id).
type BucketConfig struct {
	RandomizationUnit string
	Namespace         string
	Start             int
	Count             int
	Total             int
}

// Experiment is what the analysis needs to know about one experiment.
// Dates are UTC midnight; a zero time means "not known" (null in Experimenter).
type Experiment struct {
	Slug               string
	NormandySlug       string
	Type               string // TypeV6 for every record read from the v8 API
	AppName            string
	AppID              string
	Branches           []Branch
	ReferenceBranch    string // "" when Experimenter sends null
	StartDate          time.Time
	EnrollmentEndDate  time.Time
	EndDate            time.Time
	ProposedEnrollment int
	BucketConfig       BucketConfig
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

// SmallestBranchShare is the smallest branch's share of the clients, from the branch
// ratios: 1/len(Branches) when the ratios are missing (all 0), 1 without branches.
func (e Experiment) SmallestBranchShare() float64 {
	if len(e.Branches) == 0 {
		return 1
	}
	total, smallest := 0, e.Branches[0].Ratio
	for _, b := range e.Branches {
		total += b.Ratio
		smallest = min(smallest, b.Ratio)
	}
	if total <= 0 || smallest < 0 {
		return 1 / float64(len(e.Branches))
	}
	return float64(smallest) / float64(total)
}

// EnrollmentPeriod is the number of enrollment days Jetstream uses when the config does not
// override it: (enrollmentEndDate − startDate) + 1 when both are known, else proposedEnrollment.
func (e Experiment) EnrollmentPeriod() int {
	if !e.StartDate.IsZero() && !e.EnrollmentEndDate.IsZero() {
		return Days(e.StartDate, e.EnrollmentEndDate) + 1
	}
	return e.ProposedEnrollment
}

// AnalysisUnit is the unit Jetstream analyses by default: profile_group_id when Nimbus
// randomised by profile group (randomizationUnit "group_id"), because then every profile of
// a group shares a branch and the group is the independent unit; client_id otherwise.
func (e Experiment) AnalysisUnit() string {
	if e.BucketConfig.RandomizationUnit == "group_id" {
		return AnalysisUnitProfileGroup
	}
	return AnalysisUnitClient
}

// Days is the whole number of days from a to b (b − a).
func Days(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
