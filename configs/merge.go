package configs

import (
	"maps"
	"path"
	"regexp"
	"slices"
)

// The reference parser merges two definitions field by field with "the later value if it is
// non-empty, else the earlier one" (Python's `other or self`), so false, 0 and "" cannot
// reset a value. These helpers implement that rule.

func orStr(other, self string) string {
	if other != "" {
		return other
	}
	return self
}

func orSlice[T any](other, self []T) []T {
	if len(other) > 0 {
		return other
	}
	return self
}

func orAny(other, self any) any {
	if isTruthy(other) {
		return other
	}
	return self
}

func isTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]string:
		return len(x) > 0
	case bool:
		return x
	}
	return true
}

func biggerIsBetter(b *bool) bool { return b == nil || *b }

// merge applies other over m.
func (m *MetricSpec) merge(other *MetricSpec) {
	m.Name = orStr(other.Name, m.Name)
	m.SelectExpression = orStr(other.SelectExpression, m.SelectExpression)
	m.DataSource = orStr(other.DataSource, m.DataSource)
	m.FriendlyName = orStr(other.FriendlyName, m.FriendlyName)
	m.Description = orStr(other.Description, m.Description)
	b := biggerIsBetter(other.BiggerIsBetter) || biggerIsBetter(m.BiggerIsBetter)
	m.BiggerIsBetter = &b
	m.AnalysisBases = orSlice(other.AnalysisBases, m.AnalysisBases)
	m.AnalysisUnits = orSlice(other.AnalysisUnits, m.AnalysisUnits)
	m.Type = orStr(other.Type, m.Type)
	m.Category = orStr(other.Category, m.Category)
	m.DependsOn = orSlice(other.DependsOn, m.DependsOn)
	m.Owner = orSlice(other.Owner, m.Owner)
	m.Deprecated = other.Deprecated || m.Deprecated
	m.Level = orStr(other.Level, m.Level)
	m.Statistics = orSlice(other.Statistics, m.Statistics)
}

func (d *DataSourceSpec) merge(other *DataSourceSpec) {
	d.FromExpression = orStr(other.FromExpression, d.FromExpression)
	d.ClientIDColumn = orStr(other.ClientIDColumn, d.ClientIDColumn)
	d.SubmissionDateColumn = orStr(other.SubmissionDateColumn, d.SubmissionDateColumn)
	d.ExperimentsColumnType = orStr(other.ExperimentsColumnType, d.ExperimentsColumnType)
	d.DefaultDataset = orStr(other.DefaultDataset, d.DefaultDataset)
	d.BuildIDColumn = orStr(other.BuildIDColumn, d.BuildIDColumn)
	d.FriendlyName = orStr(other.FriendlyName, d.FriendlyName)
	d.Description = orStr(other.Description, d.Description)
	if other.Joins != nil {
		d.Joins = other.Joins
	}
	d.ColumnsAsDimensions = other.ColumnsAsDimensions || d.ColumnsAsDimensions
	d.AnalysisUnits = orSlice(other.AnalysisUnits, d.AnalysisUnits)
	d.GroupIDColumn = orStr(other.GroupIDColumn, d.GroupIDColumn)
	d.GleanClientIDColumn = orStr(other.GleanClientIDColumn, d.GleanClientIDColumn)
	d.LegacyClientIDColumn = orStr(other.LegacyClientIDColumn, d.LegacyClientIDColumn)
}

func (e *ExperimentSpec) merge(other *ExperimentSpec) {
	if !other.StartDate.IsZero() {
		e.StartDate = other.StartDate
	}
	if !other.EndDate.IsZero() {
		e.EndDate = other.EndDate
	}
	if other.EnrollmentPeriod != nil && *other.EnrollmentPeriod != 0 {
		e.EnrollmentPeriod = other.EnrollmentPeriod
	}
	e.ReferenceBranch = orStr(other.ReferenceBranch, e.ReferenceBranch)
	e.Skip = other.Skip || e.Skip
	e.Segments = orSlice(other.Segments, e.Segments)
	e.Outcomes = orSlice(other.Outcomes, e.Outcomes)
	e.EnrollmentQuery = orStr(other.EnrollmentQuery, e.EnrollmentQuery)
	e.EnrollmentsQueryType = orStr(other.EnrollmentsQueryType, e.EnrollmentsQueryType)
	if other.SampleSize != nil && *other.SampleSize != 0 {
		e.SampleSize = other.SampleSize
	}
	e.AnalysisUnit = orStr(other.AnalysisUnit, e.AnalysisUnit)
	e.IsPrivate = other.IsPrivate || e.IsPrivate
	e.DatasetID = orStr(other.DatasetID, e.DatasetID)
	if other.ExposureSignal != nil {
		e.ExposureSignal = other.ExposureSignal
	}
}

var slugPattern = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// mergeDefs merges other's definitions into self's: other keys may be shell wildcards
// matching several of self's keys; other keys that match nothing are added when they are
// valid slugs.
func mergeDefs[T any](self, other map[string]*T, merge func(dst, src *T)) {
	seen := map[string]bool{}
	for _, key := range sortedMapKeys(self) {
		for _, okey := range sortedMapKeys(other) {
			if ok, _ := path.Match(okey, key); ok {
				merge(self[key], other[okey])
				seen[okey] = true
			}
		}
		seen[key] = true
	}
	for _, okey := range sortedMapKeys(other) {
		if !seen[okey] && slugPattern.MatchString(okey) {
			self[okey] = other[okey]
		}
	}
}

// merge applies other over s the way the reference AnalysisSpec.merge does: experiment
// fields, period lists (other's first), metric and data-source definitions, segments.
// Parameters are not merged (the reference parser does not either).
func (s *Spec) merge(other *Spec) {
	s.Experiment.merge(&other.Experiment)
	s.mergeMetrics(other)
	mergeDefs(s.DataSources, other.DataSources, (*DataSourceSpec).merge)
	maps.Copy(s.SegmentData, other.SegmentData)
	maps.Copy(s.Segments, other.Segments)
}

func (s *Spec) mergeMetrics(other *Spec) {
	for _, p := range Periods {
		if l := append(slices.Clone(other.PeriodLists[p]), s.PeriodLists[p]...); len(l) > 0 {
			s.PeriodLists[p] = l
		}
	}
	mergeDefs(s.Metrics, other.Metrics, (*MetricSpec).merge)
}

// clone returns a deep copy of s, so that a resolution may mutate it as the reference
// parser mutates its objects.
func (s *Spec) clone() *Spec {
	if s == nil {
		return nil
	}
	c := *s
	c.PeriodLists = map[Period][]string{}
	for p, l := range s.PeriodLists {
		c.PeriodLists[p] = slices.Clone(l)
	}
	c.Metrics = cloneMap(s.Metrics)
	c.DataSources = cloneMap(s.DataSources)
	c.Segments = cloneMap(s.Segments)
	c.SegmentData = cloneMap(s.SegmentData)
	c.Parameters = cloneMap(s.Parameters)
	c.Experiment.Segments = slices.Clone(s.Experiment.Segments)
	c.Experiment.Outcomes = slices.Clone(s.Experiment.Outcomes)
	return &c
}

// cloneMap copies the map and the structs it points to (one level: the structs' slices
// are replaced, never mutated in place, by the resolution).
func cloneMap[T any](m map[string]*T) map[string]*T {
	out := make(map[string]*T, len(m))
	for k, v := range m {
		c := *v
		out[k] = &c
	}
	return out
}

func sortedMapKeys[T any](m map[string]T) []string {
	return slices.Sorted(maps.Keys(m))
}
