package configs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/experimenter"
)

// Analysis is a resolved configuration: everything the planner and the pipeline need to
// analyse one experiment.
type Analysis struct {
	Slug     string // Experimenter (normandy) slug
	AppName  string
	AppID    string
	Branches []string
	// SmallestBranchShare is the smallest branch's share of the clients (Experimenter's
	// ratios), which sizes what the pipeline keeps of a linear model's top pairs.
	SmallestBranchShare float64
	ReferenceBranch     string
	StartDate           time.Time
	EndDate             time.Time // zero while the experiment is live
	EnrollmentPeriod    int       // days; 0 when unknown
	// EnrollmentPeriodSource says where EnrollmentPeriod came from: "config" ([experiment]
	// enrollment_period), "enrollmentEndDate" (Experimenter's enrollment end − start + 1),
	// "proposedEnrollment", or "" when none is known.
	EnrollmentPeriodSource string
	Status                 string // experimenter.StatusLive or StatusComplete
	Skip                   bool

	SampleSize           int    // percentage of clients; 0 when not down-sampled
	AnalysisUnit         string // client_id or profile_group_id
	EnrollmentsQueryType string // empty: the platform's default
	EnrollmentQuery      string // rendered; empty when not overridden
	IsPrivate            bool
	DatasetID            string
	Outcomes             []string // outcome slugs applied

	Metrics     map[string]*Metric
	Periods     map[Period][]string  // metric names per period, in config order
	Summaries   map[Period][]Summary // (metric, statistic) pairs per period, as the reference resolves them
	DataSources map[string]*DataSource
	Segments    []*Segment
	Exposure    *ExposureSignal // nil: Jetstream's default exposure

	Source *Spec // the file it came from, to locate later errors
}

// Summary is a metric with one statistical treatment.
type Summary struct {
	Metric    *Metric
	Statistic StatisticSpec
}

// Metric is a resolved metric: SQL rendered, data source and statistics known.
type Metric struct {
	Name             string
	FriendlyName     string
	Description      string
	SelectExpression string // SQL: rendered, then {experiment_slug} substituted ("" for derived metrics)
	Rendered         string // after the template stage only (the reference parser's value)
	DataSource       string // "" for metrics derived from upstream metrics (depends_on)
	BiggerIsBetter   bool
	AnalysisBases    []string
	AnalysisUnits    []string
	Type             string
	DependsOn        []*Metric // upstream metrics
	Statistics       []StatisticSpec
}

// DataSource is a resolved data source with defaults applied.
type DataSource struct {
	Name                  string
	FromExpression        string // SQL: rendered, then {dataset} substituted
	Rendered              string // after the template stage only
	ClientIDColumn        string
	SubmissionDateColumn  string
	ExperimentsColumnType string // simple, native, glean, events_stream or none
	DefaultDataset        string
	GroupIDColumn         string
	AnalysisUnits         []string
	GleanClientIDColumn   string
	LegacyClientIDColumn  string
	Joins                 map[string]JoinSpec
}

// Segment is a resolved segment.
type Segment struct {
	Name             string
	SelectExpression string
	FriendlyName     string
	Description      string
	DataSource       SegmentDataSource
}

// SegmentDataSource is a resolved segment data source.
type SegmentDataSource struct {
	Name                 string
	FromExpression       string // SQL: rendered, then {dataset} substituted
	Rendered             string
	WindowStart          int
	WindowEnd            int
	ClientIDColumn       string
	SubmissionDateColumn string
	GroupIDColumn        string
	DefaultDataset       string
}

// ExposureSignal is a resolved [experiment.exposure_signal].
type ExposureSignal struct {
	Name             string
	DataSource       string
	SelectExpression string
	FriendlyName     string
	Description      string
	WindowStart      any
	WindowEnd        any
	FromExpression   string // the data source's SQL as the exposure query reads it
}

// ErrDefinitionNotFound is wrapped by errors about names that resolve to nothing.
var ErrDefinitionNotFound = errors.New("DefinitionNotFound")

func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDefinitionNotFound, fmt.Sprintf(format, args...))
}

var experimentsColumnTypes = map[string]bool{"simple": true, "native": true, "glean": true, "events_stream": true, "none": true}

// appIDs are Jetstream's platform_config.toml app ids, used when Experimenter gives none.
var appIDs = map[string]string{
	"firefox_desktop": "firefox-desktop", "fenix": "fenix", "focus_android": "org.mozilla.focus",
	"klar_android": "org.mozilla.klar", "firefox_ios": "org.mozilla.ios.FirefoxBeta",
	"focus_ios": "org.mozilla.ios.Focus", "klar_ios": "org.mozilla.ios.Klar", "monitor_cirrus": "monitor.cirrus",
}

// Resolve resolves a self-contained configuration file: no platform defaults, definitions
// or outcomes are consulted (use (*Collection).Resolve for metric-hub semantics).
func Resolve(s *Spec, exp experimenter.Experiment) (*Analysis, error) {
	c := NewCollection()
	c.Functions = MetricHub().Functions
	return c.Resolve(s, exp)
}

// Resolve resolves an experiment's configuration as Jetstream does: the platform defaults
// (and the experiment type's), then s (nil: the collection's config for the experiment's
// slug, if any), then the outcomes of the experiment and of s. The collection itself is
// not modified.
func (c *Collection) Resolve(s *Spec, exp experimenter.Experiment) (*Analysis, error) {
	if s == nil {
		s = c.Configs[exp.NormandySlug]
	}
	r := &resolver{c: c, app: exp.AppName, fns: c.Functions, file: s}
	if r.file == nil {
		r.file = newSpec(exp.NormandySlug + ".toml")
	}
	r.defs = c.Definitions[exp.AppName].clone()
	if r.defs == nil {
		r.defs = newSpec("definitions/" + exp.AppName + ".toml")
	}
	spec := c.Defaults[exp.AppName].clone()
	if spec == nil {
		spec = newSpec("defaults")
	}
	if s != nil {
		spec.merge(s.clone())
	}
	r.spec = spec
	return r.resolve(exp)
}

type resolver struct {
	c    *Collection
	app  string
	fns  Functions
	file *Spec // the experiment's file, for error positions
	spec *Spec // defaults ⊕ experiment ⊕ outcomes, mutated as the reference mutates it
	defs *Spec // a private copy of the platform definitions (the reference mutates them too)
	a    *Analysis
	vars templateVars
}

func (r *resolver) resolve(exp experimenter.Experiment) (*Analysis, error) {
	e := r.spec.Experiment
	a := &Analysis{
		Slug:                 exp.NormandySlug,
		AppName:              exp.AppName,
		AppID:                orStr(exp.AppID, appIDs[exp.AppName]),
		Branches:             exp.BranchNames(),
		SmallestBranchShare:  exp.SmallestBranchShare(),
		ReferenceBranch:      orStr(e.ReferenceBranch, exp.ReferenceBranch),
		StartDate:            exp.StartDate,
		EndDate:              exp.EndDate,
		Status:               exp.Status,
		Skip:                 e.Skip,
		AnalysisUnit:         orStr(e.AnalysisUnit, exp.AnalysisUnit()),
		EnrollmentsQueryType: e.EnrollmentsQueryType,
		IsPrivate:            e.IsPrivate,
		DatasetID:            e.DatasetID,
		Metrics:              map[string]*Metric{},
		Periods:              map[Period][]string{},
		Summaries:            map[Period][]Summary{},
		DataSources:          map[string]*DataSource{},
		Source:               r.file,
	}
	r.a = a
	if !e.StartDate.IsZero() {
		a.StartDate = e.StartDate
	}
	if !e.EndDate.IsZero() {
		a.EndDate = e.EndDate
		a.Status = experimenter.StatusComplete // an explicit end date makes the experiment complete
	}
	proposed := exp.ProposedEnrollment
	switch {
	case e.EnrollmentPeriod != nil:
		if *e.EnrollmentPeriod < 0 {
			return nil, r.file.Locate("experiment.enrollment_period", fmt.Errorf("must not be negative, got %d", *e.EnrollmentPeriod))
		}
		a.EnrollmentPeriod, a.EnrollmentPeriodSource = *e.EnrollmentPeriod, "config"
	case !exp.EnrollmentEndDate.IsZero() && !a.StartDate.IsZero():
		a.EnrollmentPeriod = int(exp.EnrollmentEndDate.Sub(a.StartDate).Hours()/24) + 1
		a.EnrollmentPeriodSource = "enrollmentEndDate"
	case proposed != 0:
		a.EnrollmentPeriod, a.EnrollmentPeriodSource = proposed, "proposedEnrollment"
	}
	if e.SampleSize != nil {
		a.SampleSize = *e.SampleSize
	}
	r.vars = templateVars{"experiment": r.experimentVars(exp)}

	// outcomes: Experimenter's, then the config's
	outcomes := slices.Clone(exp.Outcomes)
	for _, o := range e.Outcomes {
		if !slices.Contains(outcomes, o) {
			outcomes = append(outcomes, o)
		}
	}
	for _, slug := range outcomes {
		o, ok := r.c.Outcome(exp.AppName, slug)
		if !ok {
			return nil, r.file.Locate("experiment.outcomes", notFound("Outcome %s doesn't support the platform '%s'", slug, exp.AppName))
		}
		if err := r.mergeOutcome(o.clone()); err != nil {
			return nil, err
		}
	}
	a.Outcomes = outcomes

	if e.EnrollmentQuery != "" {
		q, err := render(e.EnrollmentQuery, nil, r.vars)
		if err != nil {
			return nil, r.file.Locate("experiment.enrollment_query", err)
		}
		a.EnrollmentQuery = q
	}
	segs := slices.Clone(e.Segments)
	for _, s := range exp.Segments {
		if !slices.Contains(segs, s) {
			segs = append(segs, s)
		}
	}
	for _, name := range segs {
		seg, err := r.segment(name)
		if err != nil {
			return nil, err
		}
		a.Segments = append(a.Segments, seg)
	}
	if es := e.ExposureSignal; es != nil {
		ds, err := r.dataSource(es.DataSource, "experiment.exposure_signal.data_source")
		if err != nil {
			return nil, err
		}
		a.Exposure = &ExposureSignal{Name: es.Name, DataSource: es.DataSource, SelectExpression: es.SelectExpression,
			FriendlyName: es.FriendlyName, Description: es.Description, WindowStart: es.WindowStart, WindowEnd: es.WindowEnd}
		// mozanalysis' exposure query formats the data source with its default dataset,
		// not the app's
		a.Exposure.FromExpression = ds.FromExpression
		if sql, err := pyFormat(ds.Rendered, datasetArg(ds.DefaultDataset)); err == nil {
			a.Exposure.FromExpression = sql
		}
	}

	for _, period := range Periods {
		key := listKeyOf(period)
		var all []Summary
		for _, name := range r.spec.PeriodLists[period] {
			sums, err := r.metricRef(name, "metrics."+key)
			if err != nil {
				return nil, err
			}
			all = append(all, sums...)
		}
		seen := map[[2]string]bool{}
		var kept []Summary
		for i := len(all) - 1; i >= 0; i-- {
			k := [2]string{all[i].Metric.Name, all[i].Statistic.Name}
			if !seen[k] {
				seen[k] = true
				kept = append(kept, all[i])
			}
		}
		slices.Reverse(kept)
		a.Summaries[period] = kept
		for _, sum := range kept {
			m, ok := a.Metrics[sum.Metric.Name]
			if !ok {
				m = sum.Metric
				m.Statistics = nil
				a.Metrics[m.Name] = m
			}
			if !slices.ContainsFunc(m.Statistics, func(st StatisticSpec) bool { return st.Name == sum.Statistic.Name }) {
				m.Statistics = append(m.Statistics, sum.Statistic)
			}
			if !slices.Contains(a.Periods[period], m.Name) {
				a.Periods[period] = append(a.Periods[period], m.Name)
			}
		}
	}
	return a, nil
}

func (r *resolver) experimentVars(exp experimenter.Experiment) map[string]any {
	a := r.a
	date := func(t time.Time, what string) func() (string, error) {
		return func() (string, error) {
			if t.IsZero() {
				return "", fmt.Errorf("experiment %s has no %s", a.Slug, what)
			}
			return t.Format(time.DateOnly), nil
		}
	}
	return map[string]any{
		"normandy_slug":            a.Slug,
		"experimenter_slug":        exp.Slug,
		"app_name":                 a.AppName,
		"app_id":                   a.AppID,
		"reference_branch":         a.ReferenceBranch,
		"status":                   a.Status,
		"enrollment_period":        a.EnrollmentPeriod,
		"start_date_str":           date(a.StartDate, "start date"),
		"end_date_str":             date(a.EndDate, "end date"),
		"last_enrollment_date_str": date(a.StartDate.AddDate(0, 0, a.EnrollmentPeriod), "start date"),
	}
}

// mergeOutcome merges an outcome underneath the spec: outcome definitions are the base, the
// spec's override them; outcome metrics run weekly and overall.
func (r *resolver) mergeOutcome(o *Spec) error {
	// file order, as Python's dicts keep it (an upstream must be resolved, and given its
	// statistics, before a metric that depends on it)
	names := sortedMapKeys(o.Metrics)
	slices.SortStableFunc(names, func(a, b string) int { return o.pos.line("metrics."+a) - o.pos.line("metrics."+b) })
	o.PeriodLists = map[Period][]string{Week: names, Overall: slices.Clone(names)}
	o.mergeMetrics(r.spec)
	r.spec.PeriodLists = o.PeriodLists
	r.spec.Metrics = o.Metrics
	mergeDefs(o.DataSources, r.spec.DataSources, (*DataSourceSpec).merge)
	r.spec.DataSources = o.DataSources
	for _, name := range sortedMapKeys(o.Parameters) {
		p1, ok := r.spec.Parameters[name]
		if !ok {
			p1 = &ParameterSpec{Name: name}
		}
		p, err := mergeParameter(p1, o.Parameters[name])
		if err != nil {
			return o.Locate("parameters."+name, err)
		}
		r.spec.Parameters[name] = p
	}
	return nil
}

func (r *resolver) defaultUnits() []string {
	if r.app == "firefox_desktop" {
		return []string{"client_id", "profile_group_id"}
	}
	return []string{"client_id"}
}

func (r *resolver) metricRef(name, key string) ([]Summary, error) {
	if d, ok := r.spec.Metrics[name]; ok {
		return r.metricDef(d, 0)
	}
	if d, ok := r.defs.Metrics[name]; ok {
		return r.metricDef(d, 0)
	}
	return nil, r.file.Locate(key, fmt.Errorf("metric %q is not defined: %w", name, notFound("Could not locate metric %s", name)))
}

func (r *resolver) metricDef(d *MetricSpec, depth int) ([]Summary, error) {
	path := "metrics." + d.Name
	if depth > 20 {
		return nil, r.file.Locate(path, fmt.Errorf("metric %q refers to itself", d.Name))
	}
	var upstream []Summary
	if len(d.DependsOn) > 0 {
		upstream = []Summary{}
		for _, ref := range d.DependsOn {
			u, ok := r.defs.Metrics[ref]
			if !ok {
				u, ok = r.spec.Metrics[ref]
			}
			if !ok {
				return nil, r.file.Locate(path+".depends_on", notFound("No definition found for referenced upstream metric MetricReference(name='%s')", ref))
			}
			sums, err := r.metricDef(u, depth+1)
			if err != nil {
				return nil, err
			}
			upstream = append(upstream, sums...)
		}
	}
	var metric *Metric
	var fromDef []Summary
	if d.SelectExpression == "" || d.DataSource == "" {
		def, hasDef := r.defs.Metrics[d.Name]
		switch {
		case !hasDef && upstream == nil:
			return nil, r.file.Locate(path, notFound("No default definition found for referenced metric %s", d.Name))
		case len(upstream) > 0:
			metric = r.newMetric(d, upstream)
		case hasDef:
			def.AnalysisBases = orSlice(d.AnalysisBases, orSlice(def.AnalysisBases, []string{"enrollments", "exposures"}))
			def.Statistics = d.Statistics
			def.AnalysisUnits = orSlice(d.AnalysisUnits, orSlice(def.AnalysisUnits, r.defaultUnits()))
			sums, err := r.metricDef(def, depth+1)
			if err != nil {
				return nil, err
			}
			fromDef = sums
		}
	} else {
		metric = r.newMetric(d, upstream)
		rendered, err := r.renderSelect(d.SelectExpression)
		if err != nil {
			return nil, r.file.Locate(path+".select_expression", err)
		}
		metric.Rendered = rendered
		metric.SelectExpression = rendered
		if sql, err := pyFormat(rendered, map[string]string{"experiment_slug": r.a.Slug}); err == nil {
			metric.SelectExpression = sql
		}
		metric.DataSource = d.DataSource
		ds, err := r.dataSource(d.DataSource, path+".data_source")
		if err != nil {
			return nil, err
		}
		for _, u := range metric.AnalysisUnits {
			if !slices.Contains(ds.AnalysisUnits, u) {
				return nil, r.file.Locate(path+".analysis_units", fmt.Errorf("data_source %s (app: %s) does not support all analysis_units specified by metric %s: analysis_units for metric: %v, analysis_units for data_source: %v", ds.Name, r.app, d.Name, metric.AnalysisUnits, ds.AnalysisUnits))
			}
		}
	}
	var out []Summary
	switch {
	case fromDef != nil:
		if len(d.Statistics) > 0 {
			for _, st := range d.Statistics {
				out = append(out, Summary{Metric: fromDef[0].Metric, Statistic: st})
			}
		} else {
			out = fromDef
		}
	case metric != nil:
		if d.Statistics == nil {
			return nil, r.file.Locate(path, fmt.Errorf("No statistical treatment defined for metric '%s'", d.Name))
		}
		for _, st := range d.Statistics {
			out = append(out, Summary{Metric: metric, Statistic: st})
		}
	}
	if len(out) == 0 {
		return nil, r.file.Locate(path, fmt.Errorf("Metric %s has no statistical treatment defined.", d.Name))
	}
	for _, sum := range out {
		if err := checkStatistic(sum.Statistic); err != nil {
			return nil, r.file.Locate(path+".statistics."+sum.Statistic.Name, err)
		}
	}
	return out, nil
}

func (r *resolver) newMetric(d *MetricSpec, upstream []Summary) *Metric {
	m := &Metric{
		Name:           d.Name,
		FriendlyName:   dedent(d.FriendlyName),
		Description:    dedent(d.Description),
		BiggerIsBetter: biggerIsBetter(d.BiggerIsBetter),
		AnalysisBases:  orSlice(d.AnalysisBases, []string{"enrollments", "exposures"}),
		AnalysisUnits:  orSlice(d.AnalysisUnits, r.defaultUnits()),
		Type:           orStr(d.Type, "scalar"),
	}
	for _, u := range upstream {
		if !slices.ContainsFunc(m.DependsOn, func(x *Metric) bool { return x.Name == u.Metric.Name }) {
			m.DependsOn = append(m.DependsOn, u.Metric)
		}
	}
	return m
}

func (r *resolver) renderSelect(expr string) (string, error) {
	if !strings.Contains(expr, "parameters") {
		return render(expr, r.fns, nil)
	}
	params := map[string]any{}
	for name, p := range r.spec.Parameters {
		switch v := p.Value.(type) {
		case map[string]string:
			if p.DistinctByBranch {
				var parts []string
				for _, b := range sortedMapKeys(v) {
					parts = append(parts, fmt.Sprintf("WHEN %q THEN %q", b, v[b]))
				}
				params[name] = "CASE e.branch " + strings.Join(parts, " ") + " END"
			} else {
				params[name] = fmt.Sprint(v)
			}
		case string:
			params[name] = v
		default:
			params[name] = "None"
		}
	}
	return render(expr, r.fns, templateVars{"parameters": params})
}

var experimentRef = regexp.MustCompile(`\{\{-?\s*experiment\b`)

func (r *resolver) dataSource(name, key string) (*DataSource, error) {
	d, ok := r.spec.DataSources[name]
	if !ok {
		d, ok = r.defs.DataSources[name]
	}
	if !ok {
		return nil, r.file.Locate(key, fmt.Errorf("data source %q is not defined: %w", name, notFound("No default definition for data source '%s' [%s] found", name, r.app)))
	}
	path := "data_sources." + name
	if !slugPattern.MatchString(d.Name) {
		return nil, r.file.Locate(path, fmt.Errorf("invalid data source name %q", d.Name))
	}
	if d.FromExpression == "" {
		return nil, r.file.Locate(path, fmt.Errorf("data source %q has no from_expression", d.Name))
	}
	ds := &DataSource{
		Name:                  d.Name,
		Rendered:              d.FromExpression,
		ClientIDColumn:        orStr(d.ClientIDColumn, "client_id"),
		SubmissionDateColumn:  orStr(d.SubmissionDateColumn, "submission_date"),
		ExperimentsColumnType: orStr(strings.ToLower(d.ExperimentsColumnType), "simple"),
		DefaultDataset:        d.DefaultDataset,
		GroupIDColumn:         orStr(d.GroupIDColumn, "profile_group_id"),
		AnalysisUnits:         orSlice(d.AnalysisUnits, r.defaultUnits()),
		GleanClientIDColumn:   d.GleanClientIDColumn,
		LegacyClientIDColumn:  d.LegacyClientIDColumn,
		Joins:                 d.Joins,
	}
	if d.ExperimentsColumnType != "" && strings.ToLower(d.ExperimentsColumnType) != "none" && !experimentsColumnTypes[d.ExperimentsColumnType] {
		return nil, r.file.Locate(path+".experiments_column_type", fmt.Errorf("unknown experiments_column_type %q (want simple, native, glean, events_stream or none)", d.ExperimentsColumnType))
	}
	if experimentRef.MatchString(d.FromExpression) {
		out, err := render(d.FromExpression, nil, r.vars)
		if err != nil {
			return nil, r.file.Locate(path+".from_expression", err)
		}
		ds.Rendered = out
	}
	if _, err := pyFormat(ds.Rendered, datasetArg(d.DefaultDataset)); err != nil {
		return nil, r.file.Locate(path+".from_expression", fmt.Errorf("%s: from_expression contains a dataset template but no value was provided (%v)", d.Name, err))
	}
	sql, err := pyFormat(ds.Rendered, datasetArg(orStr(appDataset(r.a.AppID), d.DefaultDataset)))
	if err != nil {
		return nil, r.file.Locate(path+".from_expression", err)
	}
	ds.FromExpression = sql
	for other := range d.Joins {
		if _, err := r.dataSource(other, path+".joins."+other); err != nil {
			return nil, err
		}
	}
	r.a.DataSources[ds.Name] = ds
	return ds, nil
}

func datasetArg(ds string) map[string]string {
	if ds == "" {
		return map[string]string{}
	}
	return map[string]string{"dataset": ds}
}

// appDataset is the BigQuery dataset of an app id: lower-cased, non-alphanumerics as "_".
func appDataset(appID string) string {
	b := []byte(strings.ToLower(appID))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func (r *resolver) segment(name string) (*Segment, error) {
	key := "experiment.segments"
	d, ok := r.spec.Segments[name]
	if !ok {
		d, ok = r.defs.Segments[name]
	}
	if !ok {
		return nil, r.file.Locate(key, notFound("Could not find definition for segment '%s'", name))
	}
	sd, ok := r.spec.SegmentData[d.DataSource]
	if !ok {
		sd, ok = r.defs.SegmentData[d.DataSource]
	}
	if !ok {
		return nil, r.file.Locate("segments."+name+".data_source", notFound("Could not find definition for segment data source '%s'", d.DataSource))
	}
	from, err := render(sd.FromExpression, nil, r.vars)
	if err != nil {
		return nil, r.file.Locate("segments.data_sources."+sd.Name+".from_expression", err)
	}
	sql, err := pyFormat(from, datasetArg(orStr(appDataset(r.a.AppID), sd.DefaultDataset)))
	if err != nil {
		return nil, r.file.Locate("segments.data_sources."+sd.Name+".from_expression", err)
	}
	sel, err := render(d.SelectExpression, r.fns, nil)
	if err != nil {
		return nil, r.file.Locate("segments."+name+".select_expression", err)
	}
	return &Segment{
		Name:             d.Name,
		SelectExpression: sel,
		FriendlyName:     dedent(d.FriendlyName),
		Description:      dedent(d.Description),
		DataSource: SegmentDataSource{
			Name: sd.Name, FromExpression: sql, Rendered: from, WindowStart: sd.WindowStart, WindowEnd: sd.WindowEnd,
			ClientIDColumn: sd.ClientIDColumn, SubmissionDateColumn: sd.SubmissionDateColumn,
			GroupIDColumn: sd.GroupIDColumn, DefaultDataset: sd.DefaultDataset,
		},
	}, nil
}

func listKeyOf(p Period) string {
	for k, v := range listKeys {
		if v == p {
			return k
		}
	}
	return string(p)
}

func orDefault(s, def string) string { return orStr(s, def) }

// dedent removes the common leading whitespace of all non-blank lines (Python's
// textwrap.dedent).
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ws, false
			continue
		}
		for !strings.HasPrefix(ws, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = strings.TrimLeft(l, " \t")
		} else {
			lines[i] = strings.TrimPrefix(l, prefix)
		}
	}
	return strings.Join(lines, "\n")
}
