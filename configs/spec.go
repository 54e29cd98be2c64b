// Package configs reads Jetstream experiment configurations in metric-hub's TOML format and
// resolves them, with an experiment's Experimenter record, into the analysis to run: which
// metrics in which periods, their rendered SQL, data sources and statistics.
//
// The resolution follows Mozilla's metric-config-parser: platform defaults, then the
// experiment file, then its outcomes, with names looked up in the merged spec and then in
// the platform definitions (see COMPATIBILITY.md for the few deliberate differences).
package configs

import "time"

// Spec is one configuration file as written (before resolution): an experiment config, an
// outcome, a defaults file or a definitions file.
type Spec struct {
	File         string
	FriendlyName string // outcomes only
	Description  string // outcomes only
	Experiment   ExperimentSpec
	PeriodLists  map[Period][]string
	Metrics      map[string]*MetricSpec
	DataSources  map[string]*DataSourceSpec
	Segments     map[string]*SegmentSpec
	SegmentData  map[string]*SegmentDataSourceSpec // [segments.data_sources.NAME]
	Parameters   map[string]*ParameterSpec
	Functions    Functions // [functions.NAME] (functions.toml only)

	pos positions
	doc map[string]any // the decoded document, for Validate's key checks
}

// ExperimentSpec holds the [experiment] overrides of Experimenter's values.
type ExperimentSpec struct {
	StartDate            time.Time // zero when not set
	EndDate              time.Time // zero when not set
	EnrollmentPeriod     *int
	ReferenceBranch      string
	Skip                 bool
	Segments             []string
	Outcomes             []string
	EnrollmentQuery      string
	EnrollmentsQueryType string
	SampleSize           *int
	AnalysisUnit         string
	IsPrivate            bool
	DatasetID            string
	ExposureSignal       *ExposureSignalSpec
}

// ExposureSignalSpec is [experiment.exposure_signal].
type ExposureSignalSpec struct {
	Name             string
	DataSource       string
	SelectExpression string
	FriendlyName     string
	Description      string
	WindowStart      any // nil, int64 or one of the window names
	WindowEnd        any
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
	AnalysisUnits    []string
	Type             string
	Category         string
	DependsOn        []string
	Owner            []string
	Deprecated       bool
	Level            string
	Statistics       []StatisticSpec // nil: none written; sorted by name
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
	DefaultDataset        string
	BuildIDColumn         string
	FriendlyName          string
	Description           string
	Joins                 map[string]JoinSpec
	ColumnsAsDimensions   bool
	AnalysisUnits         []string
	GroupIDColumn         string
	GleanClientIDColumn   string
	LegacyClientIDColumn  string
}

// JoinSpec is a [data_sources.<name>.joins.<other>] table.
type JoinSpec struct {
	Relationship string
	OnExpression string
}

// SegmentSpec is a [segments.<name>] table.
type SegmentSpec struct {
	Name             string
	DataSource       string
	SelectExpression string
	FriendlyName     string
	Description      string
}

// SegmentDataSourceSpec is a [segments.data_sources.<name>] table.
type SegmentDataSourceSpec struct {
	Name                 string
	FromExpression       string
	WindowStart          int
	WindowEnd            int
	ClientIDColumn       string
	SubmissionDateColumn string
	DefaultDataset       string
	GroupIDColumn        string
	GleanClientIDColumn  string
	LegacyClientIDColumn string
}

// ParameterSpec is a [parameters.<name>] table. Value and Default are a string or a
// map[string]string (branch → value).
type ParameterSpec struct {
	Name             string
	FriendlyName     string
	Description      string
	Value            any
	Default          any
	DistinctByBranch bool
}

// Locate returns an *Error for key in this file, with the line of the key when known.
func (s *Spec) Locate(key string, err error) error {
	if s == nil {
		return &Error{Key: key, Err: err}
	}
	return &Error{File: s.File, Line: s.pos.line(key), Key: key, Err: err}
}

func newSpec(name string) *Spec {
	return &Spec{
		File:        name,
		PeriodLists: map[Period][]string{},
		Metrics:     map[string]*MetricSpec{},
		DataSources: map[string]*DataSourceSpec{},
		Segments:    map[string]*SegmentSpec{},
		SegmentData: map[string]*SegmentDataSourceSpec{},
		Parameters:  map[string]*ParameterSpec{},
	}
}
