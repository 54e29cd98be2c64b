package transforms

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// Identity is the pseudo-metric whose count rows give the clients per branch, as in Jetstream.
const Identity = "identity"

// SegmentAll is the segment of every enrolled client.
const SegmentAll = "all"

func init() {
	register.DoFn4x1[context.Context, Query, func(ReadTask), func(AnalysisError), error](&prepareFn{})
	register.DoFn7x1[context.Context, ReadTask, func(string, statistics.Tally), func(string, statistics.PairTally), func(string, statistics.ModelTally),
		func(string), func(AnalysisError), error](&readFn{})
	register.Emitter1[ReadTask]()
	register.Emitter1[string]()
	register.Emitter2[string, statistics.Tally]()
	register.Emitter2[string, statistics.PairTally]()
	register.Emitter2[string, statistics.ModelTally]()
}

// ReadClients runs every query and tallies its client rows per (cell, branch) key: each
// non-NULL metric value, the identity count, and for the two-column statistics the pairs
// whose both values are non-NULL (as model tallies for the covariates of linear models
// without pre-treatments, see PairColumns.Model). Each row is exploded once into its segments and metrics,
// straight into the query's tallies, and one partial tally per key leaves the DoFn (the
// combiner lifting done by hand: per-client values never become elements).
// The identity query of each basis and window also names its population cells (see
// ComputeCells). A query that fails (a missing table, bad SQL) does not stop the others:
// it becomes an AnalysisError for each of its metrics, as Jetstream logs a failed data
// source and goes on.
func ReadClients(s beam.Scope, queries beam.PCollection) (values, pairs, models, populations, errs beam.PCollection) {
	s = s.Scope("ReadClients")
	tasks, prepareErrs := beam.ParDo2(s, &prepareFn{}, queries)
	out := beam.ParDoN(s, &readFn{}, beam.Reshuffle(s, tasks))
	return out[0], out[1], out[2], out[3], beam.Flatten(s, prepareErrs, out[4])
}

// ReadTask is one part of a query's result to read: part Part of Query.ReadParts disjoint
// parts of its metrics table (warehouse.Dialect.Part: a rowid range on DuckDB, a hash of
// analysis_id on BigQuery), so that a big result is read by several workers at once.
type ReadTask struct {
	Query Query
	Part  int
}

// prepareFn runs each query once — written as its metrics table when the query has a
// Dataset — and hands out its read tasks. A query that fails here is its data source's
// error, reported once.
type prepareFn struct{}

func (f *prepareFn) ProcessElement(ctx context.Context, q Query, emit func(ReadTask), fail func(AnalysisError)) error {
	if q.Dataset == "" {
		emit(ReadTask{Query: q}) // the query itself is read, in one part
		return nil
	}
	client, err := warehouse.Open(q.Warehouse)
	if err != nil {
		return err
	}
	if q.Reuse {
		err = checkWritten(ctx, client, q)
	} else {
		start := time.Now()
		err = warehouse.WriteTable(ctx, client, q.Dataset, q.Table, q.SQL, warehouse.WriteTruncate,
			warehouse.TableInfo{Description: q.Experiment, LastUpdated: time.Unix(q.Written, 0)})
		addSince(ctx, stageSQL, start)
	}
	if err != nil {
		failQuery(q, err, fail)
		return nil
	}
	for part := range max(1, q.ReadParts) {
		emit(ReadTask{Query: q, Part: part})
	}
	return nil
}

// checkWritten is the prepare step of a query whose metrics table is reused: the table
// must exist.
func checkWritten(ctx context.Context, client warehouse.Client, q Query) error {
	ok, err := client.TableExists(ctx, q.Dataset, q.Table)
	if err == nil && !ok {
		err = fmt.Errorf("statistics only: metrics table %s.%s does not exist (analyse this date without --statistics-only first)", q.Dataset, q.Table)
	}
	return err
}

// sql is what a read task runs: the query, or its part of the query's metrics table.
func (t ReadTask) sql(d warehouse.Dialect) string {
	q := t.Query
	if q.Dataset == "" {
		return q.SQL
	}
	sql := "SELECT * FROM " + d.Table(q.Dataset, q.Table)
	if q.ReadParts > 1 {
		sql += " WHERE " + d.Part(d.Table(q.Dataset, q.Table), "analysis_id", q.ReadParts, t.Part)
	}
	return sql
}

// ClientRows counts the per-client rows read (one per client per query), for the
// launcher's rows/s figure.
var ClientRows = beam.NewCounter(MetricsNamespace, CounterClientRows)

type readFn struct{}

func (f *readFn) ProcessElement(ctx context.Context, task ReadTask, emitTally func(string, statistics.Tally), emitPairs func(string, statistics.PairTally),
	emitModel func(string, statistics.ModelTally), emitPopulation func(string), fail func(AnalysisError)) error {
	defer addSince(ctx, stageRead, time.Now())
	q := task.Query
	client, err := warehouse.Open(q.Warehouse)
	if err != nil {
		return err
	}
	tallies, pairTallies, modelTallies := Tallies{}, PairTallies{}, ModelTallies{}
	rt, err := newRowTallier(q, tallies, pairTallies, modelTallies)
	if err != nil {
		return err
	}
	defer func() { ClientRows.Inc(ctx, rt.rows) }()
	err = client.Query(ctx, task.sql(client.Dialect()), rt.add)
	if err != nil && q.Dataset != "" {
		// The table was written by prepareFn: a failing read is the warehouse's, not the
		// query's. Failing the bundle lets the runner retry it; reporting it as the data
		// source's error would publish the other parts' tallies as if they were complete,
		// and once per part.
		return fmt.Errorf("reading part %d of %s: %w", task.Part, q.Table, err)
	}
	if err != nil {
		failQuery(q, err, fail)
		return nil
	}
	tallies.Emit(emitTally)
	pairTallies.Emit(emitPairs)
	modelTallies.Emit(emitModel)
	if task.Part == 0 { // one marker per population, whatever the parts
		for _, key := range populationCells(q) {
			emitPopulation(key)
		}
	}
	return nil
}

// populationCells are the identity cells a query names (see ComputeCells): one per segment
// for the query that counts the clients of its basis and window, none for the others.
func populationCells(q Query) []string {
	if !q.Identity {
		return nil
	}
	base := Cell{Experiment: q.Experiment, Basis: q.Basis, Period: q.Period, Window: q.Window, Metric: Identity}
	var keys []string
	for _, seg := range append([]string{SegmentAll}, q.Segments...) {
		c := base
		c.Segment = seg
		keys = append(keys, c.Key())
	}
	return keys
}

// rowTallier explodes a query's client rows into tallies per (cell, branch) key: each
// non-NULL metric value and the identity count in every segment the client is in, and the
// pairs whose both values are non-NULL. Its add is the row callback of Client.Query.
type rowTallier struct {
	q        Query
	segments []string
	// keys[s][m] is the cell of segment s (0 = all, then q.Segments) and metric m (the
	// last one is the identity count); pairKeys[s][i] the cell of q.Pairs[i].
	keys, pairKeys [][]Cell
	columns        []string
	pairCols       [][2]int
	first, metrics int // index of the first segment column, and of the first metric column
	tallies        Tallies
	pairTallies    PairTallies
	modelTallies   ModelTallies
	in             []bool
	values         []float64
	present        []bool
	rows           int64
	// branches holds, per branch seen, the tallies its rows go to, so that a row costs no
	// key building nor map lookups (they were most of the read's time: ~70 keys a row).
	branches map[string]*branchTallies
}

// branchTallies are one branch's tallies: values[s][m] of keys[s][m], and pairs[s][i] or
// (when q.Pairs[i].Model) models[s][i] of pairKeys[s][i].
type branchTallies struct {
	values [][]*statistics.Tally
	pairs  [][]*statistics.PairTally
	models [][]*statistics.ModelTally
}

// branch returns the tallies of a branch, resolving them on its first row.
func (t *rowTallier) branch(name string) *branchTallies {
	if b, ok := t.branches[name]; ok {
		return b
	}
	b := &branchTallies{values: make([][]*statistics.Tally, len(t.keys)), pairs: make([][]*statistics.PairTally, len(t.pairKeys)),
		models: make([][]*statistics.ModelTally, len(t.pairKeys))}
	for s := range t.keys {
		for _, c := range t.keys[s] {
			b.values[s] = append(b.values[s], t.tallies.At(c.BranchKey(name)))
		}
		for i, c := range t.pairKeys[s] {
			var pairs *statistics.PairTally
			var model *statistics.ModelTally
			if pc := t.q.Pairs[i]; pc.Model {
				model = t.modelTallies.At(c.BranchKey(name), pc.TailFraction)
			} else {
				pairs = t.pairTallies.At(c.BranchKey(name))
			}
			b.pairs[s], b.models[s] = append(b.pairs[s], pairs), append(b.models[s], model)
		}
	}
	t.branches[name] = b
	return b
}

func newRowTallier(q Query, tallies Tallies, pairTallies PairTallies, modelTallies ModelTallies) (*rowTallier, error) {
	base := Cell{Experiment: q.Experiment, Basis: q.Basis, Period: q.Period, Window: q.Window}
	segments := append([]string{SegmentAll}, q.Segments...)
	keys := make([][]Cell, len(segments))
	pairKeys := make([][]Cell, len(segments))
	for s, seg := range segments {
		for _, m := range append(slices.Clone(q.Metrics), Identity) {
			c := base
			c.Segment, c.Metric = seg, m
			keys[s] = append(keys[s], c)
		}
		for _, p := range q.Pairs {
			c := base
			c.Segment, c.Metric = seg, p.Metric
			pairKeys[s] = append(pairKeys[s], c)
		}
	}
	columns := append(slices.Clone(q.Metrics), q.Unanalysed...)
	pairCols, err := pairColumns(q, columns)
	if err != nil {
		return nil, err
	}
	first := len(warehouse.MetricsKeyColumns)
	return &rowTallier{q: q, segments: segments, keys: keys, pairKeys: pairKeys, columns: columns, pairCols: pairCols,
		first: first, metrics: first + len(q.Segments), tallies: tallies, pairTallies: pairTallies, modelTallies: modelTallies,
		in: make([]bool, len(segments)), values: make([]float64, len(columns)), present: make([]bool, len(columns)),
		branches: map[string]*branchTallies{}}, nil
}

// add tallies one client row.
func (t *rowTallier) add(cols []string, vals []any) error {
	q, keys := t.q, t.keys
	t.rows++
	if len(vals) != t.metrics+len(t.columns) {
		return fmt.Errorf("query for %s: got %d columns %v, want %d", keys[0][0].Key(), len(vals), cols, t.metrics+len(t.columns))
	}
	branch, ok := vals[1].(string)
	if !ok {
		return fmt.Errorf("query for %s: client %v has branch %v, want a string", keys[0][0].Key(), vals[0], vals[1])
	}
	t.in[0] = true
	for s := range q.Segments {
		// NULL (no segment rows, without a COALESCE) means not in the segment, as in Jetstream's filter.
		b, isBool := vals[t.first+s].(bool)
		if vals[t.first+s] != nil && !isBool {
			return fmt.Errorf("segment %q of client %v: value %v is not a boolean", q.Segments[s], vals[0], vals[t.first+s])
		}
		t.in[s+1] = b
	}
	for i := range t.columns {
		v, ok, err := Numeric(vals[t.metrics+i])
		if err != nil {
			return fmt.Errorf("metric %q of client %v: %w", t.columns[i], vals[0], err)
		}
		t.values[i], t.present[i] = v, ok
	}
	b := t.branch(branch)
	for s := range t.segments {
		if !t.in[s] {
			continue
		}
		for i := range q.Metrics {
			if t.present[i] {
				b.values[s][i].Add(t.values[i])
			}
		}
		if q.Identity {
			b.values[s][len(q.Metrics)].Add(1)
		}
		for i, pc := range t.pairCols {
			if !t.present[pc[0]] || !t.present[pc[1]] {
				continue
			}
			if m := b.models[s][i]; m != nil {
				m.Add(t.values[pc[0]], t.values[pc[1]])
			} else {
				b.pairs[s][i].Add(t.values[pc[0]], t.values[pc[1]])
			}
		}
	}
	return nil
}

// failQuery reports a failed query as an error of each metric it was to read.
func failQuery(q Query, err error, fail func(AnalysisError)) {
	metrics := slices.Clone(q.Metrics)
	for _, p := range q.Pairs {
		metrics = append(metrics, p.Metric)
	}
	if q.Identity {
		metrics = append(metrics, Identity)
	}
	msg := fmt.Sprintf("data source %q: query %s.sql failed: %v", q.DataSource, q.Table, err)
	for _, m := range slices.Compact(slices.Sorted(slices.Values(metrics))) {
		fail(AnalysisError{Experiment: q.Experiment, Metric: m, AnalysisBasis: q.Basis, Segment: SegmentAll,
			Period: q.Period, Window: q.Window, Message: msg, ExceptionType: "QueryError"})
	}
}

// pairColumns finds the column indexes of each pair of q among columns.
func pairColumns(q Query, columns []string) ([][2]int, error) {
	out := make([][2]int, len(q.Pairs))
	for i, p := range q.Pairs {
		x, y := slices.Index(columns, p.X), slices.Index(columns, p.Y)
		if x < 0 || y < 0 {
			return nil, fmt.Errorf("query for %s %s window %d: pair (%s, %s) of %s is not among the columns %v",
				q.Experiment, q.Period, q.Window, p.X, p.Y, p.Metric, columns)
		}
		out[i] = [2]int{x, y}
	}
	return out, nil
}

// Numeric converts a warehouse value (as Client.Query gives it) to float64; ok is false
// for NULL and NaN.
func Numeric(v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	case int64:
		return float64(x), true, nil
	case int32:
		return float64(x), true, nil
	case int16:
		return float64(x), true, nil
	case int8:
		return float64(x), true, nil
	case uint64:
		return float64(x), true, nil
	case uint32:
		return float64(x), true, nil
	case float64:
		return x, !math.IsNaN(x), nil
	case float32:
		return float64(x), !math.IsNaN(float64(x)), nil
	case *big.Int: // DuckDB's HUGEINT, e.g. the SUM of an integer column
		if x.IsInt64() { // the usual case, without big.Float's allocations
			return float64(x.Int64()), true, nil
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true, nil
	case interface{ Float64() float64 }: // DuckDB DECIMAL
		return x.Float64(), true, nil
	}
	return 0, false, fmt.Errorf("value %v of type %T is not a number", v, v)
}
