package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LogsDataset and LogsTable name Jetstream's log table (moz-fx-data-experiments.monitoring.logs
// in production): every WARNING or worse of every run, whatever the experiment.
const (
	LogsDataset = "monitoring"
	LogsTable   = "logs"
)

// NoException is what the exception column holds for a record logged without an exception:
// Jetstream's handler writes str(record.exc_info), and exc_info is None then. The errors
// export carries the text on, so Experimenter sees "None" rather than null.
const NoException = "None"

// SkippedExceptionTypes are the exception types the errors export leaves out: they say that an
// experiment has ended or is still enrolling, which is expected and not worth showing in
// Experimenter's list of analysis errors.
var SkippedExceptionTypes = []string{"EndedException", "EnrollmentNotCompleteException"}

// LogRow is one row of Jetstream's log table: a log record of level WARNING or above with
// the context the analysis attached to it. An empty string is a NULL column (Jetstream
// writes None for context it does not have). Exception is str(exc_info) of the record, ""
// when there was none (written as "None", see NoException); ExceptionType is the class
// name of the exception.
type LogRow struct {
	Timestamp      time.Time
	Source         string // jetstream, sizing, jetstream-preview (--log-source)
	Experiment     string // the experiment's slug, not normalised
	Metric         string
	Statistic      string
	AnalysisBasis  string // enrollments or exposures
	Segment        string
	AnalysisPeriod string // e.g. week or day_3
	Message        string
	LogLevel       string // WARNING, ERROR or CRITICAL
	Exception      string
	Filename       string // the source file that logged, e.g. statistics.py
	FuncName       string
	ExceptionType  string
}

// SchemaField is a column of a BigQuery table schema, in the JSON shape of `bq show
// --schema` and of a load job's schema ({"name", "type", "mode"}).
type SchemaField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Mode string `json:"mode"`
}

// LogsTableSchema is the schema of the log table, in the order of its columns. It is a
// function so that callers cannot change a shared value.
func LogsTableSchema() []SchemaField {
	col := func(name, typ string) SchemaField { return SchemaField{Name: name, Type: typ, Mode: "NULLABLE"} }
	return []SchemaField{
		col("timestamp", "TIMESTAMP"),
		col("source", "STRING"),
		col("experiment", "STRING"),
		col("metric", "STRING"),
		col("statistic", "STRING"),
		col("analysis_basis", "STRING"),
		col("segment", "STRING"),
		col("analysis_period", "STRING"),
		col("message", "STRING"),
		col("log_level", "STRING"),
		col("exception", "STRING"),
		col("filename", "STRING"),
		col("func_name", "STRING"),
		col("exception_type", "STRING"),
	}
}

// logTimestamp is the text of a log row's timestamp in the table: Jetstream's handler
// formats the record's creation time with "%Y-%m-%d %H:%M:%S" (whole seconds, no zone,
// which BigQuery reads as UTC; its workers run in UTC).
const logTimestamp = time.DateTime

// EncodeLogTable renders log rows as newline-delimited JSON rows of the log table, ready
// for a BigQuery load job: columns in schema order, NULL columns omitted (a zero timestamp
// too), the timestamp in UTC to the second, and exception "None" when the record had none
// (the value Jetstream's handler stores).
func EncodeLogTable(rows []LogRow) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		w := objectWriter{b: &b}
		b.WriteByte('{')
		if !r.Timestamp.IsZero() {
			w.str("timestamp", r.Timestamp.UTC().Format(logTimestamp))
		}
		w.optional("source", r.Source)
		w.optional("experiment", r.Experiment)
		w.optional("metric", r.Metric)
		w.optional("statistic", r.Statistic)
		w.optional("analysis_basis", r.AnalysisBasis)
		w.optional("segment", r.Segment)
		w.optional("analysis_period", r.AnalysisPeriod)
		w.optional("message", r.Message)
		w.optional("log_level", r.LogLevel)
		w.optional("exception", orNone(r.Exception))
		w.optional("filename", r.Filename)
		w.optional("func_name", r.FuncName)
		w.optional("exception_type", r.ExceptionType)
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// jsonLogRow is the decoding shape of a log table row (null and missing both read as "").
type jsonLogRow struct {
	Timestamp      string `json:"timestamp"`
	Source         string `json:"source"`
	Experiment     string `json:"experiment"`
	Metric         string `json:"metric"`
	Statistic      string `json:"statistic"`
	AnalysisBasis  string `json:"analysis_basis"`
	Segment        string `json:"segment"`
	AnalysisPeriod string `json:"analysis_period"`
	Message        string `json:"message"`
	LogLevel       string `json:"log_level"`
	Exception      string `json:"exception"`
	Filename       string `json:"filename"`
	FuncName       string `json:"func_name"`
	ExceptionType  string `json:"exception_type"`
}

// DecodeLogTable reads newline-delimited log table rows, as EncodeLogTable writes them or as
// BigQuery exports the table (timestamps "2020-04-12 05:01:33", with " UTC" or as RFC 3339).
// An exception "None" reads as "" (no exception). A row without a timestamp is an error;
// errors name the line.
func DecodeLogTable(data []byte) ([]LogRow, error) {
	var rows []LogRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var j jsonLogRow
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return nil, fmt.Errorf("log table line %d: %w", line, err)
		}
		ts, err := parseLogTimestamp(j.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("log table line %d: %w", line, err)
		}
		exc := j.Exception
		if exc == NoException {
			exc = ""
		}
		rows = append(rows, LogRow{
			Timestamp: ts, Source: j.Source, Experiment: j.Experiment, Metric: j.Metric,
			Statistic: j.Statistic, AnalysisBasis: j.AnalysisBasis, Segment: j.Segment,
			AnalysisPeriod: j.AnalysisPeriod, Message: j.Message, LogLevel: j.LogLevel,
			Exception: exc, Filename: j.Filename, FuncName: j.FuncName, ExceptionType: j.ExceptionType,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("log table: %w", err)
	}
	return rows, nil
}

func parseLogTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("timestamp is missing")
	}
	for _, layout := range []string{logTimestamp, "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, strings.TrimSuffix(s, " UTC")); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: want YYYY-MM-DD HH:MM:SS[.ffffff][ UTC] or RFC 3339", s)
}

// ErrorsSince is the first timestamp the errors export of a run includes: the start of the
// current weekly cycle of the analysis, so that Experimenter shows the errors of the latest
// weekly results and not those of earlier weeks, which have been recomputed since.
//
// As Jetstream: the cycle starts the day after the enrollment end and restarts every 7 days;
// the start is the last restart before analysisStart, or analysisStart itself when there is
// none (no enrollment end, or the first cycle has not begun); then floored to the minute. A
// zero analysisStart means no lower bound (zero result).
func ErrorsSince(analysisStart, enrollmentEnd time.Time) time.Time {
	if analysisStart.IsZero() {
		return time.Time{}
	}
	since := analysisStart
	if !enrollmentEnd.IsZero() {
		for t := enrollmentEnd.AddDate(0, 0, 1); t.Before(analysisStart); t = t.AddDate(0, 0, 7) {
			since = t
		}
	}
	return since.UTC().Truncate(time.Minute)
}

// ExperimentLogs selects the log rows of one experiment (its slug as logged, not
// normalised) at or after since (zero: all), as Jetstream's errors export queries the log
// table. ErrorsJSON then leaves out the skipped exception types and orders them.
func ExperimentLogs(rows []LogRow, experiment string, since time.Time) []LogRow {
	var out []LogRow
	for _, r := range rows {
		if r.Experiment == experiment && (since.IsZero() || !r.Timestamp.Before(since)) {
			out = append(out, r)
		}
	}
	return out
}

// logLevels are the levels the log table holds (Jetstream's handler is set to WARNING).
var logLevels = map[string]bool{"WARNING": true, "ERROR": true, "CRITICAL": true}

// ErrorsJSON renders an experiment's log rows as the document Jetstream publishes to
// gs://<bucket>/errors/errors_<slug>.json for Experimenter: a JSON array, "[]" when empty,
// oldest row first (rows of the same second keep their order), one object per row with
// every key present in the order pydantic writes them (analysis_basis, source, exception,
// exception_type, experiment, filename, func_name, log_level, message, metric, segment,
// statistic, timestamp), null for empty context, exception "None" for a row without one,
// the timestamp as ISO 8601 UTC to the second with "Z", and no analysis_period. The text is
// compact, as pydantic's model_dump_json writes it (no HTML escaping of "<" and ">", which
// every exception text contains).
//
// Rows whose exception type is in SkippedExceptionTypes are left out, and so are rows below
// WARNING, which the log table never holds. Deviation: Jetstream filters with
// `exception_type != 'EndedException' AND …`, which in SQL also drops every row whose
// exception_type is NULL (warnings logged without an exception). The published format
// (fixtures/schemas/README.md, examples/errors_test_experiment.json) keeps them, and so do
// we: a warning such as "falling back to unadjusted inferences" matters to the reader.
func ErrorsJSON(rows []LogRow) []byte {
	var kept []LogRow
	for _, r := range rows {
		if logLevels[r.LogLevel] && !slices.Contains(SkippedExceptionTypes, r.ExceptionType) {
			kept = append(kept, r)
		}
	}
	// the table holds whole seconds; order as ORDER BY timestamp does on them
	slices.SortStableFunc(kept, func(a, b LogRow) int {
		return a.Timestamp.Truncate(time.Second).Compare(b.Timestamp.Truncate(time.Second))
	})
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range kept {
		if i > 0 {
			b.WriteByte(',')
		}
		w := objectWriter{b: &b}
		b.WriteByte('{')
		w.nullable("analysis_basis", r.AnalysisBasis)
		w.nullable("source", r.Source)
		w.nullable("exception", orNone(r.Exception))
		w.nullable("exception_type", r.ExceptionType)
		w.nullable("experiment", r.Experiment)
		w.str("filename", r.Filename)
		w.str("func_name", r.FuncName)
		w.str("log_level", r.LogLevel)
		w.str("message", r.Message)
		w.nullable("metric", r.Metric)
		w.nullable("segment", r.Segment)
		w.nullable("statistic", r.Statistic)
		w.str("timestamp", r.Timestamp.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z"))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes()
}

// ErrorsFile is the file name of an experiment's published errors document, given the
// normalised slug (errors_<slug>.json). transforms.ErrorsFile is a different file: the
// pipeline's own per-run error rows.
func ErrorsFile(tableSlug string) string { return "errors_" + tableSlug + ".json" }

func orNone(exception string) string {
	if exception == "" {
		return NoException
	}
	return exception
}

// objectWriter writes the members of a JSON object in a fixed order, the way pydantic and
// BigQuery write them: no spaces, strings without HTML escaping.
type objectWriter struct {
	b *bytes.Buffer
	n int
}

func (w *objectWriter) key(k string) {
	if w.n > 0 {
		w.b.WriteByte(',')
	}
	w.n++
	writeJSONString(w.b, k)
	w.b.WriteByte(':')
}

// str writes a string member.
func (w *objectWriter) str(k, v string) {
	w.key(k)
	writeJSONString(w.b, v)
}

// nullable writes a string member, null when v is empty.
func (w *objectWriter) nullable(k, v string) {
	w.key(k)
	if v == "" {
		w.b.WriteString("null")
		return
	}
	writeJSONString(w.b, v)
}

// optional writes a string member unless v is empty (a NULL column of a table row).
func (w *objectWriter) optional(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

// raw writes a member whose value is already JSON.
func (w *objectWriter) raw(k string, v []byte) {
	w.key(k)
	w.b.Write(v)
}

// writeJSONString writes s as a JSON string. Unlike json.Marshal it keeps "<", ">" and "&"
// as they are (Python's serialisers do not escape them); U+2028 and U+2029 are still
// escaped, which is valid JSON of the same value.
func writeJSONString(b *bytes.Buffer, s string) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes (invalid UTF-8 becomes U+FFFD)
	b.Write(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
}
