package configs

import (
	"fmt"
	"slices"
	"time"

	"github.com/jetstream-beam/jetstream/experimenter"
)

// Analysis is a resolved configuration: everything the planner and the pipeline need to
// analyse one experiment.
type Analysis struct {
	Slug             string // Experimenter (normandy) slug
	AppName          string
	Branches         []string
	ReferenceBranch  string
	StartDate        time.Time
	EndDate          time.Time // zero while the experiment is live
	EnrollmentPeriod int       // days; 0 when unknown
	Status           string    // experimenter.StatusLive or StatusComplete
	Skip             bool

	Metrics     map[string]*Metric
	Periods     map[Period][]string // metric names per period, in config order
	DataSources map[string]*DataSource

	Source *Spec // the file it came from, to locate later errors
}

// Metric is a resolved metric: SQL rendered, data source and statistics known.
type Metric struct {
	Name             string
	FriendlyName     string
	Description      string
	SelectExpression string // rendered SQL aggregate over the data source's rows
	DataSource       string
	BiggerIsBetter   bool
	AnalysisBases    []string
	Statistics       []StatisticSpec
}

// DataSource is a resolved data source with defaults applied.
type DataSource struct {
	Name                  string
	FromExpression        string
	ClientIDColumn        string
	SubmissionDateColumn  string
	ExperimentsColumnType string // simple, native, glean, events_stream or none
}

var experimentsColumnTypes = map[string]bool{"simple": true, "native": true, "glean": true, "events_stream": true, "none": true}

// Resolve merges the experiment's Experimenter record with its configuration file and checks
// that every metric, data source and statistic named can be used.
func Resolve(s *Spec, exp experimenter.Experiment) (*Analysis, error) {
	a := &Analysis{
		Slug:             exp.NormandySlug,
		AppName:          exp.AppName,
		Branches:         exp.BranchNames(),
		ReferenceBranch:  exp.ReferenceBranch,
		StartDate:        exp.StartDate,
		EndDate:          exp.EndDate,
		EnrollmentPeriod: exp.EnrollmentPeriod(),
		Status:           exp.Status,
		Skip:             s.Experiment.Skip,
		Metrics:          map[string]*Metric{},
		Periods:          map[Period][]string{},
		DataSources:      map[string]*DataSource{},
		Source:           s,
	}
	if err := a.applyOverrides(s); err != nil {
		return nil, err
	}
	fns := DefaultFunctions()
	for _, period := range Periods {
		key := listKeyOf(period)
		for _, name := range s.PeriodLists[period] {
			if _, done := a.Metrics[name]; !done {
				m, err := resolveMetric(s, fns, name, a.Slug, "metrics."+key)
				if err != nil {
					return nil, err
				}
				a.Metrics[name] = m
				if err := a.addDataSource(s, m); err != nil {
					return nil, err
				}
			}
			if !slices.Contains(a.Periods[period], name) {
				a.Periods[period] = append(a.Periods[period], name)
			}
		}
	}
	return a, nil
}

func (a *Analysis) applyOverrides(s *Spec) error {
	o := s.Experiment
	if !o.StartDate.IsZero() {
		a.StartDate = o.StartDate
	}
	if !o.EndDate.IsZero() {
		a.EndDate = o.EndDate
		a.Status = experimenter.StatusComplete // an explicit end date makes the experiment complete
	}
	if o.EnrollmentPeriod != nil {
		if *o.EnrollmentPeriod < 0 {
			return s.Locate("experiment.enrollment_period", fmt.Errorf("must not be negative, got %d", *o.EnrollmentPeriod))
		}
		a.EnrollmentPeriod = *o.EnrollmentPeriod
	}
	if o.ReferenceBranch != "" {
		a.ReferenceBranch = o.ReferenceBranch
	}
	if a.ReferenceBranch != "" && len(a.Branches) > 0 && !slices.Contains(a.Branches, a.ReferenceBranch) {
		return s.Locate("experiment.reference_branch", fmt.Errorf("branch %q is not one of the experiment's branches %v", a.ReferenceBranch, a.Branches))
	}
	if !a.EndDate.IsZero() && !a.StartDate.IsZero() && a.EndDate.Before(a.StartDate) {
		return s.Locate("experiment.end_date", fmt.Errorf("end date %s is before the start date %s", a.EndDate.Format(time.DateOnly), a.StartDate.Format(time.DateOnly)))
	}
	return nil
}

func resolveMetric(s *Spec, fns Functions, name, slug, listKey string) (*Metric, error) {
	ms, ok := s.Metrics[name]
	if !ok {
		return nil, s.Locate(listKey, fmt.Errorf("metric %q is not defined (no [metrics.%s] table)", name, name))
	}
	path := "metrics." + name
	if ms.SelectExpression == "" {
		return nil, s.Locate(path, fmt.Errorf("metric %q has no select_expression", name))
	}
	if ms.DataSource == "" {
		return nil, s.Locate(path, fmt.Errorf("metric %q has no data_source", name))
	}
	if len(ms.Statistics) == 0 {
		return nil, s.Locate(path, fmt.Errorf("no statistical treatment defined for metric %q", name))
	}
	sql, err := fns.RenderSelect(ms.SelectExpression, slug)
	if err != nil {
		return nil, s.Locate(path+".select_expression", err)
	}
	m := &Metric{
		Name:             name,
		FriendlyName:     ms.FriendlyName,
		Description:      ms.Description,
		SelectExpression: sql,
		DataSource:       ms.DataSource,
		BiggerIsBetter:   ms.BiggerIsBetter == nil || *ms.BiggerIsBetter,
		AnalysisBases:    ms.AnalysisBases,
		Statistics:       ms.Statistics,
	}
	if len(m.AnalysisBases) == 0 {
		m.AnalysisBases = []string{"enrollments", "exposures"}
	}
	return m, nil
}

func (a *Analysis) addDataSource(s *Spec, m *Metric) error {
	if _, ok := a.DataSources[m.DataSource]; ok {
		return nil
	}
	ds, ok := s.DataSources[m.DataSource]
	if !ok {
		return s.Locate("metrics."+m.Name+".data_source", fmt.Errorf("data source %q is not defined (no [data_sources.%s] table)", m.DataSource, m.DataSource))
	}
	path := "data_sources." + ds.Name
	if ds.FromExpression == "" {
		return s.Locate(path, fmt.Errorf("data source %q has no from_expression", ds.Name))
	}
	r := &DataSource{
		Name:                  ds.Name,
		FromExpression:        ds.FromExpression,
		ClientIDColumn:        orDefault(ds.ClientIDColumn, "client_id"),
		SubmissionDateColumn:  orDefault(ds.SubmissionDateColumn, "submission_date"),
		ExperimentsColumnType: orDefault(ds.ExperimentsColumnType, "simple"),
	}
	if !experimentsColumnTypes[r.ExperimentsColumnType] {
		return s.Locate(path+".experiments_column_type", fmt.Errorf("unknown experiments_column_type %q (want simple, native, glean, events_stream or none)", r.ExperimentsColumnType))
	}
	a.DataSources[r.Name] = r
	return nil
}

func listKeyOf(p Period) string {
	for k, v := range listKeys {
		if v == p {
			return k
		}
	}
	return string(p)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
