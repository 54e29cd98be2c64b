package transforms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/statistics"
)

func init() {
	register.DoFn3x1[context.Context, string, func(*statistics.Row) bool, error](&writeTableFn{})
	register.Iter1[statistics.Row]()
	register.DoFn3x1[context.Context, string, func(*AnalysisError) bool, error](&writeErrorsFn{})
	register.Iter1[AnalysisError]()
	register.Function1x2[AnalysisError, string, AnalysisError](errorKey)
	register.Emitter2[string, AnalysisError]()
}

// WriteTables writes each statistics table (rows keyed by table name) as one
// newline-delimited JSON object in the store at location (export.OpenStore: a folder, or
// gs://bucket/prefix that Dataflow workers can reach). A table holds the rows of one
// experiment, period and window (a few hundred to a few thousand rows), so grouping them
// is cheap.
func WriteTables(s beam.Scope, location string, rows beam.PCollection) {
	s = s.Scope("WriteTables")
	beam.ParDo0(s, &writeTableFn{Location: location}, beam.GroupByKey(s, rows))
}

type writeTableFn struct {
	Location string
}

func (f *writeTableFn) ProcessElement(ctx context.Context, table string, next func(*statistics.Row) bool) error {
	defer addSince(ctx, stageWrite, time.Now())
	var rows []statistics.Row
	var r statistics.Row
	for next(&r) {
		rows = append(rows, r)
	}
	statistics.SortRows(rows)
	if err := put(ctx, f.Location, export.TableFile(table), export.EncodeTable(rows)); err != nil {
		return fmt.Errorf("table %s: %w", table, err)
	}
	return nil
}

// put writes one object to the store at location.
func put(ctx context.Context, location, name string, data []byte) error {
	store, err := export.OpenStore(ctx, location)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Put(ctx, name, data)
}

// WriteErrors writes the analysis errors of each experiment as errors_<slug>.ndjson to the
// store at location.
func WriteErrors(s beam.Scope, location string, errs beam.PCollection) {
	s = s.Scope("WriteErrors")
	keyed := beam.ParDo(s, errorKey, errs)
	beam.ParDo0(s, &writeErrorsFn{Location: location}, beam.GroupByKey(s, keyed))
}

func errorKey(e AnalysisError) (string, AnalysisError) { return e.Experiment, e }

type writeErrorsFn struct {
	Location string
}

func (f *writeErrorsFn) ProcessElement(ctx context.Context, slug string, next func(*AnalysisError) bool) error {
	defer addSince(ctx, stageWrite, time.Now())
	var errs []AnalysisError
	var e AnalysisError
	for next(&e) {
		errs = append(errs, e)
	}
	sort.Slice(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Period != b.Period || a.Window != b.Window {
			return a.Period < b.Period || (a.Period == b.Period && a.Window < b.Window)
		}
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		return a.Message < b.Message
	})
	var data []byte
	for _, e := range errs {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		data = append(append(data, line...), '\n')
	}
	return put(ctx, f.Location, ErrorsFile(slug), data)
}

// ErrorsFile is the name of an experiment's error log file.
func ErrorsFile(slug string) string { return "errors_" + slug + ".ndjson" }

// ReadErrors reads an error log written by WriteErrors; a missing file means no errors.
func ReadErrors(path string) ([]AnalysisError, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []AnalysisError
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var e AnalysisError
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ReadErrorsDir reads the error logs of every experiment of a plan from dir.
func ReadErrorsDir(dir string, slugs []string) ([]AnalysisError, error) {
	var all []AnalysisError
	for _, slug := range slugs {
		errs, err := ReadErrors(filepath.Join(dir, ErrorsFile(slug)))
		if err != nil {
			return nil, err
		}
		all = append(all, errs...)
	}
	return all, nil
}
