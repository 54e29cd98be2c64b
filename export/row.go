// Package export reads and writes Jetstream's published documents: statistics tables as
// newline-delimited JSON (the shape of a BigQuery load/export) and the per-period
// statistics JSON files Experimenter reads (statistics_<slug>_<suffix>.json).
package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// MarshalRow renders a statistic row as BigQuery's JSON export does: columns in schema
// order, NULL columns (empty strings, NaN and ±Inf) omitted, window_index as a string.
// window ≤ 0 omits window_index (a table row rather than a view row).
func MarshalRow(r statistics.Row, window int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	str := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(v)
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	num := func(k string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", k, strconv.FormatFloat(v, 'g', -1, 64))
	}
	str("metric", r.Metric)
	str("statistic", r.Statistic)
	str("parameter", r.Parameter)
	str("branch", r.Branch)
	str("comparison", r.Comparison)
	str("comparison_to_branch", r.ComparisonToBranch)
	num("ci_width", r.CIWidth)
	num("point", r.Point)
	num("lower", r.Lower)
	num("upper", r.Upper)
	str("segment", r.Segment)
	str("analysis_basis", r.AnalysisBasis)
	if window > 0 {
		str("window_index", strconv.Itoa(window))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// jsonRow is the decoding shape of a row; pointers tell NULL from zero.
type jsonRow struct {
	Metric             string          `json:"metric"`
	Statistic          string          `json:"statistic"`
	Parameter          json.RawMessage `json:"parameter"`
	Branch             string          `json:"branch"`
	Comparison         string          `json:"comparison"`
	ComparisonToBranch string          `json:"comparison_to_branch"`
	CIWidth            *float64        `json:"ci_width"`
	Point              *float64        `json:"point"`
	Lower              *float64        `json:"lower"`
	Upper              *float64        `json:"upper"`
	Segment            string          `json:"segment"`
	AnalysisBasis      string          `json:"analysis_basis"`
	WindowIndex        string          `json:"window_index"`
}

// UnmarshalRow reads a row written by MarshalRow; window is 0 when absent.
func UnmarshalRow(data []byte) (r statistics.Row, window int, err error) {
	var j jsonRow
	if err := json.Unmarshal(data, &j); err != nil {
		return r, 0, err
	}
	orNaN := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	r = statistics.Row{
		Metric: j.Metric, Statistic: j.Statistic, Branch: j.Branch,
		Comparison: j.Comparison, ComparisonToBranch: j.ComparisonToBranch,
		CIWidth: orNaN(j.CIWidth), Point: orNaN(j.Point), Lower: orNaN(j.Lower), Upper: orNaN(j.Upper),
		Segment: j.Segment, AnalysisBasis: j.AnalysisBasis,
	}
	if len(j.Parameter) > 0 && string(j.Parameter) != "null" {
		var s string
		if json.Unmarshal(j.Parameter, &s) == nil {
			r.Parameter = s
		} else {
			r.Parameter = string(j.Parameter)
		}
	}
	if j.WindowIndex != "" {
		if window, err = strconv.Atoi(j.WindowIndex); err != nil {
			return r, 0, fmt.Errorf("window_index %q: %w", j.WindowIndex, err)
		}
	}
	return r, window, nil
}
