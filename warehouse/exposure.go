package warehouse

import (
	"fmt"
	"time"
)

// ExposureSignal is a configured exposure ([experiment.exposure_signal], mozanalysis'
// ExposureSignal): a client is exposed on the days its data-source rows satisfy
// SelectExpression, on or after its enrollment date, within the signal's window. It
// replaces the default exposure events in the enrollments table and, for the exposures
// basis, is recomputed over each analysis window by the metrics query.
type ExposureSignal struct {
	Name                 string
	SelectExpression     string // a row-level boolean, e.g. active_hours_sum > 0
	FromExpression       string
	ClientIDColumn       string
	GroupIDColumn        string
	SubmissionDateColumn string
	// WindowStart and WindowEnd are days after the first enrollment date: an integer, or
	// one of enrollment_start, enrollment_end, analysis_window_start, analysis_window_end;
	// nil means 0 (and, for the end, counting from the last enrollment date).
	WindowStart, WindowEnd any
}

// dates resolves the signal window to data dates, as mozanalysis' ExposureSignal does with
// the time limits in force: first and last enrollment date and the first analysis window
// [windowStart, windowEnd] (enrollments table: the day period's first window, [0, 0]).
func (x ExposureSignal) dates(first, last time.Time, windowStart, windowEnd int) (from, to time.Time, err error) {
	start, _, err := x.offset("window_start", x.WindowStart, first, last, windowStart, windowEnd)
	if err != nil {
		return from, to, err
	}
	end, set, err := x.offset("window_end", x.WindowEnd, first, last, windowStart, windowEnd)
	if err != nil {
		return from, to, err
	}
	base := first
	if !set {
		base = last
	}
	return first.AddDate(0, 0, start), base.AddDate(0, 0, end), nil
}

func (x ExposureSignal) offset(key string, v any, first, last time.Time, windowStart, windowEnd int) (days int, set bool, err error) {
	enrollment := int(last.Sub(first).Hours() / 24)
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return int(v), true, nil
	case int:
		return v, true, nil
	case string:
		switch v {
		case "enrollment_start":
			return 0, true, nil
		case "enrollment_end":
			return enrollment, true, nil
		case "analysis_window_start":
			return enrollment + windowStart, true, nil
		case "analysis_window_end":
			return enrollment + windowEnd, true, nil
		}
	}
	return 0, false, fmt.Errorf("exposure signal %q: %s: %v is not a valid analysis window limit (an integer, enrollment_start, enrollment_end, analysis_window_start or analysis_window_end)", x.Name, key, v)
}

// query renders each enrolled client's exposure from the signal: the first date and the
// number of days the signal holds. enrollments names a relation with analysis_id, branch
// and enrollment_date; clients never exposed get a NULL date and 0 events.
func (x ExposureSignal) query(d Dialect, enrollments string, from, to time.Time, unit string) string {
	date := "ds." + x.SubmissionDateColumn
	return fmt.Sprintf(`SELECT
        e.analysis_id, e.branch,
        MIN(%[1]s) AS exposure_date,
        COUNT(%[1]s) AS num_exposure_events
    FROM %[2]s e
    LEFT JOIN %[3]s ds
        ON ds.%[4]s = e.analysis_id
        AND %[1]s BETWEEN %[5]s AND %[6]s
        AND %[1]s >= e.enrollment_date
        AND (%[7]s)
    GROUP BY e.analysis_id, e.branch`,
		date, enrollments, d.Rewrite(x.FromExpression), idColumn(unit, x.ClientIDColumn, x.GroupIDColumn),
		d.Date(from), d.Date(to), d.Rewrite(x.SelectExpression))
}
