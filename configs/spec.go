// Package configs reads Jetstream experiment configurations in metric-hub's TOML format and
// resolves them, with an experiment's Experimenter record, into the analysis to run: which
// metrics in which periods, their rendered SQL, data sources and statistics.
package configs

import "time"

// Spec is one configuration file as written (before resolution).
type Spec struct {
	File        string
	Experiment  ExperimentSpec
	PeriodLists map[Period][]string
	Metrics     map[string]*MetricSpec
	DataSources map[string]*DataSourceSpec

	pos positions
}

// ExperimentSpec holds the [experiment] overrides of Experimenter's values.
type ExperimentSpec struct {
	StartDate        time.Time // zero when not set
	EndDate          time.Time // zero when not set
	EnrollmentPeriod *int
	ReferenceBranch  string
	Skip             bool
}

// MetricSpec is a [metrics.<name>] table.
type MetricSpec struct {
	Name             string
	SelectExpression string
	DataSource       string
	FriendlyName     string
	Description      string
	BiggerIsBetter   *bool
	AnalysisBases    []string
	Statistics       []StatisticSpec
}

// StatisticSpec is a [metrics.<name>.statistics.<statistic>] table.
type StatisticSpec struct {
	Name          string
	Params        map[string]any // the table without pre_treatments; TOML integers are int64
	PreTreatments []PreTreatmentSpec
}

// PreTreatmentSpec is one entry of a statistic's pre_treatments list.
type PreTreatmentSpec struct {
	Name   string
	Params map[string]any
}

// DataSourceSpec is a [data_sources.<name>] table.
type DataSourceSpec struct {
	Name                  string
	FromExpression        string
	ClientIDColumn        string
	SubmissionDateColumn  string
	ExperimentsColumnType string
	FriendlyName          string
	Description           string
}

// Locate returns an *Error for key in this file, with the line of the key when known.
func (s *Spec) Locate(key string, err error) error {
	return &Error{File: s.File, Line: s.pos.line(key), Key: key, Err: err}
}
