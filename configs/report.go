package configs

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Report is a resolved configuration in the shape of the golden files
// (shared/golden/configs/README.md): what `show-config` prints.
type Report struct {
	Experiment     ReportExperiment            `json:"experiment"`
	Periods        map[string][]ReportMetric   `json:"periods"`
	DataSources    map[string]ReportDataSource `json:"data_sources"`
	Segments       []ReportSegment             `json:"segments"`
	ExposureSignal *ReportExposure             `json:"exposure_signal"`
}

// ReportExperiment is the resolved experiment.
type ReportExperiment struct {
	NormandySlug         string   `json:"normandy_slug"`
	AppName              string   `json:"app_name"`
	AppID                string   `json:"app_id"`
	Branches             []string `json:"branches"`
	StartDate            *string  `json:"start_date"`
	EndDate              *string  `json:"end_date"`
	Status               string   `json:"status"`
	EnrollmentPeriod     int      `json:"enrollment_period"`
	LastEnrollmentDate   *string  `json:"last_enrollment_date"`
	ReferenceBranch      string   `json:"reference_branch"`
	Skip                 bool     `json:"skip"`
	IsPrivate            bool     `json:"is_private"`
	DatasetID            *string  `json:"dataset_id"`
	SampleSize           *int     `json:"sample_size"`
	AnalysisUnit         string   `json:"analysis_unit"`
	EnrollmentsQueryType *string  `json:"enrollments_query_type"`
	EnrollmentQuery      *string  `json:"enrollment_query"`
	Segments             []string `json:"segments"`
}

// ReportMetric is one metric of a period with its statistics.
type ReportMetric struct {
	Metric              string            `json:"metric"`
	DataSource          *string           `json:"data_source"`
	SelectExpression    *string           `json:"select_expression"`
	SelectExpressionSQL string            `json:"select_expression_sql,omitempty"`
	AnalysisBases       []string          `json:"analysis_bases"`
	AnalysisUnits       []string          `json:"analysis_units"`
	Type                string            `json:"type"`
	BiggerIsBetter      bool              `json:"bigger_is_better"`
	DependsOn           []ReportUpstream  `json:"depends_on,omitempty"`
	Statistics          []ReportStatistic `json:"statistics"`
}

// ReportUpstream is an upstream metric of a derived metric.
type ReportUpstream struct {
	Metric           string  `json:"metric"`
	DataSource       *string `json:"data_source"`
	SelectExpression *string `json:"select_expression"`
}

// ReportStatistic is a statistic with its parameters as written.
type ReportStatistic struct {
	Name          string               `json:"name"`
	Params        map[string]any       `json:"params"`
	PreTreatments []ReportPreTreatment `json:"pre_treatments"`
}

// ReportPreTreatment is a pre-treatment with its arguments.
type ReportPreTreatment struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

// ReportDataSource is a resolved data source.
type ReportDataSource struct {
	FromExpression        string              `json:"from_expression"`
	FromExpressionSQL     string              `json:"from_expression_sql,omitempty"`
	ClientIDColumn        string              `json:"client_id_column"`
	SubmissionDateColumn  string              `json:"submission_date_column"`
	ExperimentsColumnType *string             `json:"experiments_column_type"`
	DefaultDataset        *string             `json:"default_dataset"`
	GroupIDColumn         string              `json:"group_id_column"`
	AnalysisUnits         []string            `json:"analysis_units"`
	GleanClientIDColumn   string              `json:"glean_client_id_column,omitempty"`
	LegacyClientIDColumn  string              `json:"legacy_client_id_column,omitempty"`
	Joins                 map[string]JoinSpec `json:"joins,omitempty"`
}

// ReportSegment is a resolved segment.
type ReportSegment struct {
	Name             string                  `json:"name"`
	SelectExpression string                  `json:"select_expression"`
	FriendlyName     *string                 `json:"friendly_name"`
	DataSource       ReportSegmentDataSource `json:"data_source"`
}

// ReportSegmentDataSource is a resolved segment data source.
type ReportSegmentDataSource struct {
	Name                 string `json:"name"`
	FromExpression       string `json:"from_expression"`
	FromExpressionSQL    string `json:"from_expression_sql,omitempty"`
	WindowStart          int    `json:"window_start"`
	WindowEnd            int    `json:"window_end"`
	ClientIDColumn       string `json:"client_id_column"`
	SubmissionDateColumn string `json:"submission_date_column"`
	GroupIDColumn        string `json:"group_id_column"`
}

// ReportExposure is a resolved exposure signal.
type ReportExposure struct {
	Name             string  `json:"name"`
	DataSource       string  `json:"data_source"`
	SelectExpression string  `json:"select_expression"`
	FriendlyName     *string `json:"friendly_name"`
	WindowStart      any     `json:"window_start"`
	WindowEnd        any     `json:"window_end"`
	// DataSourceSQL is set when the exposure query reads another table than the metrics
	// query (it formats {dataset} with the data source's default_dataset).
	DataSourceSQL string `json:"data_source_from_expression_sql,omitempty"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func datePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return strPtr(t.Format(time.DateOnly))
}

// Report renders a resolved analysis in the golden files' shape.
func (a *Analysis) Report() *Report {
	r := &Report{Periods: map[string][]ReportMetric{}, DataSources: map[string]ReportDataSource{}, Segments: []ReportSegment{}}
	e := &r.Experiment
	*e = ReportExperiment{
		NormandySlug: a.Slug, AppName: a.AppName, AppID: a.AppID, Branches: a.Branches,
		StartDate: datePtr(a.StartDate), EndDate: datePtr(a.EndDate), Status: a.Status,
		EnrollmentPeriod: a.EnrollmentPeriod, ReferenceBranch: a.ReferenceBranch, Skip: a.Skip,
		IsPrivate: a.IsPrivate, DatasetID: strPtr(a.DatasetID), AnalysisUnit: a.AnalysisUnit,
		EnrollmentsQueryType: strPtr(a.EnrollmentsQueryType), EnrollmentQuery: strPtr(a.EnrollmentQuery),
		Segments: []string{},
	}
	if !a.StartDate.IsZero() {
		e.LastEnrollmentDate = datePtr(a.StartDate.AddDate(0, 0, a.EnrollmentPeriod))
	}
	if a.SampleSize != 0 {
		n := a.SampleSize
		e.SampleSize = &n
	}
	for _, s := range a.Segments {
		e.Segments = append(e.Segments, s.Name)
	}
	for _, p := range Periods {
		byName := map[string]*ReportMetric{}
		var names []string
		for _, sum := range a.Summaries[p] {
			m := sum.Metric
			rm, ok := byName[m.Name]
			if !ok {
				rm = &ReportMetric{Metric: m.Name, DataSource: strPtr(m.DataSource), AnalysisBases: m.AnalysisBases,
					AnalysisUnits: m.AnalysisUnits, Type: m.Type, BiggerIsBetter: m.BiggerIsBetter}
				if m.DataSource != "" {
					rm.SelectExpression = &m.Rendered
					if m.SelectExpression != m.Rendered {
						rm.SelectExpressionSQL = m.SelectExpression
					}
				}
				for _, u := range m.DependsOn {
					up := ReportUpstream{Metric: u.Name, DataSource: strPtr(u.DataSource)}
					if u.DataSource != "" {
						up.SelectExpression = &u.Rendered
					}
					rm.DependsOn = append(rm.DependsOn, up)
				}
				byName[m.Name] = rm
				names = append(names, m.Name)
			}
			st := ReportStatistic{Name: sum.Statistic.Name, Params: pyValues(sum.Statistic.Params), PreTreatments: []ReportPreTreatment{}}
			for _, pt := range sum.Statistic.PreTreatments {
				st.PreTreatments = append(st.PreTreatments, ReportPreTreatment{Name: pt.Name, Args: pyValues(pt.Params)})
			}
			rm.Statistics = append(rm.Statistics, st)
		}
		sort.Strings(names)
		list := []ReportMetric{}
		for _, n := range names {
			rm := byName[n]
			sort.SliceStable(rm.Statistics, func(i, j int) bool { return rm.Statistics[i].Name < rm.Statistics[j].Name })
			list = append(list, *rm)
		}
		r.Periods[string(p)] = list
	}
	for name, ds := range a.DataSources {
		rd := ReportDataSource{
			FromExpression: ds.Rendered, ClientIDColumn: ds.ClientIDColumn, SubmissionDateColumn: ds.SubmissionDateColumn,
			DefaultDataset: strPtr(ds.DefaultDataset), GroupIDColumn: ds.GroupIDColumn, AnalysisUnits: ds.AnalysisUnits,
			GleanClientIDColumn: ds.GleanClientIDColumn, LegacyClientIDColumn: ds.LegacyClientIDColumn, Joins: ds.Joins,
		}
		if ds.ExperimentsColumnType != "none" {
			rd.ExperimentsColumnType = strPtr(ds.ExperimentsColumnType)
		}
		if ds.FromExpression != ds.Rendered {
			rd.FromExpressionSQL = ds.FromExpression
		}
		r.DataSources[name] = rd
	}
	for _, s := range a.Segments {
		rs := ReportSegment{Name: s.Name, SelectExpression: s.SelectExpression, FriendlyName: strPtr(s.FriendlyName),
			DataSource: ReportSegmentDataSource{Name: s.DataSource.Name, FromExpression: s.DataSource.Rendered,
				WindowStart: s.DataSource.WindowStart, WindowEnd: s.DataSource.WindowEnd, ClientIDColumn: s.DataSource.ClientIDColumn,
				SubmissionDateColumn: s.DataSource.SubmissionDateColumn, GroupIDColumn: s.DataSource.GroupIDColumn}}
		if s.DataSource.FromExpression != s.DataSource.Rendered {
			rs.DataSource.FromExpressionSQL = s.DataSource.FromExpression
		}
		r.Segments = append(r.Segments, rs)
	}
	if x := a.Exposure; x != nil {
		r.ExposureSignal = &ReportExposure{Name: x.Name, DataSource: x.DataSource, SelectExpression: x.SelectExpression,
			FriendlyName: strPtr(x.FriendlyName), WindowStart: x.WindowStart, WindowEnd: x.WindowEnd}
		if ds := a.DataSources[x.DataSource]; ds != nil && x.FromExpression != ds.FromExpression {
			r.ExposureSignal.DataSourceSQL = x.FromExpression
		}
	}
	return r
}

// JSON renders the report with Python-style floats (0.0, 1e-07), as the golden files do.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// pyFloat marshals like Python's repr of a float.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return []byte(s), nil
}

func pyValues(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = pyValue(v)
	}
	return out
}

func pyValue(v any) any {
	switch x := v.(type) {
	case float64:
		return pyFloat(x)
	case map[string]any:
		return pyValues(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pyValue(e)
		}
		return out
	}
	return v
}
