//go:build cgo

package sampledata

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// WriteDuckDB generates opts into DIR/mozdata.duckdb (so that the database's catalog is
// mozdata: tables mozdata.telemetry.events and mozdata.telemetry.clients_daily) and writes
// DIR/truth.json. DIR is created if needed.
//
// It refuses to run if DIR/mozdata.duckdb already exists, unless opts.Overwrite is set. The
// run is atomic per file: both files are written into a temporary directory inside DIR and
// renamed into place at the end (truth.json first, the database last), so a failed or
// interrupted run never leaves a half-written mozdata.duckdb. A killed process can leave its
// temporary directory DIR/.sample-data-* behind; it is safe to delete.
func WriteDuckDB(dir string, opts Options) (Truth, error) {
	return WriteDuckDBContext(context.Background(), dir, opts)
}

// WriteDuckDBContext is WriteDuckDB with cancellation (checked between clients).
func WriteDuckDBContext(ctx context.Context, dir string, opts Options) (t Truth, err error) {
	if _, err := newPlan(opts); err != nil {
		return Truth{}, err
	}
	final := filepath.Join(dir, DatabaseFile)
	if err := refuseExisting(final, opts.Overwrite); err != nil {
		return Truth{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Truth{}, fmt.Errorf("sample data: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".sample-data-*")
	if err != nil {
		return Truth{}, fmt.Errorf("sample data: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
			err = fmt.Errorf("sample data: removing temporary directory: %w", rmErr)
		}
	}()

	tmpDB := filepath.Join(tmp, DatabaseFile)
	if t, err = generateDuckDB(ctx, tmpDB, opts); err != nil {
		return Truth{}, err
	}
	if _, err := os.Stat(tmpDB + ".wal"); err == nil {
		return Truth{}, fmt.Errorf("sample data: %s.wal left after checkpoint", tmpDB)
	}
	tmpTruth := filepath.Join(tmp, TruthFile)
	if err := t.WriteFile(tmpTruth); err != nil {
		return Truth{}, fmt.Errorf("sample data: %w", err)
	}

	if err := refuseExisting(final, opts.Overwrite); err != nil {
		return Truth{}, err
	}
	// A write-ahead log next to the final name would be replayed into the new database.
	if err := os.Remove(final + ".wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Truth{}, fmt.Errorf("sample data: removing stale write-ahead log: %w", err)
	}
	if err := os.Rename(tmpTruth, filepath.Join(dir, TruthFile)); err != nil {
		return Truth{}, fmt.Errorf("sample data: %w", err)
	}
	if err := os.Rename(tmpDB, final); err != nil {
		return Truth{}, fmt.Errorf("sample data: %w", err)
	}
	return t, nil
}

func refuseExisting(path string, overwrite bool) error {
	_, err := os.Stat(path)
	switch {
	case err == nil && !overwrite:
		return fmt.Errorf("sample data: %s already exists; remove it or ask to overwrite it", path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("sample data: %w", err)
	}
	return nil
}

// tableDDL creates the tables in BigQuery's shapes (ARRAY<STRUCT<key, value>> as a DuckDB
// list of structs).
var tableDDL = []string{
	`CREATE SCHEMA telemetry`,
	`CREATE TABLE telemetry.events (
		submission_date DATE,
		client_id VARCHAR,
		profile_group_id VARCHAR,
		sample_id INTEGER,
		event_category VARCHAR,
		event_method VARCHAR,
		event_object VARCHAR,
		event_string_value VARCHAR,
		event_map_values STRUCT(key VARCHAR, value VARCHAR)[],
		experiments STRUCT(key VARCHAR, value STRUCT(branch VARCHAR))[]
	)`,
	`CREATE TABLE telemetry.clients_daily (
		submission_date DATE,
		client_id VARCHAR,
		profile_group_id VARCHAR,
		sample_id INTEGER,
		active_hours_sum DOUBLE,
		subsession_hours_sum DOUBLE,
		scalar_parent_browser_engagement_total_uri_count_sum BIGINT,
		scalar_parent_browser_engagement_total_uri_count_normal_and_private_mode_sum BIGINT,
		search_count_all BIGINT,
		ad_clicks_count_all BIGINT,
		pings_aggregated_by_this_row BIGINT,
		is_default_browser BOOLEAN,
		experiments STRUCT(key VARCHAR, value VARCHAR)[]
	)`,
}

// The database is filled in two steps, because the Go appender pays several cgo calls for
// every string and every list element, which would dominate the run time (16 s instead of
// 5 s for 100,000 clients): the Writer appends numbers only (client index, date, measures,
// dictionary codes of the annotation lists and event contents) to a staging database in the
// temporary directory, plus one row per client with its ids; SQL then joins the strings and
// lists back in, vectorized and in parallel. The staging database is on disk, so memory does
// not grow with the number of clients.
var stageDDL = []string{
	`CREATE TABLE stage.clients (client_index INTEGER, client_id VARCHAR, profile_group_id VARCHAR, sample_id INTEGER)`,
	`CREATE TABLE stage.days (
		client_index INTEGER,
		submission_date DATE,
		active_hours_sum DOUBLE,
		subsession_hours_sum DOUBLE,
		uri_count BIGINT,
		uri_count_normal_and_private BIGINT,
		search_count BIGINT,
		ad_clicks BIGINT,
		pings BIGINT,
		is_default_browser BOOLEAN,
		annotation INTEGER
	)`,
	`CREATE TABLE stage.events (client_index INTEGER, submission_date DATE, kind INTEGER)`,
	`CREATE TABLE stage.annotations (annotation INTEGER, experiments STRUCT(key VARCHAR, value VARCHAR)[])`,
	`CREATE TABLE stage.event_kinds (
		kind INTEGER,
		event_category VARCHAR,
		event_method VARCHAR,
		event_object VARCHAR,
		event_string_value VARCHAR,
		event_map_values STRUCT(key VARCHAR, value VARCHAR)[]
	)`,
}

// finalDML moves the staged rows into the output tables.
var finalDML = []string{
	`INSERT INTO telemetry.events
	SELECT e.submission_date, c.client_id, c.profile_group_id, c.sample_id,
		k.event_category, k.event_method, k.event_object, k.event_string_value, k.event_map_values,
		CASE WHEN k.event_category = 'normandy' AND k.branch IS NOT NULL
			THEN [{'key': k.event_string_value, 'value': {'branch': k.branch}}] ELSE [] END
	FROM stage.events e
	JOIN stage.clients c USING (client_index)
	JOIN (SELECT *, COALESCE(list_filter(event_map_values, x -> x.key = 'branch')[1].value,
			list_filter(event_map_values, x -> x.key = 'branchSlug')[1].value) AS branch
		FROM stage.event_kinds) k USING (kind)`,
	`INSERT INTO telemetry.clients_daily
	SELECT d.submission_date, c.client_id, c.profile_group_id, c.sample_id,
		d.active_hours_sum, d.subsession_hours_sum, d.uri_count, d.uri_count_normal_and_private,
		d.search_count, d.ad_clicks, d.pings, d.is_default_browser, a.experiments
	FROM stage.days d
	JOIN stage.clients c USING (client_index)
	JOIN stage.annotations a USING (annotation)`,
}

// generateDuckDB creates a new database at path and streams the generation into it, through
// a staging database at path + ".stage" that it removes again. Clients are staged by up to
// stageWorkers goroutines, each generating a contiguous range of client indexes on its own
// connection; the rows are the same as Generate's, only their physical order in the tables
// may differ (queries must not rely on it).
func generateDuckDB(ctx context.Context, path string, opts Options) (t Truth, err error) {
	p, err := newPlan(opts)
	if err != nil {
		return Truth{}, err
	}
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return Truth{}, fmt.Errorf("sample data: opening %s: %w", path, err)
	}
	defer func() {
		if cerr := connector.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sample data: closing %s: %w", path, cerr)
		}
	}()
	conn, err := connector.Connect(ctx)
	if err != nil {
		return Truth{}, fmt.Errorf("sample data: connecting to %s: %w", path, err)
	}
	defer func() {
		if cerr := conn.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sample data: closing connection to %s: %w", path, cerr)
		}
	}()
	exec := func(what string, qs ...string) error {
		for _, q := range qs {
			if _, err := conn.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
				return fmt.Errorf("sample data: %s: %w", what, err)
			}
		}
		return nil
	}
	stagePath := path + ".stage"
	if err := exec("creating tables", tableDDL...); err != nil {
		return Truth{}, err
	}
	attach := fmt.Sprintf("ATTACH '%s' AS stage", strings.ReplaceAll(stagePath, "'", "''"))
	if err := exec("creating the staging database", attach); err != nil {
		return Truth{}, err
	}
	if err := exec("creating staging tables", stageDDL...); err != nil {
		return Truth{}, err
	}

	dict := newDictionaries()
	prog := newProgress(opts.Progress, p.clients)
	total, err := stageClients(ctx, connector, p, dict, prog)
	if err != nil {
		return Truth{}, err
	}
	prog.finish()
	if err := dict.write(conn); err != nil {
		return Truth{}, err
	}
	if err := exec("filling the tables", finalDML...); err != nil {
		return Truth{}, err
	}
	if err := exec("deriving the tables of the platform defaults", append(derivedDDL, derivedDML(p.cal.design.Slug)...)...); err != nil {
		return Truth{}, err
	}
	if err := exec("detaching the staging database", "DETACH stage", "CHECKPOINT"); err != nil {
		return Truth{}, err
	}
	for _, f := range []string{stagePath, stagePath + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Truth{}, fmt.Errorf("sample data: removing the staging database: %w", err)
		}
	}
	return newTruth(p, total), nil
}

// Staging parallelism (variables for tests): up to stageWorkerLimit() goroutines, each with
// at least minStageClients clients.
var (
	stageWorkerLimit = func() int { return min(runtime.GOMAXPROCS(0), 8) }
	minStageClients  = 25_000
)

// stageWorkers returns the number of goroutines that stage n clients.
func stageWorkers(n int) int {
	return max(1, min(stageWorkerLimit(), n/minStageClients))
}

// stageClients generates all clients of p into the staging tables, in parallel.
func stageClients(ctx context.Context, connector *duckdb.Connector, p plan, dict *dictionaries, prog *progress) (tally, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := stageWorkers(p.clients)
	tallies := make([]tally, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		from, to := k*p.clients/workers, (k+1)*p.clients/workers
		wg.Go(func() {
			tallies[k], errs[k] = stageRange(ctx, connector, p, from, to, dict, prog)
			if errs[k] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	// Report the failure that caused the others' cancellation.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return tally{}, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return tally{}, err
	}
	total := newTally(len(p.cal.design.Branches))
	for _, t := range tallies {
		total.add(t)
	}
	return total, nil
}

// stageRange generates clients [from, to) into the staging tables on a connection of its own.
func stageRange(ctx context.Context, connector *duckdb.Connector, p plan, from, to int, dict *dictionaries, prog *progress) (t tally, err error) {
	conn, err := connector.Connect(ctx)
	if err != nil {
		return tally{}, fmt.Errorf("sample data: connecting: %w", err)
	}
	defer func() {
		if cerr := conn.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sample data: closing a staging connection: %w", cerr)
		}
	}()
	w, err := newStageWriter(conn, from, dict)
	if err != nil {
		return tally{}, err
	}
	t, err = newGenerator(p).run(ctx, from, to, w, prog)
	if cerr := w.close(); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil && w.index != int32(to-1) {
		err = fmt.Errorf("sample data: staged clients %d…%d for the range %d…%d", from, w.index, from, to-1)
	}
	return t, err
}

// stageWriter is the Writer that fills the staging tables for a contiguous range of clients.
// It numbers clients in arrival order from the range start (a new client_id is a new client)
// and dictionary-encodes the annotation lists and event contents.
type stageWriter struct {
	clients, days, events *duckdb.Appender

	clientRow [4]driver.Value
	dayRow    [11]driver.Value
	eventRow  [3]driver.Value

	index    int32 // staging index of the current client
	started  bool
	clientID string
	groupID  string
	sampleID int32

	dict     *dictionaries
	lastAnn  []KeyValue // annotation list of the previous row and its code
	lastCode int32
	hasLast  bool
}

func newStageWriter(conn driver.Conn, from int, dict *dictionaries) (*stageWriter, error) {
	w := &stageWriter{index: int32(from) - 1, dict: dict}
	for _, a := range []struct {
		table string
		dst   **duckdb.Appender
	}{{"clients", &w.clients}, {"days", &w.days}, {"events", &w.events}} {
		app, err := duckdb.NewAppender(conn, "stage", "main", a.table)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("sample data: appender for stage.%s: %w", a.table, err)
		}
		*a.dst = app
	}
	return w, nil
}

// client switches to the client of a row, staging its ids when it is new.
func (w *stageWriter) client(id, group string, sample int32) error {
	if w.started && id == w.clientID {
		if group != w.groupID || sample != w.sampleID {
			return fmt.Errorf("client %s: profile_group_id or sample_id changed between rows", id)
		}
		return nil
	}
	w.started = true
	w.index++
	w.clientID, w.groupID, w.sampleID = id, group, sample
	w.clientRow = [4]driver.Value{w.index, id, group, sample}
	if err := w.clients.AppendRow(w.clientRow[:]...); err != nil {
		return fmt.Errorf("staging client %s: %w", id, err)
	}
	return nil
}

func (w *stageWriter) Event(e Event) error {
	if err := w.client(e.ClientID, e.ProfileGroupID, e.SampleID); err != nil {
		return err
	}
	w.eventRow = [3]driver.Value{w.index, e.SubmissionDate, w.dict.kind(e)}
	if err := w.events.AppendRow(w.eventRow[:]...); err != nil {
		return fmt.Errorf("staging an event: %w", err)
	}
	return nil
}

func (w *stageWriter) ClientDay(c ClientDay) error {
	if err := w.client(c.ClientID, c.ProfileGroupID, c.SampleID); err != nil {
		return err
	}
	if !w.hasLast || !slices.Equal(w.lastAnn, c.Experiments) {
		w.lastCode = w.dict.annotation(c.Experiments)
		w.lastAnn = append(w.lastAnn[:0], c.Experiments...)
		w.hasLast = true
	}
	r := &w.dayRow
	r[0] = w.index
	r[1] = c.SubmissionDate
	r[2] = c.ActiveHoursSum
	r[3] = c.SubsessionHoursSum
	r[4] = c.URICount
	r[5] = c.URICountNormalAndPrivate
	r[6] = c.SearchCount
	r[7] = c.AdClicks
	r[8] = c.Pings
	r[9] = c.IsDefaultBrowser
	r[10] = w.lastCode
	if err := w.days.AppendRow(r[:]...); err != nil {
		return fmt.Errorf("staging a clients_daily row: %w", err)
	}
	return nil
}

// close flushes and closes the appenders.
func (w *stageWriter) close() error {
	var errs []error
	for _, a := range []*duckdb.Appender{w.clients, w.days, w.events} {
		if a != nil {
			errs = append(errs, a.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sample data: staging: %w", err)
	}
	return nil
}

// dictionaries assign dense codes to the distinct annotation lists and event contents
// (everything but the date and the ids), shared by the staging goroutines.
type dictionaries struct {
	mu              sync.Mutex
	annotationCodes map[string]int32
	annotations     [][]KeyValue
	kindCodes       map[string]int32
	kinds           []Event
}

func newDictionaries() *dictionaries {
	return &dictionaries{annotationCodes: map[string]int32{}, kindCodes: map[string]int32{}}
}

func (d *dictionaries) annotation(kvs []KeyValue) int32 {
	var b strings.Builder
	appendKVKey(&b, kvs)
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.annotationCodes[b.String()]
	if !ok {
		c = int32(len(d.annotations))
		d.annotationCodes[b.String()] = c
		d.annotations = append(d.annotations, slices.Clone(kvs))
	}
	return c
}

func (d *dictionaries) kind(e Event) int32 {
	var b strings.Builder
	for _, s := range []string{e.Category, e.Method, e.Object, e.StringValue} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	appendKVKey(&b, e.MapValues)
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.kindCodes[b.String()]
	if !ok {
		c = int32(len(d.kinds))
		d.kindCodes[b.String()] = c
		d.kinds = append(d.kinds, Event{Category: e.Category, Method: e.Method, Object: e.Object,
			StringValue: e.StringValue, MapValues: slices.Clone(e.MapValues)})
	}
	return c
}

// appendKVKey writes an unambiguous (length-prefixed) encoding of kvs.
func appendKVKey(b *strings.Builder, kvs []KeyValue) {
	b.WriteString(strconv.Itoa(len(kvs)))
	for _, kv := range kvs {
		for _, s := range []string{kv.Key, kv.Value} {
			b.WriteByte('|')
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
}

// write stages the dictionaries.
func (d *dictionaries) write(conn driver.Conn) error {
	ann, err := duckdb.NewAppender(conn, "stage", "main", "annotations")
	if err != nil {
		return fmt.Errorf("sample data: appender for stage.annotations: %w", err)
	}
	for code, kvs := range d.annotations {
		if err := ann.AppendRow(int32(code), kvList(kvs)); err != nil {
			ann.Close()
			return fmt.Errorf("sample data: staging annotation %d: %w", code, err)
		}
	}
	if err := ann.Close(); err != nil {
		return fmt.Errorf("sample data: staging annotations: %w", err)
	}
	kinds, err := duckdb.NewAppender(conn, "stage", "main", "event_kinds")
	if err != nil {
		return fmt.Errorf("sample data: appender for stage.event_kinds: %w", err)
	}
	for code, e := range d.kinds {
		err := kinds.AppendRow(int32(code), nullString(e.Category), nullString(e.Method),
			nullString(e.Object), nullString(e.StringValue), kvList(e.MapValues))
		if err != nil {
			kinds.Close()
			return fmt.Errorf("sample data: staging event kind %d: %w", code, err)
		}
	}
	if err := kinds.Close(); err != nil {
		return fmt.Errorf("sample data: staging event kinds: %w", err)
	}
	return nil
}

// nullString maps "" to SQL NULL.
func nullString(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// kvList converts kvs to the appender's LIST(STRUCT(key, value)) value.
func kvList(kvs []KeyValue) []any {
	val := make([]any, len(kvs))
	for i, kv := range kvs {
		val[i] = map[string]any{"key": kv.Key, "value": kv.Value}
	}
	return val
}
