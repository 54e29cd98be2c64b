package export

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles one of the published JSON Schemas (draft-07).
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.NewCompiler().Compile(filepath.Join(schemaDir, name))
	if err != nil {
		t.Fatalf("compiling %s: %v", name, err)
	}
	return s
}

// validateJSON validates a document against a compiled schema.
func validateJSON(schema *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return schema.Validate(inst)
}

// readExample reads a file of fixtures/schemas/examples.
func readExample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(schemaDir, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameJSON reports whether two documents hold the same JSON value (key order aside).
func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decoding our document: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("decoding the example: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

// indented is the document as the examples are laid out (Python's json.dumps(indent=2),
// which Go's json.Indent reproduces), with the final newline of the files.
func indented(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		t.Fatalf("indenting: %v\n%s", err, data)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

const quantileMessage = "Error while computing statistic bootstrap_mean for metric active_hours: Quantiles must be in the range [0, 1]"

// testLoggingRow is one of the ERROR rows Jetstream's integration test test_logging leaves
// in the log table (a bootstrap_mean that fails for active_hours).
func testLoggingRow(basis, segment string, ts time.Time) LogRow {
	return LogRow{
		Timestamp: ts, Source: "jetstream", Experiment: "test-experiment", Metric: "active_hours",
		Statistic: "bootstrap_mean", AnalysisBasis: basis, Segment: segment, AnalysisPeriod: "week",
		Message: quantileMessage, LogLevel: "ERROR",
		Exception:     "(<class 'jetstream.errors.StatisticComputationException'>, StatisticComputationException('" + quantileMessage + "'), None)",
		Filename:      "statistics.py",
		FuncName:      "apply",
		ExceptionType: "StatisticComputationException",
	}
}

func logAt(sec, nsec int) time.Time { return time.Date(2020, 4, 12, 5, 1, sec, nsec, time.UTC) }

// exampleLogRows are the seven rows of examples/errors_test_experiment.json (in the example's
// order), as log table rows.
func exampleLogRows() []LogRow {
	return []LogRow{
		testLoggingRow("enrollments", "all", logAt(33, 0)),
		testLoggingRow("enrollments", "all", logAt(33, 0)),
		testLoggingRow("exposures", "all", logAt(34, 0)),
		testLoggingRow("exposures", "all", logAt(34, 900_000_000)), // sub-second: written to the second
		testLoggingRow("enrollments", "regular_user_v3", logAt(35, 0)),
		testLoggingRow("exposures", "regular_user_v3", logAt(35, 0)),
		{
			Timestamp: logAt(36, 0), Source: "jetstream", Experiment: "test-experiment", Metric: "active_hours",
			Segment: "all", AnalysisPeriod: "week", LogLevel: "WARNING",
			Message:  "Covariate adjustment table moz-fx-data-experiments.mozanalysis.test_experiment_enrollments_preenrollment_week_1 does not exist (or `active_hours` not found in table), falling back to unadjusted inferences",
			Filename: "analysis.py", FuncName: "_create_subset_metric_table_query_covariate",
		},
	}
}

// TestErrorsJSONReproducesExample builds the example's rows, shuffled (rows of the same
// second keep their relative order) and mixed with rows the export must leave out (the two
// skipped exception types, an INFO record), and checks the document: valid against
// errors.schema.json, the same JSON value as examples/errors_test_experiment.json, and, once
// indented as the example is, the same bytes (so key order, "None", nulls and the unescaped
// "<" ">" all match).
func TestErrorsJSONReproducesExample(t *testing.T) {
	ex := exampleLogRows()
	ended := LogRow{Timestamp: logAt(34, 0), Source: "jetstream", Experiment: "test-experiment", LogLevel: "ERROR",
		Message: "test-experiment ended", Exception: "(<class 'jetstream.errors.EndedException'>, EndedException('test-experiment ended'), None)",
		Filename: "analysis.py", FuncName: "check_runnable", ExceptionType: "EndedException"}
	notComplete := LogRow{Timestamp: logAt(30, 0), Source: "jetstream", Experiment: "test-experiment", LogLevel: "ERROR",
		Message: "enrollment not complete", Exception: "(<class 'jetstream.errors.EnrollmentNotCompleteException'>, EnrollmentNotCompleteException('x'), None)",
		Filename: "analysis.py", FuncName: "run", ExceptionType: "EnrollmentNotCompleteException"}
	info := LogRow{Timestamp: logAt(31, 0), Source: "jetstream", Experiment: "test-experiment", LogLevel: "INFO",
		Message: "Processing period week", Filename: "analysis.py", FuncName: "run"}
	rows := []LogRow{ex[6], ex[4], ex[2], ended, ex[0], ex[5], ex[3], info, ex[1], notComplete}

	got := ErrorsJSON(rows)
	if err := validateJSON(compileSchema(t, "errors.schema.json"), got); err != nil {
		t.Fatalf("schema: %v\n%s", err, got)
	}
	want := readExample(t, "errors_test_experiment.json")
	if !sameJSON(t, got, want) {
		t.Errorf("ErrorsJSON differs from the example:\n%s", indented(t, got))
	}
	if g := indented(t, got); !bytes.Equal(g, want) {
		t.Errorf("indented ErrorsJSON is not the example's bytes:\n%s", g)
	}
	// compact, as pydantic writes it
	if !bytes.HasPrefix(got, []byte(`[{"analysis_basis":"enrollments","source":"jetstream","exception":"(<class 'jetstream.errors.StatisticComputationException'>, `)) {
		t.Errorf("document starts %.120s", got)
	}
	if bytes.Contains(got, []byte("analysis_period")) || bytes.Contains(got, []byte("EndedException")) ||
		bytes.Contains(got, []byte("EnrollmentNotComplete")) || bytes.Contains(got, []byte("Processing period")) {
		t.Errorf("document holds a column or row it must not:\n%s", got)
	}
}

// TestErrorsJSONEmpty: no rows, or only rows that are left out, give "[]" (as
// examples/errors_empty.json), which the schema accepts.
func TestErrorsJSONEmpty(t *testing.T) {
	skipped := []LogRow{
		{Timestamp: logAt(1, 0), LogLevel: "ERROR", ExceptionType: "EndedException", Message: "m", Filename: "f", FuncName: "g"},
		{Timestamp: logAt(2, 0), LogLevel: "ERROR", ExceptionType: "EnrollmentNotCompleteException", Message: "m", Filename: "f", FuncName: "g"},
		{Timestamp: logAt(3, 0), LogLevel: "DEBUG", Message: "m", Filename: "f", FuncName: "g"},
	}
	schema := compileSchema(t, "errors.schema.json")
	for name, rows := range map[string][]LogRow{"nil": nil, "skipped only": skipped} {
		got := ErrorsJSON(rows)
		if string(got) != "[]" {
			t.Errorf("%s: ErrorsJSON = %s, want []", name, got)
		}
		if !sameJSON(t, got, readExample(t, "errors_empty.json")) {
			t.Errorf("%s: differs from errors_empty.json", name)
		}
		if err := validateJSON(schema, got); err != nil {
			t.Errorf("%s: schema: %v", name, err)
		}
	}
}

// TestErrorsJSONNulls: a row with no context writes every key, null for the context, the
// string "None" for the exception; CRITICAL passes, text is written unescaped.
func TestErrorsJSONNulls(t *testing.T) {
	row := LogRow{Timestamp: time.Date(2025, 9, 10, 6, 7, 8, 0, time.FixedZone("CEST", 2*3600)),
		LogLevel: "CRITICAL", Message: `a <b> & "c"`, Filename: "cli.py", FuncName: "run"}
	got := ErrorsJSON([]LogRow{row})
	want := `[{"analysis_basis":null,"source":null,"exception":"None","exception_type":null,"experiment":null,` +
		`"filename":"cli.py","func_name":"run","log_level":"CRITICAL","message":"a <b> & \"c\"","metric":null,` +
		`"segment":null,"statistic":null,"timestamp":"2025-09-10T04:07:08Z"}]`
	if string(got) != want {
		t.Errorf("ErrorsJSON =\n%s\nwant\n%s", got, want)
	}
	if err := validateJSON(compileSchema(t, "errors.schema.json"), got); err != nil {
		t.Errorf("schema: %v", err)
	}
}

// TestErrorsSchemaRejectsInvalid: the schema loads and refuses both invalid examples (a
// missing timestamp; the source jetstream-testing, which Experimenter's model rejects), so
// the validations above can fail.
func TestErrorsSchemaRejectsInvalid(t *testing.T) {
	schema := compileSchema(t, "errors.schema.json")
	rejectsInvalidExamples(t, schema, "errors_*.json", 2)
	// and our own output with an unknown source is refused too
	bad := ErrorsJSON([]LogRow{{Timestamp: logAt(1, 0), Source: "jetstream-testing", LogLevel: "ERROR", Message: "m", Filename: "f", FuncName: "g"}})
	if err := validateJSON(schema, bad); err == nil {
		t.Errorf("source jetstream-testing validated: %s", bad)
	}
}

// TestErrorsSince: the start of the weekly cycle, computed by hand.
func TestErrorsSince(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
	start := time.Date(2025, 9, 10, 4, 31, 12, 551234000, time.UTC)
	cases := []struct {
		name          string
		start, enrEnd time.Time
		want          time.Time
	}{
		// cycles begin Aug 15, 22, 29, Sep 5, 12: the last one before the run is Sep 5
		{"vertical-tabs-sidebar-launch", start, day(8, 14), day(9, 5)},
		{"no enrollment end: the run's start, floored to the minute", start, time.Time{}, time.Date(2025, 9, 10, 4, 31, 0, 0, time.UTC)},
		{"first cycle starts after the run", start, day(9, 10), time.Date(2025, 9, 10, 4, 31, 0, 0, time.UTC)},
		{"a cycle starting at the run's very start does not count (strictly before)", day(9, 12), day(9, 4), day(9, 5)},
		{"enrollment ended the day before the run", start, day(9, 9), time.Date(2025, 9, 10, 0, 0, 0, 0, time.UTC)},
		{"no run start: no bound", time.Time{}, day(8, 14), time.Time{}},
	}
	for _, c := range cases {
		if got := ErrorsSince(c.start, c.enrEnd); !got.Equal(c.want) {
			t.Errorf("%s: ErrorsSince = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestExperimentLogs: rows of the experiment (exact slug) at or after since.
func TestExperimentLogs(t *testing.T) {
	rows := []LogRow{
		{Experiment: "test-experiment", Timestamp: logAt(10, 0), Message: "before"},
		{Experiment: "test-experiment", Timestamp: logAt(20, 0), Message: "at"},
		{Experiment: "test_experiment", Timestamp: logAt(30, 0), Message: "normalised slug: another experiment"},
		{Experiment: "test-experiment", Timestamp: logAt(40, 0), Message: "after"},
		{Timestamp: logAt(50, 0), Message: "no experiment"},
	}
	messages := func(rs []LogRow) string {
		var m []string
		for _, r := range rs {
			m = append(m, r.Message)
		}
		return strings.Join(m, ",")
	}
	if got := messages(ExperimentLogs(rows, "test-experiment", logAt(20, 0))); got != "at,after" {
		t.Errorf("since :20 = %s", got)
	}
	if got := messages(ExperimentLogs(rows, "test-experiment", time.Time{})); got != "before,at,after" {
		t.Errorf("no bound = %s", got)
	}
}

// TestLogTable: the NDJSON table rows (exact text: schema order, NULLs omitted, "None",
// the handler's timestamp format), their decoding (also of BigQuery's export forms), and
// the schema's columns, which are the encoded keys in order.
func TestLogTable(t *testing.T) {
	rows := []LogRow{exampleLogRows()[3], exampleLogRows()[6]}
	data := EncodeLogTable(rows)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), data)
	}
	want1 := `{"timestamp":"2020-04-12 05:01:36","source":"jetstream","experiment":"test-experiment","metric":"active_hours",` +
		`"segment":"all","analysis_period":"week","message":"Covariate adjustment table moz-fx-data-experiments.mozanalysis.test_experiment_enrollments_preenrollment_week_1 does not exist (or ` +
		"`active_hours`" + ` not found in table), falling back to unadjusted inferences","log_level":"WARNING","exception":"None",` +
		`"filename":"analysis.py","func_name":"_create_subset_metric_table_query_covariate"}`
	if lines[1] != want1 {
		t.Errorf("table row =\n%s\nwant\n%s", lines[1], want1)
	}
	var keys []string
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if s, ok := tok.(string); ok && dec.More() {
			keys = append(keys, s)
			_, _ = dec.Token() // the value (all strings)
		}
	}
	schema := LogsTableSchema()
	var names []string
	for _, f := range schema {
		names = append(names, f.Name)
		if f.Mode != "NULLABLE" || (f.Type != "STRING") != (f.Name == "timestamp") {
			t.Errorf("column %+v", f)
		}
	}
	if strings.Join(names, ",") != "timestamp,source,experiment,metric,statistic,analysis_basis,segment,analysis_period,message,log_level,exception,filename,func_name,exception_type" {
		t.Errorf("schema columns = %v", names)
	}
	if strings.Join(keys, ",") != strings.Join(names, ",") {
		t.Errorf("a full row's keys %v are not the schema's columns %v", keys, names)
	}
	js, _ := json.Marshal(schema[:1])
	if string(js) != `[{"name":"timestamp","type":"TIMESTAMP","mode":"NULLABLE"}]` {
		t.Errorf("schema JSON = %s", js)
	}
	schema[0].Name = "changed"
	if LogsTableSchema()[0].Name != "timestamp" {
		t.Error("LogsTableSchema returns a shared value")
	}

	back, err := DecodeLogTable(data)
	if err != nil {
		t.Fatal(err)
	}
	wantBack := []LogRow{rows[0], rows[1]}
	wantBack[0].Timestamp = logAt(34, 0) // the table keeps whole seconds
	if !reflect.DeepEqual(back, wantBack) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", back, wantBack)
	}

	exported := "{\"timestamp\":\"2020-04-12 05:01:33 UTC\",\"log_level\":\"ERROR\",\"exception\":null}\n\n" +
		"{\"timestamp\":\"2020-04-12T07:01:34+02:00\",\"log_level\":\"WARNING\"}\n"
	got, err := DecodeLogTable([]byte(exported))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Timestamp.Equal(logAt(33, 0)) || !got[1].Timestamp.Equal(logAt(34, 0)) || got[0].Exception != "" || got[1].LogLevel != "WARNING" {
		t.Errorf("decoded BigQuery export = %+v", got)
	}
	if _, err := DecodeLogTable([]byte("{\"timestamp\":\"2020-04-12 05:01:33\"}\n{\"timestamp\":\"12/04/2020\"}\n")); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "12/04/2020") {
		t.Errorf("bad timestamp error = %v", err)
	}
	noTime := EncodeLogTable([]LogRow{{LogLevel: "ERROR"}})
	if string(noTime) != `{"log_level":"ERROR","exception":"None"}`+"\n" {
		t.Errorf("row without timestamp = %s", noTime)
	}
	if _, err := DecodeLogTable(noTime); err == nil || !strings.Contains(err.Error(), "line 1: timestamp is missing") {
		t.Errorf("missing timestamp error = %v", err)
	}
}

func TestErrorsFile(t *testing.T) {
	if got := ErrorsFile("test_experiment"); got != "errors_test_experiment.json" {
		t.Errorf("ErrorsFile = %s", got)
	}
	if got := MetadataFile("vertical_tabs_sidebar_launch"); got != "metadata_vertical_tabs_sidebar_launch.json" {
		t.Errorf("MetadataFile = %s", got)
	}
}

// rejectsInvalidExamples checks that schema refuses every examples/invalid document matching
// pattern, and that there are want of them (so that a renamed folder cannot pass silently).
func rejectsInvalidExamples(t *testing.T, schema *jsonschema.Schema, pattern string, want int) {
	t.Helper()
	invalid, err := filepath.Glob(filepath.Join(schemaDir, "examples", "invalid", pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(invalid) != want {
		t.Fatalf("found %d invalid examples %s, want %d", len(invalid), pattern, want)
	}
	for _, path := range invalid {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(schema, data); err == nil {
			t.Errorf("%s: validated, want a schema error", filepath.Base(path))
		}
	}
}
