package configs

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// topLevelKeys are the keys metric-hub's validator accepts at the top of a file.
var topLevelKeys = map[string]bool{
	"project": true, "population": true, "metrics": true, "experiment": true, "segments": true,
	"data_sources": true, "friendly_name": true, "description": true, "parameters": true,
	"alerts": true, "dimensions": true, "functions": true,
}

// LoadFile reads and parses a configuration file.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads one configuration file. name is used in error messages.
func Parse(name string, data []byte) (*Spec, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var derr *toml.DecodeError
		if errors.As(err, &derr) {
			row, col := derr.Position()
			msg := strings.TrimPrefix(derr.Error(), "toml: ")
			return nil, &Error{File: name, Line: row, Column: col, Err: fmt.Errorf("%s\n%s", msg, derr.String())}
		}
		return nil, &Error{File: name, Err: err}
	}
	s := newSpec(name)
	s.pos = indexPositions(data)
	s.doc = doc
	for _, k := range sortedKeys(doc) {
		if !topLevelKeys[k] {
			return nil, s.Locate(k, fmt.Errorf("unknown top-level key%s", suggest(k, keysOf(topLevelKeys))))
		}
	}
	if err := s.parseExperiment(doc["experiment"]); err != nil {
		return nil, err
	}
	if err := s.parseMetrics(doc["metrics"]); err != nil {
		return nil, err
	}
	if err := s.parseDataSources(doc["data_sources"]); err != nil {
		return nil, err
	}
	if err := s.parseSegments(doc["segments"]); err != nil {
		return nil, err
	}
	if err := s.parseParameters(doc["parameters"]); err != nil {
		return nil, err
	}
	if _, ok := doc["functions"]; ok {
		if err := s.parseFunctions(doc["functions"]); err != nil {
			return nil, err
		}
	}
	top := &reader{s: s, table: doc}
	s.FriendlyName = top.str("friendly_name")
	s.Description = top.str("description")
	if top.err != nil {
		return nil, top.err
	}
	return s, nil
}

// reader reads typed values out of a decoded table, recording the first error with its key.
type reader struct {
	s     *Spec
	table map[string]any
	path  string
	err   error
}

func (s *Spec) reader(v any, path string) (*reader, error) {
	if v == nil {
		return &reader{s: s, table: map[string]any{}, path: path}, nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		return nil, s.Locate(path, fmt.Errorf("want a table, got %s", typeName(v)))
	}
	return &reader{s: s, table: t, path: path}, nil
}

func (r *reader) fail(key string, err error) {
	if r.err == nil {
		if r.path != "" {
			key = r.path + "." + key
		}
		r.err = r.s.Locate(key, err)
	}
}

func (r *reader) str(key string) string {
	v, ok := r.table[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, fmt.Errorf("want a string, got %s", typeName(v)))
	}
	return s
}

func (r *reader) boolPtr(key string) *bool {
	v, ok := r.table[key]
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(key, fmt.Errorf("want true or false, got %s", typeName(v)))
		return nil
	}
	return &b
}

func (r *reader) intPtr(key string) *int {
	v, ok := r.table[key]
	if !ok {
		return nil
	}
	switch n := v.(type) {
	case int64:
		i := int(n)
		return &i
	case float64:
		if n == float64(int(n)) {
			i := int(n)
			return &i
		}
	}
	r.fail(key, fmt.Errorf("want an integer, got %s", typeName(v)))
	return nil
}

func (r *reader) date(key string) time.Time {
	s := r.str(key)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		r.fail(key, fmt.Errorf("want a YYYY-MM-DD date, got %q", s))
	}
	return t
}

func (r *reader) strings(key string) []string {
	v, ok := r.table[key]
	if !ok {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		r.fail(key, fmt.Errorf("want a list of strings, got %s", typeName(v)))
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			r.fail(key, fmt.Errorf("item %d: want a string, got %s", i+1, typeName(it)))
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (s *Spec) parseExperiment(v any) error {
	r, err := s.reader(v, "experiment")
	if err != nil {
		return err
	}
	e := ExperimentSpec{
		StartDate:            r.date("start_date"),
		EndDate:              r.date("end_date"),
		EnrollmentPeriod:     r.intPtr("enrollment_period"),
		ReferenceBranch:      r.str("reference_branch"),
		Segments:             r.strings("segments"),
		Outcomes:             r.strings("outcomes"),
		EnrollmentQuery:      r.str("enrollment_query"),
		EnrollmentsQueryType: r.str("enrollments_query_type"),
		SampleSize:           r.intPtr("sample_size"),
		AnalysisUnit:         r.str("analysis_unit"),
		DatasetID:            r.str("dataset_id"),
	}
	if b := r.boolPtr("skip"); b != nil {
		e.Skip = *b
	}
	if b := r.boolPtr("is_private"); b != nil {
		e.IsPrivate = *b
	}
	if r.err != nil {
		return r.err
	}
	if e.AnalysisUnit != "" && e.AnalysisUnit != "client_id" && e.AnalysisUnit != "profile_group_id" {
		return s.Locate("experiment.analysis_unit", fmt.Errorf("unknown analysis unit %q (want client_id or profile_group_id)", e.AnalysisUnit))
	}
	if e.EnrollmentsQueryType != "" && !enrollmentsQueryTypes[e.EnrollmentsQueryType] {
		return s.Locate("experiment.enrollments_query_type", fmt.Errorf("unknown enrollments query type %q (want normandy, glean-event, fenix-fallback, cirrus or background-update)", e.EnrollmentsQueryType))
	}
	if e.SampleSize != nil && (*e.SampleSize < 1 || *e.SampleSize > 100) {
		return s.Locate("experiment.sample_size", fmt.Errorf("must be a percentage from 1 to 100, got %d", *e.SampleSize))
	}
	if e.IsPrivate && e.DatasetID == "" {
		return s.Locate("experiment.dataset_id", fmt.Errorf("dataset_id must be set to a custom dataset for private experiments"))
	}
	if es, ok := r.table["exposure_signal"]; ok {
		x, err := s.reader(es, "experiment.exposure_signal")
		if err != nil {
			return err
		}
		sig := &ExposureSignalSpec{
			Name:             x.str("name"),
			DataSource:       x.str("data_source"),
			SelectExpression: x.str("select_expression"),
			FriendlyName:     x.str("friendly_name"),
			Description:      x.str("description"),
			WindowStart:      x.window("window_start"),
			WindowEnd:        x.window("window_end"),
		}
		if x.err != nil {
			return x.err
		}
		for _, k := range []string{"name", "data_source", "select_expression", "friendly_name", "description"} {
			if _, ok := x.table[k]; !ok {
				return s.Locate("experiment.exposure_signal", fmt.Errorf("missing required key %s", k))
			}
		}
		e.ExposureSignal = sig
	}
	s.Experiment = e
	return nil
}

var enrollmentsQueryTypes = map[string]bool{"normandy": true, "glean-event": true, "fenix-fallback": true, "cirrus": true, "background-update": true}

var windowNames = map[string]bool{"analysis_window_start": true, "analysis_window_end": true, "enrollment_start": true, "enrollment_end": true}

func (r *reader) window(key string) any {
	v, ok := r.table[key]
	if !ok {
		return nil
	}
	switch w := v.(type) {
	case int64:
		return w
	case string:
		if windowNames[w] {
			return w
		}
		r.fail(key, fmt.Errorf("want a number of days or one of analysis_window_start, analysis_window_end, enrollment_start, enrollment_end; got %q", w))
		return nil
	}
	r.fail(key, fmt.Errorf("want a number of days or a window name, got %s", typeName(v)))
	return nil
}

func (s *Spec) parseMetrics(v any) error {
	r, err := s.reader(v, "metrics")
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(r.table) {
		val := r.table[key]
		if period, ok := listKeys[key]; ok {
			if _, isList := val.([]any); !isList {
				return s.Locate("metrics."+key, fmt.Errorf("metrics.%s should be a list of metrics, got %s", key, typeName(val)))
			}
			names := r.strings(key)
			if r.err != nil {
				return r.err
			}
			s.PeriodLists[period] = names
			continue
		}
		if key == "days28" || key == "definitions" {
			// the reference parser silently ignores these (the list key is 28_day)
			continue
		}
		table, ok := val.(map[string]any)
		if !ok {
			return s.Locate("metrics."+key, fmt.Errorf("not a metric definition table nor a period list (daily, weekly, 28_day, overall, preenrollment_weekly, preenrollment_days28)%s", suggest(key, sortedKeys(periodListKeys()))))
		}
		m, err := s.parseMetric(key, table)
		if err != nil {
			return err
		}
		s.Metrics[key] = m
	}
	return nil
}

func (s *Spec) parseMetric(name string, table map[string]any) (*MetricSpec, error) {
	path := "metrics." + name
	r := &reader{s: s, table: lowerKeys(table), path: path}
	m := &MetricSpec{
		Name:             name,
		SelectExpression: r.str("select_expression"),
		DataSource:       r.str("data_source"),
		FriendlyName:     r.str("friendly_name"),
		Description:      r.str("description"),
		BiggerIsBetter:   r.boolPtr("bigger_is_better"),
		AnalysisBases:    r.strings("analysis_bases"),
		AnalysisUnits:    r.strings("analysis_units"),
		Type:             r.str("type"),
		Category:         r.str("category"),
		DependsOn:        r.strings("depends_on"),
		Level:            r.str("level"),
	}
	if b := r.boolPtr("deprecated"); b != nil {
		m.Deprecated = *b
	}
	if o, ok := r.table["owner"]; ok {
		if str, isStr := o.(string); isStr {
			m.Owner = []string{str}
		} else {
			m.Owner = r.strings("owner")
		}
	}
	if n := r.str("name"); n != "" {
		m.Name = n
	}
	if r.err != nil {
		return nil, r.err
	}
	for _, b := range m.AnalysisBases {
		if b != "enrollments" && b != "exposures" {
			return nil, s.Locate(path+".analysis_bases", fmt.Errorf("unknown analysis basis %q (want enrollments or exposures)", b))
		}
	}
	for _, u := range m.AnalysisUnits {
		if u != "client_id" && u != "profile_group_id" {
			return nil, s.Locate(path+".analysis_units", fmt.Errorf("unknown analysis unit %q (want client_id or profile_group_id)", u))
		}
	}
	if m.Level != "" && m.Level != "gold" && m.Level != "silver" && m.Level != "bronze" {
		return nil, s.Locate(path+".level", fmt.Errorf("unknown level %q (want gold, silver or bronze)", m.Level))
	}
	raw, ok := r.table["statistics"]
	if !ok {
		return m, nil
	}
	stats, err := s.reader(raw, path+".statistics")
	if err != nil {
		return nil, err
	}
	m.Statistics = []StatisticSpec{}
	for _, statName := range sortedKeys(stats.table) {
		st, err := s.parseStatistic(path+".statistics."+statName, statName, stats.table[statName])
		if err != nil {
			return nil, err
		}
		m.Statistics = append(m.Statistics, st)
	}
	return m, nil
}

func (s *Spec) parseStatistic(path, name string, v any) (StatisticSpec, error) {
	r, err := s.reader(v, path)
	if err != nil {
		return StatisticSpec{}, err
	}
	st := StatisticSpec{Name: name, Params: map[string]any{}}
	for k, val := range r.table {
		if k != "pre_treatments" {
			st.Params[k] = val
		}
	}
	raw, ok := r.table["pre_treatments"]
	if !ok {
		return st, nil
	}
	items, ok := raw.([]any)
	if !ok {
		return st, s.Locate(path+".pre_treatments", fmt.Errorf("want a list, got %s", typeName(raw)))
	}
	for i, it := range items {
		switch p := it.(type) {
		case string:
			st.PreTreatments = append(st.PreTreatments, PreTreatmentSpec{Name: p, Params: map[string]any{}})
		case map[string]any:
			n, _ := p["name"].(string)
			if n == "" {
				return st, s.Locate(path+".pre_treatments", fmt.Errorf("item %d: missing name", i+1))
			}
			params := map[string]any{}
			for k, v := range p {
				if k != "name" {
					params[k] = v
				}
			}
			st.PreTreatments = append(st.PreTreatments, PreTreatmentSpec{Name: n, Params: params})
		default:
			return st, s.Locate(path+".pre_treatments", fmt.Errorf("item %d: want a name or a table, got %s", i+1, typeName(it)))
		}
	}
	return st, nil
}

func (s *Spec) parseDataSources(v any) error {
	r, err := s.reader(v, "data_sources")
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(r.table) {
		path := "data_sources." + key
		t, err := s.reader(r.table[key], path)
		if err != nil {
			return err
		}
		t.table = lowerKeys(t.table)
		ds := &DataSourceSpec{
			Name:                  key,
			FromExpression:        t.str("from_expression"),
			ClientIDColumn:        t.str("client_id_column"),
			SubmissionDateColumn:  t.str("submission_date_column"),
			ExperimentsColumnType: t.str("experiments_column_type"),
			DefaultDataset:        t.str("default_dataset"),
			BuildIDColumn:         t.str("build_id_column"),
			FriendlyName:          t.str("friendly_name"),
			Description:           t.str("description"),
			AnalysisUnits:         t.strings("analysis_units"),
			GroupIDColumn:         t.str("group_id_column"),
			GleanClientIDColumn:   t.str("glean_client_id_column"),
			LegacyClientIDColumn:  t.str("legacy_client_id_column"),
		}
		if b := t.boolPtr("columns_as_dimensions"); b != nil {
			ds.ColumnsAsDimensions = *b
		}
		if n := t.str("name"); n != "" {
			ds.Name = n
		}
		if t.err != nil {
			return t.err
		}
		if j, ok := t.table["joins"]; ok {
			jr, err := s.reader(j, path+".joins")
			if err != nil {
				return err
			}
			ds.Joins = map[string]JoinSpec{}
			for _, other := range sortedKeys(jr.table) {
				x, err := s.reader(jr.table[other], path+".joins."+other)
				if err != nil {
					return err
				}
				js := JoinSpec{Relationship: x.str("relationship"), OnExpression: x.str("on_expression")}
				if x.err != nil {
					return x.err
				}
				switch js.Relationship {
				case "", "one_to_one", "many_to_one", "one_to_many", "many_to_many":
				default:
					return s.Locate(path+".joins."+other+".relationship", fmt.Errorf("unknown relationship %q", js.Relationship))
				}
				ds.Joins[other] = js
			}
		}
		s.DataSources[key] = ds
	}
	return nil
}

func (s *Spec) parseSegments(v any) error {
	r, err := s.reader(v, "segments")
	if err != nil {
		return err
	}
	if raw, ok := r.table["data_sources"]; ok {
		dr, err := s.reader(raw, "segments.data_sources")
		if err != nil {
			return err
		}
		for _, key := range sortedKeys(dr.table) {
			path := "segments.data_sources." + key
			t, err := s.reader(dr.table[key], path)
			if err != nil {
				return err
			}
			t.table = lowerKeys(t.table)
			ds := &SegmentDataSourceSpec{
				Name:                 key,
				FromExpression:       t.str("from_expression"),
				ClientIDColumn:       orDefault(t.str("client_id_column"), "client_id"),
				SubmissionDateColumn: orDefault(t.str("submission_date_column"), "submission_date"),
				DefaultDataset:       t.str("default_dataset"),
				GroupIDColumn:        orDefault(t.str("group_id_column"), "profile_group_id"),
				GleanClientIDColumn:  t.str("glean_client_id_column"),
				LegacyClientIDColumn: t.str("legacy_client_id_column"),
			}
			if n := t.intPtr("window_start"); n != nil {
				ds.WindowStart = *n
			}
			if n := t.intPtr("window_end"); n != nil {
				ds.WindowEnd = *n
			}
			if n := t.str("name"); n != "" {
				ds.Name = n
			}
			if t.err != nil {
				return t.err
			}
			if _, ok := t.table["from_expression"]; !ok {
				return s.Locate(path, fmt.Errorf("segment data source %q has no from_expression", key))
			}
			s.SegmentData[key] = ds
		}
	}
	for _, key := range sortedKeys(r.table) {
		if key == "data_sources" {
			continue
		}
		path := "segments." + key
		t, err := s.reader(r.table[key], path)
		if err != nil {
			return err
		}
		t.table = lowerKeys(t.table)
		seg := &SegmentSpec{
			Name:             key,
			DataSource:       t.str("data_source"),
			SelectExpression: t.str("select_expression"),
			FriendlyName:     t.str("friendly_name"),
			Description:      t.str("description"),
		}
		if n := t.str("name"); n != "" {
			seg.Name = n
		}
		if t.err != nil {
			return t.err
		}
		for _, k := range []string{"data_source", "select_expression"} {
			if _, ok := t.table[k]; !ok {
				return s.Locate(path, fmt.Errorf("segment %q has no %s", key, k))
			}
		}
		s.Segments[key] = seg
	}
	return nil
}

var parameterKeys = map[string]bool{"name": true, "friendly_name": true, "description": true, "value": true, "default": true, "distinct_by_branch": true}

func (s *Spec) parseParameters(v any) error {
	r, err := s.reader(v, "parameters")
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(r.table) {
		path := "parameters." + key
		t, err := s.reader(r.table[key], path)
		if err != nil {
			return err
		}
		t.table = lowerKeys(t.table)
		for _, k := range sortedKeys(t.table) {
			if !parameterKeys[k] {
				return s.Locate(path+"."+k, fmt.Errorf("unknown parameter key %q%s", k, suggest(k, keysOf(parameterKeys))))
			}
		}
		p := &ParameterSpec{Name: key, FriendlyName: t.str("friendly_name"), Description: t.str("description")}
		if b := t.boolPtr("distinct_by_branch"); b != nil {
			p.DistinctByBranch = *b
		}
		p.Value = t.paramValue("value")
		p.Default = t.paramValue("default")
		if n := t.str("name"); n != "" {
			p.Name = n
		}
		if t.err != nil {
			return t.err
		}
		if err := p.validate(); err != nil {
			return s.Locate(path, err)
		}
		s.Parameters[key] = p
	}
	return nil
}

func (r *reader) paramValue(key string) any {
	v, ok := r.table[key]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		out := map[string]string{}
		for k, vv := range x {
			str, ok := vv.(string)
			if !ok {
				r.fail(key+"."+k, fmt.Errorf("want a string, got %s", typeName(vv)))
				return nil
			}
			out[k] = str
		}
		return out
	}
	r.fail(key, fmt.Errorf("want a string or a table of branch values, got %s", typeName(v)))
	return nil
}

func (s *Spec) parseFunctions(v any) error {
	r, err := s.reader(v, "functions")
	if err != nil {
		return err
	}
	s.Functions = Functions{}
	for _, key := range sortedKeys(r.table) {
		t, err := s.reader(r.table[key], "functions."+key)
		if err != nil {
			return err
		}
		def := t.str("definition")
		if t.err != nil {
			return t.err
		}
		s.Functions[key] = def
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

func periodListKeys() map[string]any {
	out := map[string]any{}
	for k := range listKeys {
		out[k] = true
	}
	return out
}
