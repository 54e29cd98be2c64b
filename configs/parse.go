package configs

import (
	"errors"
	"fmt"
	"os"
	"sort"
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
	s := &Spec{
		File:        name,
		PeriodLists: map[Period][]string{},
		Metrics:     map[string]*MetricSpec{},
		DataSources: map[string]*DataSourceSpec{},
		pos:         indexPositions(data),
	}
	for _, k := range sortedKeys(doc) {
		if !topLevelKeys[k] {
			return nil, s.Locate(k, fmt.Errorf("unknown top-level key"))
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
		r.err = r.s.Locate(r.path+"."+key, err)
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
	r.fail(key, fmt.Errorf("want an integer, got %v", v))
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
	s.Experiment = ExperimentSpec{
		StartDate:        r.date("start_date"),
		EndDate:          r.date("end_date"),
		EnrollmentPeriod: r.intPtr("enrollment_period"),
		ReferenceBranch:  r.str("reference_branch"),
	}
	if b := r.boolPtr("skip"); b != nil {
		s.Experiment.Skip = *b
	}
	return r.err
}

func (s *Spec) parseMetrics(v any) error {
	r, err := s.reader(v, "metrics")
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(r.table) {
		val := r.table[key]
		if period, ok := listKeys[key]; ok {
			names := r.strings(key)
			if r.err != nil {
				return r.err
			}
			s.PeriodLists[period] = names
			continue
		}
		table, ok := val.(map[string]any)
		if !ok {
			return s.Locate("metrics."+key, fmt.Errorf("not a metric definition table nor a period list (daily, weekly, 28_day, overall, preenrollment_weekly, preenrollment_days28)"))
		}
		m, err := s.parseMetric(strings.ToLower(key), table)
		if err != nil {
			return err
		}
		s.Metrics[m.Name] = m
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
	stats, err := s.reader(r.table["statistics"], path+".statistics")
	if err != nil {
		return nil, err
	}
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
			st.PreTreatments = append(st.PreTreatments, PreTreatmentSpec{Name: p})
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
		name := strings.ToLower(key)
		path := "data_sources." + name
		t, err := s.reader(r.table[key], path)
		if err != nil {
			return err
		}
		t.table = lowerKeys(t.table)
		ds := &DataSourceSpec{
			Name:                  name,
			FromExpression:        t.str("from_expression"),
			ClientIDColumn:        t.str("client_id_column"),
			SubmissionDateColumn:  t.str("submission_date_column"),
			ExperimentsColumnType: t.str("experiments_column_type"),
			FriendlyName:          t.str("friendly_name"),
			Description:           t.str("description"),
		}
		if n := t.str("name"); n != "" {
			ds.Name = n
		}
		if t.err != nil {
			return t.err
		}
		s.DataSources[ds.Name] = ds
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

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
