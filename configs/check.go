package configs

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/experimenter"
)

// Severity ranks a validation finding.
type Severity int

const (
	// SeverityWarning: the file is used as it is, but probably not as its author meant
	// (an unknown key that the reference parser silently ignores, a likely typo).
	SeverityWarning Severity = iota
	// SeverityError: the file cannot be used (invalid TOML, a value of the wrong type, a
	// name that resolves to nothing, an unknown statistic).
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Finding is one problem Validate reports, located like an *Error.
type Finding struct {
	Severity Severity
	Error    // File, Line, Column (0 when unknown), Key (dotted path) and the cause
}

// String renders the finding as `file:line:col: key: severity: message`.
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %v", f.location(), f.Severity, f.Err)
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == SeverityError })
}

// Role is what a file is in a metric-hub collection; it comes from where the file lies.
type Role int

const (
	RoleExperiment  Role = iota // <root>/<slug>.toml (and any file outside the folders below)
	RoleOutcome                 // <root>/outcomes/<platform>/<slug>.toml
	RoleDefaults                // <root>/defaults/<platform or type>.toml
	RoleDefinitions             // <root>/definitions/<platform>.toml
	RoleFunctions               // <root>/definitions/functions.toml
)

func (r Role) String() string {
	return [...]string{"experiment config", "outcome", "defaults", "definitions", "functions"}[r]
}

// RoleOf tells a file's role from its path as metric-hub lays out folders. platform is the
// outcome's platform folder, or the defaults/definitions file's stem ("" for experiment
// configs); slug is the file stem.
func RoleOf(file string) (role Role, platform, slug string) {
	file = filepath.ToSlash(file)
	slug = strings.TrimSuffix(path.Base(file), path.Ext(file))
	dir := path.Base(path.Dir(file))
	switch {
	case path.Base(path.Dir(path.Dir(file))) == "outcomes":
		return RoleOutcome, dir, slug
	case dir == "defaults":
		return RoleDefaults, slug, slug
	case dir == "definitions" && slug == "functions":
		return RoleFunctions, "", slug
	case dir == "definitions":
		return RoleDefinitions, slug, slug
	}
	return RoleExperiment, "", slug
}

// SyntheticExperiment is the Experimenter record used when none is known (the golden
// files' "synthetic experiment"): branches control and treatment, reference control, live
// since 2024-01-01, 7 days of proposed enrolment, no outcomes or segments.
func SyntheticExperiment(slug, platform string) experimenter.Experiment {
	return experimenter.Experiment{
		NormandySlug:       slug,
		AppName:            platform,
		AppID:              appIDs[platform],
		Branches:           []experimenter.Branch{{Slug: "control", Ratio: 1}, {Slug: "treatment", Ratio: 1}},
		ReferenceBranch:    "control",
		StartDate:          time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		ProposedEnrollment: 7,
		Status:             experimenter.StatusLive,
	}
}

// ValidateFile parses one file and validates it in the role its path gives it (a bare
// file is an experiment config) against the synthetic experiment on platform (outcomes,
// defaults and definitions use the platform of their path). A file that does not parse
// yields one error finding.
func (c *Collection) ValidateFile(name string, data []byte, platform string) []Finding {
	s, err := Parse(name, data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Column == 0 && e.Key != "" {
			// a decoding error: the TOML is valid, so its keys can be located
			s = newSpec(name)
			s.pos = indexPositions(data)
		}
		return []Finding{errorFinding(s, err)}
	}
	role, p, slug := RoleOf(name)
	if p == "" || role == RoleDefaults && c.Definitions[p] == nil && appIDs[p] == "" {
		p = platform // a type's defaults (messaging, cfr_metrics) are checked on platform
	}
	return c.Validate(s, role, SyntheticExperiment(slug, p))
}

// Validate checks a parsed file in its role against the collection, resolving it with exp
// (whose AppName is the platform) as Jetstream would. Unknown keys, which the reference
// parser silently ignores, are warnings with a "did you mean"; dangling references (data
// sources, metrics, segments, outcomes), unknown statistics and resolution failures are
// errors. Findings are in file order of discovery: key checks, references, resolution.
func (c *Collection) Validate(s *Spec, role Role, exp experimenter.Experiment) []Finding {
	v := &validator{c: c, s: s, role: role, platform: exp.AppName}
	v.checkKeys()
	v.checkReferences(exp)
	v.resolve(exp)
	return v.out
}

type validator struct {
	c        *Collection
	s        *Spec
	role     Role
	platform string
	out      []Finding
}

func (v *validator) add(sev Severity, key string, err error) {
	at := v.s.pos.at(key)
	v.out = append(v.out, Finding{Severity: sev, Error: Error{File: v.s.File, Line: at.line, Column: at.col, Key: key, Err: err}})
}

func (v *validator) warn(key, format string, args ...any) {
	v.add(SeverityWarning, key, fmt.Errorf(format, args...))
}

func (v *validator) fail(key string, err error) { v.add(SeverityError, key, err) }

// errorFinding turns an error from Parse or Resolve into a finding, adding the column when
// the spec knows the key's position.
func errorFinding(s *Spec, err error) Finding {
	var e *Error
	if !errors.As(err, &e) {
		f := Finding{Severity: SeverityError, Error: Error{Err: err}}
		if s != nil {
			f.File = s.File
		}
		return f
	}
	f := Finding{Severity: SeverityError, Error: *e}
	if s != nil && f.Column == 0 && f.File == s.File {
		if at := s.pos.at(f.Key); at.line == f.Line {
			f.Column = at.col
		}
	}
	return f
}

// ---- keys ----

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var (
	experimentKeys = set("analysis_unit", "dataset_id", "end_date", "enrollment_period", "enrollment_query",
		"enrollments_query_type", "exposure_signal", "is_private", "outcomes", "reference_branch", "sample_size",
		"segments", "skip", "start_date")
	exposureSignalKeys = set("data_source", "description", "friendly_name", "name", "select_expression", "window_end", "window_start")
	metricKeys         = set("analysis_bases", "analysis_units", "bigger_is_better", "category", "data_source", "depends_on",
		"deprecated", "description", "friendly_name", "level", "name", "owner", "select_expression", "statistics", "type")
	dataSourceKeys = set("analysis_units", "build_id_column", "client_id_column", "columns_as_dimensions", "default_dataset",
		"description", "experiments_column_type", "friendly_name", "from_expression", "glean_client_id_column",
		"group_id_column", "joins", "legacy_client_id_column", "name", "submission_date_column")
	joinKeys          = set("on_expression", "relationship")
	segmentKeys       = set("data_source", "description", "friendly_name", "name", "select_expression")
	segmentSourceKeys = set("client_id_column", "default_dataset", "from_expression", "glean_client_id_column",
		"group_id_column", "legacy_client_id_column", "name", "submission_date_column", "window_end", "window_start")
	functionKeys  = set("definition", "description", "friendly_name")
	dimensionKeys = set("data_source", "description", "friendly_name", "select_expression")

	// hints replace the generic "did you mean" for keys seen in real configs.
	keyHints = map[string]string{
		"experiment.enrollment_end_date": "unknown key, ignored: the enrolment end comes from Experimenter; use enrollment_period",
		"experiment.exposure_query_type": "unknown key, ignored: exposures are configured with [experiment.exposure_signal]",
		"experiment.default_dataset":     "unknown key, ignored: default_dataset belongs to a data source",
		"metric.exposure_basis":          `unknown key, ignored (did you mean "analysis_bases"?)`,
		"metric.window_start":            "unknown key, ignored: metrics have no windows (analysis periods set them)",
		"metric.window_end":              "unknown key, ignored: metrics have no windows (analysis periods set them)",
		"segment.window_start":           "not a segment key, ignored; windows belong to segments.data_sources.<data source>",
		"segment.window_end":             "not a segment key, ignored; windows belong to segments.data_sources.<data source>",
		"data_source.deprecated":         "unknown key, ignored by Jetstream",
	}
)

func asTable(v any) map[string]any {
	t, _ := v.(map[string]any)
	return t
}

// keys warns about the keys of table that are not in known. kind names the table for
// keyHints; lower makes the comparison case-insensitive, as the parser lower-cases the
// keys of metric, data-source and segment tables.
func (v *validator) keys(prefix, kind string, table map[string]any, known map[string]bool, lower bool) {
	for _, k := range sortedKeys(table) {
		kk := k
		if lower {
			kk = strings.ToLower(k)
		}
		if known[kk] {
			continue
		}
		key := prefix + "." + k
		if h, ok := keyHints[kind+"."+kk]; ok {
			v.warn(key, "%s", h)
			continue
		}
		v.warn(key, "unknown key, ignored%s", suggest(kk, keysOf(known)))
	}
}

func (v *validator) checkKeys() {
	doc := v.s.doc
	if doc == nil {
		return
	}
	if v.role == RoleExperiment {
		for _, k := range []string{"friendly_name", "description"} {
			if _, ok := doc[k]; ok {
				v.warn(k, "top-level %s is only meaningful in outcome files (ignored here)", k)
			}
		}
	}
	if e := asTable(doc["experiment"]); e != nil {
		if v.role != RoleExperiment {
			v.warn("experiment", "[experiment] is only read in experiment configs (ignored in %s files)", v.role)
		}
		v.keys("experiment", "experiment", e, experimentKeys, false)
		if x := asTable(e["exposure_signal"]); x != nil {
			v.keys("experiment.exposure_signal", "exposure_signal", x, exposureSignalKeys, false)
		}
	}
	metrics := asTable(doc["metrics"])
	for _, name := range sortedKeys(metrics) {
		if _, ok := listKeys[name]; ok {
			continue
		}
		switch name {
		case "days28":
			v.warn("metrics.days28", `unknown period list, ignored (did you mean "28_day"?)`)
			continue
		case "definitions":
			v.warn("metrics.definitions", "unknown key, ignored")
			continue
		}
		m := asTable(metrics[name])
		prefix := "metrics." + name
		v.keys(prefix, "metric", m, metricKeys, true)
		stats := asTable(lowerKeys(m)["statistics"])
		for _, st := range sortedKeys(stats) {
			spec := StatisticSpec{Name: st}
			for _, pt := range preTreatmentNames(asTable(stats[st])["pre_treatments"]) {
				spec.PreTreatments = append(spec.PreTreatments, PreTreatmentSpec{Name: pt})
			}
			if err := checkStatistic(spec); err != nil {
				v.fail(prefix+".statistics."+st, err)
			}
		}
	}
	sources := asTable(doc["data_sources"])
	for _, name := range sortedKeys(sources) {
		d := asTable(sources[name])
		v.keys("data_sources."+name, "data_source", d, dataSourceKeys, true)
		joins := asTable(lowerKeys(d)["joins"])
		for _, other := range sortedKeys(joins) {
			v.keys("data_sources."+name+".joins."+other, "join", asTable(joins[other]), joinKeys, false)
		}
	}
	segments := asTable(doc["segments"])
	for _, name := range sortedKeys(segments) {
		if name == "data_sources" {
			sd := asTable(segments[name])
			for _, n := range sortedKeys(sd) {
				v.keys("segments.data_sources."+n, "segment_data_source", asTable(sd[n]), segmentSourceKeys, true)
			}
			continue
		}
		v.keys("segments."+name, "segment", asTable(segments[name]), segmentKeys, true)
	}
	fns := asTable(doc["functions"])
	for _, name := range sortedKeys(fns) {
		v.keys("functions."+name, "function", asTable(fns[name]), functionKeys, false)
	}
	dims := asTable(doc["dimensions"])
	for _, name := range sortedKeys(dims) {
		v.keys("dimensions."+name, "dimension", asTable(dims[name]), dimensionKeys, false)
	}
}

func preTreatmentNames(v any) []string {
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		switch p := it.(type) {
		case string:
			out = append(out, p)
		case map[string]any:
			if n, ok := p["name"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// ---- references ----

// scope is the set of names a file can refer to on its platform.
type scope struct {
	metrics, dataSources, segments, segmentData map[string]bool
}

func (sc *scope) addSpec(s *Spec) {
	if s == nil {
		return
	}
	for k := range s.Metrics {
		sc.metrics[k] = true
	}
	for k := range s.DataSources {
		sc.dataSources[k] = true
	}
	for k := range s.Segments {
		sc.segments[k] = true
	}
	for k := range s.SegmentData {
		sc.segmentData[k] = true
	}
}

func (v *validator) checkReferences(exp experimenter.Experiment) {
	s, c, p := v.s, v.c, v.platform
	sc := &scope{metrics: map[string]bool{}, dataSources: map[string]bool{}, segments: map[string]bool{}, segmentData: map[string]bool{}}
	sc.addSpec(c.Definitions[p])
	if v.role != RoleDefinitions {
		sc.addSpec(c.Defaults[p])
	}
	sc.addSpec(s)
	if v.role == RoleExperiment {
		outcomes := slices.Clone(exp.Outcomes)
		for _, o := range s.Experiment.Outcomes {
			if !slices.Contains(outcomes, o) {
				outcomes = append(outcomes, o)
			}
		}
		for _, o := range outcomes {
			spec, ok := c.Outcome(p, o)
			if !ok {
				v.fail("experiment.outcomes", fmt.Errorf("outcome %q is not defined for platform %s%s%s", o, p,
					suggest(o, sortedMapKeys(c.Outcomes[p])), v.elsewhere(o)))
				continue
			}
			sc.addSpec(spec)
		}
		for _, name := range s.Experiment.Segments {
			if !sc.segments[name] {
				v.fail("experiment.segments", fmt.Errorf("segment %q is not defined for platform %s%s", name, p, suggest(name, keysOf(sc.segments))))
			}
		}
		if es := s.Experiment.ExposureSignal; es != nil && !sc.dataSources[es.DataSource] {
			v.fail("experiment.exposure_signal.data_source", fmt.Errorf("data source %q is not defined for platform %s%s", es.DataSource, p, suggest(es.DataSource, keysOf(sc.dataSources))))
		}
	}
	for _, period := range Periods {
		key := "metrics." + listKeyOf(period)
		for _, name := range s.PeriodLists[period] {
			if !sc.metrics[name] {
				v.fail(key, fmt.Errorf("metric %q is not defined for platform %s%s", name, p, suggest(name, keysOf(sc.metrics))))
			}
		}
	}
	for _, name := range sortedMapKeys(s.Metrics) {
		m := s.Metrics[name]
		prefix := "metrics." + name
		if m.DataSource != "" && !sc.dataSources[m.DataSource] {
			v.fail(prefix+".data_source", fmt.Errorf("data source %q is not defined for platform %s%s", m.DataSource, p, suggest(m.DataSource, keysOf(sc.dataSources))))
		}
		for _, up := range m.DependsOn {
			if !sc.metrics[up] {
				v.fail(prefix+".depends_on", fmt.Errorf("upstream metric %q is not defined for platform %s%s", up, p, suggest(up, keysOf(sc.metrics))))
			}
		}
	}
	for _, name := range sortedMapKeys(s.DataSources) {
		for _, other := range sortedMapKeys(s.DataSources[name].Joins) {
			if !sc.dataSources[other] {
				v.fail("data_sources."+name+".joins."+other, fmt.Errorf("joined data source %q is not defined for platform %s%s", other, p, suggest(other, keysOf(sc.dataSources))))
			}
		}
	}
	for _, name := range sortedMapKeys(s.Segments) {
		ds := s.Segments[name].DataSource
		if !sc.segmentData[ds] {
			v.fail("segments."+name+".data_source", fmt.Errorf("segment data source %q is not defined for platform %s%s", ds, p, suggest(ds, keysOf(sc.segmentData))))
		}
	}
}

// elsewhere names the platforms that do have an outcome.
func (v *validator) elsewhere(slug string) string {
	var ps []string
	for _, p := range sortedMapKeys(v.c.Outcomes) {
		if _, ok := v.c.Outcomes[p][slug]; ok {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return ""
	}
	return fmt.Sprintf(" (it exists for %s)", strings.Join(ps, ", "))
}

// ---- resolution ----

func (v *validator) resolve(exp experimenter.Experiment) {
	s, c := v.s, v.c
	var err error
	switch v.role {
	case RoleExperiment:
		_, err = c.Resolve(s, exp)
	case RoleOutcome:
		if e := s.checkOutcome(); e != nil {
			v.out = append(v.out, errorFinding(s, e))
		}
		cc := *c
		cc.Outcomes = map[string]map[string]*Spec{}
		for p, outs := range c.Outcomes {
			cc.Outcomes[p] = outs
		}
		outs := map[string]*Spec{}
		for k, o := range c.Outcomes[v.platform] {
			outs[k] = o
		}
		_, _, slug := RoleOf(s.File)
		outs[slug] = s
		cc.Outcomes[v.platform] = outs
		// errors are located in the outcome: the experiment spec borrows its name and positions
		host := newSpec(s.File)
		host.pos = s.pos
		host.Experiment.Outcomes = []string{slug}
		_, err = cc.Resolve(host, exp)
	case RoleDefaults:
		if _, _, slug := RoleOf(s.File); slug != v.platform {
			return // a type's defaults (messaging, cfr_metrics): only merged over a platform's
		}
		cc := *c
		cc.Defaults = map[string]*Spec{}
		for k, d := range c.Defaults {
			cc.Defaults[k] = d
		}
		cc.Defaults[v.platform] = s
		host := newSpec(s.File)
		host.pos = s.pos
		_, err = cc.Resolve(host, exp)
	default:
		return
	}
	if err == nil {
		return
	}
	if errors.Is(err, ErrDefinitionNotFound) && HasErrors(v.out) {
		return // the reference checks have said it, and more completely
	}
	f := errorFinding(s, err)
	for _, g := range v.out {
		if g.Severity == SeverityError && g.Key == f.Key && g.File == f.File {
			return
		}
	}
	v.out = append(v.out, f)
}
