package export

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/jetstream-beam/jetstream/statistics"
)

// The publishing guard. Results go to a public bucket, so, as Mozilla requires of scheduled
// telemetry-analysis jobs, raw (client-level) data must never leave: only aggregates are
// published. CheckAggregate and CheckColumns refuse documents and tables that carry a client
// identifier or, for statistics, anything but statistic rows; GuardedStore applies
// CheckAggregate to every Put; SuppressSmallGroups drops the statistics of groups with too few
// clients to be published.

// ErrNotAggregate is wrapped by every refusal of CheckAggregate, CheckColumns and
// GuardedStore's Put, so that callers can tell a refused publication from an I/O failure with
// errors.Is.
var ErrNotAggregate = errors.New("only aggregates may be published")

// clientIdentifiers are the column names that identify a client (or a profile group) in
// Mozilla's telemetry and in Jetstream's enrollments and metrics tables; any name ending in
// "_client_id" is one too (IsClientIdentifier).
var clientIdentifiers = []string{
	"client_id",
	"analysis_id",
	"profile_group_id",
	"legacy_telemetry_client_id",
	"glean_client_id",
	"group_id",
}

// IsClientIdentifier reports whether key names a client identifier: client_id, analysis_id,
// profile_group_id, legacy_telemetry_client_id, glean_client_id, group_id, or any name ending
// in "_client_id". Case is ignored, as BigQuery ignores it in column names.
func IsClientIdentifier(key string) bool {
	k := strings.ToLower(key)
	return slices.Contains(clientIdentifiers, k) || strings.HasSuffix(k, "_client_id")
}

// statisticColumns returns, in order, the keys the row encoder (MarshalRow) writes for a
// statistic row whose every column is set: with window, the columns of a published statistics
// document (the view's, window_index included); without, those of a statistics table. Deriving
// them from the encoder keeps one list of the schema v4 columns (MarshalRow's); guard_test.go
// checks them against statistics.schema.json and statistics_table.bigquery.json.
func statisticColumns(window bool) []string {
	var r statistics.Row
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Float64:
			f.SetFloat(1)
		}
	}
	w := 0
	if window {
		w = 1
	}
	// MarshalRow writes one flat object of scalars, in column order.
	dec := json.NewDecoder(bytes.NewReader(MarshalRow(r, w)))
	var columns []string
	if _, err := dec.Token(); err != nil { // {
		panic(fmt.Sprintf("export: MarshalRow wrote invalid JSON: %v", err)) // a bug every test catches
	}
	for dec.More() {
		key, err := dec.Token()
		if err == nil {
			columns = append(columns, key.(string))
			_, err = dec.Token()
		}
		if err != nil {
			panic(fmt.Sprintf("export: MarshalRow wrote invalid JSON: %v", err))
		}
	}
	return columns
}

// columnSet is the set of columns with their order, for error messages.
type columnSet struct {
	order []string
	has   map[string]bool
}

func newColumnSet(columns []string) *columnSet {
	s := &columnSet{order: columns, has: map[string]bool{}}
	for _, c := range columns {
		s.has[c] = true
	}
	return s
}

func (s *columnSet) String() string { return strings.Join(s.order, ", ") }

var (
	documentColumns = newColumnSet(statisticColumns(true))  // statistics/… documents (view rows)
	tableColumns    = newColumnSet(statisticColumns(false)) // statistics_<slug>_<period>_<n> tables
)

// statisticsRule tells which statistic-row columns a document named name may hold: nil when
// it is not a statistics document. Statistics documents are those under statistics/ (the
// bucket's statistics_<slug>_<suffix>.json) and the statistics tables' files
// (statistics_<slug>_<period>_<n>.ndjson, e.g. under tables/).
func statisticsRule(name string) *columnSet {
	base := path.Base(name)
	switch {
	case strings.HasPrefix(name, "statistics/"):
		return documentColumns
	case strings.HasPrefix(base, "statistics_") && strings.HasSuffix(base, ".ndjson"):
		return tableColumns
	case strings.HasPrefix(base, "statistics_"):
		return documentColumns
	}
	return nil
}

// CheckAggregate inspects a document about to be published under name (a store object name)
// and refuses client-level data. doc is JSON: one array or object, or a stream of values such
// as newline-delimited JSON. Its rows are the elements of a top-level array and every other
// top-level value, numbered from 1 through the whole document.
//
// It refuses, with an error wrapping ErrNotAggregate that names the document, the row, the key
// and its path within the row:
//   - any object key, at any depth, that is a client identifier (IsClientIdentifier);
//   - in a statistics document (under statistics/, or a statistics_… table file): a row that is
//     not an object, a key that is not a column of the statistic row schema v4, or a column
//     holding an object or an array (a statistic row holds numbers, strings and nulls only, so
//     per-client values cannot ride in a list);
//   - a document that is not JSON, since it cannot be inspected.
//
// An empty document (a table without rows) passes.
func CheckAggregate(name string, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	c := checker{name: name, dec: dec, columns: statisticsRule(name)}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return c.invalid(err)
		}
		if tok == json.Delim('[') {
			for dec.More() {
				c.row++
				if err := c.checkRow(); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return c.invalid(err)
			}
			continue
		}
		c.row++
		if err := c.checkRowFrom(tok); err != nil {
			return err
		}
	}
}

// CheckColumns refuses to load a table whose columns hold client-level data: a column that is
// a client identifier (IsClientIdentifier) or, for a statistics table (a table name, possibly
// qualified as project.dataset.table, starting with "statistics_"), a column that is not one of
// the statistic row schema's. The error wraps ErrNotAggregate and names the table, the column
// and its position (from 1).
func CheckColumns(table string, columns []string) error {
	var allowed *columnSet
	if strings.HasPrefix(table[strings.LastIndexByte(table, '.')+1:], "statistics_") {
		allowed = tableColumns
	}
	for i, col := range columns {
		if IsClientIdentifier(col) {
			return fmt.Errorf("publishing guard: refusing table %s: column %d %q is a client identifier: %w", table, i+1, col, ErrNotAggregate)
		}
		if allowed != nil && !allowed.has[col] {
			return fmt.Errorf("publishing guard: refusing table %s: column %d %q is not a column of a statistics table (%s): %w", table, i+1, col, allowed, ErrNotAggregate)
		}
	}
	return nil
}

// checker walks one document's tokens.
type checker struct {
	name    string
	dec     *json.Decoder
	columns *columnSet // statistic row columns; nil: not a statistics document
	row     int
}

// invalid refuses a document that is not JSON: what cannot be read cannot be inspected.
func (c *checker) invalid(err error) error {
	if err == io.EOF { // the decoder's EOF within a value: the document is cut short
		err = io.ErrUnexpectedEOF
	}
	at := ""
	if c.row > 0 {
		at = fmt.Sprintf(" at row %d", c.row)
	}
	return fmt.Errorf("publishing guard: refusing %s: not JSON%s: %v: %w", c.name, at, err, ErrNotAggregate)
}

func (c *checker) refuse(format string, args ...any) error {
	return fmt.Errorf("publishing guard: refusing %s: row %d: %s: %w", c.name, c.row, fmt.Sprintf(format, args...), ErrNotAggregate)
}

// checkRow reads and checks the next value as a row.
func (c *checker) checkRow() error {
	tok, err := c.dec.Token()
	if err != nil {
		return c.invalid(err)
	}
	return c.checkRowFrom(tok)
}

// checkRowFrom checks a row whose first token has been read.
func (c *checker) checkRowFrom(tok json.Token) error {
	if c.columns == nil {
		return c.value(tok, "")
	}
	if tok != json.Delim('{') {
		return c.refuse("%s, not a statistic row object", kind(tok))
	}
	for c.dec.More() {
		key, err := c.key()
		if err != nil {
			return err
		}
		p := memberPath("", key)
		if IsClientIdentifier(key) {
			return c.refuse("key %q at %s is a client identifier", key, p)
		}
		if !c.columns.has[key] {
			return c.refuse("key %q at %s is not a column of a statistic row (%s)", key, p, c.columns)
		}
		tok, err := c.dec.Token()
		if err != nil {
			return c.invalid(err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			return c.refuse("key %q at %s holds %s; a statistic row holds only numbers, strings and nulls", key, p, kind(tok))
		}
	}
	return c.end()
}

// value checks one value whose first token has been read, at path p within the row.
func (c *checker) value(tok json.Token, p string) error {
	switch tok {
	case json.Delim('{'):
		for c.dec.More() {
			key, err := c.key()
			if err != nil {
				return err
			}
			kp := memberPath(p, key)
			if IsClientIdentifier(key) {
				return c.refuse("key %q at %s is a client identifier", key, kp)
			}
			next, err := c.dec.Token()
			if err != nil {
				return c.invalid(err)
			}
			if err := c.value(next, kp); err != nil {
				return err
			}
		}
		return c.end()
	case json.Delim('['):
		for i := 0; c.dec.More(); i++ {
			next, err := c.dec.Token()
			if err != nil {
				return c.invalid(err)
			}
			if err := c.value(next, fmt.Sprintf("%s[%d]", p, i)); err != nil {
				return err
			}
		}
		return c.end()
	}
	return nil
}

func (c *checker) key() (string, error) {
	tok, err := c.dec.Token()
	if err != nil {
		return "", c.invalid(err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", c.invalid(fmt.Errorf("object key %v is not a string", tok))
	}
	return key, nil
}

// end reads the closing delimiter of an object or array.
func (c *checker) end() error {
	if _, err := c.dec.Token(); err != nil {
		return c.invalid(err)
	}
	return nil
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// memberPath is p followed by the member key: .key, or ["key"] when it is not a plain name.
func memberPath(p, key string) string {
	if plainKey.MatchString(key) {
		return p + "." + key
	}
	q, _ := json.Marshal(key)
	return p + "[" + string(q) + "]"
}

// kind names the JSON type of a value from its first token.
func kind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// GuardedStore returns a Store whose Put runs CheckAggregate on the document first and, when
// it refuses, writes nothing and returns the refusal (naming the store); every other method
// delegates to s. Guarding a guarded store returns it unchanged.
func GuardedStore(s Store) Store {
	if g, ok := s.(guardedStore); ok {
		return g
	}
	return guardedStore{s}
}

type guardedStore struct{ Store }

func (g guardedStore) Put(ctx context.Context, name string, data []byte) error {
	if err := CheckAggregate(name, data); err != nil {
		return fmt.Errorf("%s: %w", g.Store, err)
	}
	return g.Store.Put(ctx, name, data)
}

// Suppression is one group whose statistics were left out of the published documents because
// it had fewer clients than the threshold: the clients of a branch in a segment, on an analysis
// basis, in one window of an analysis period.
type Suppression struct {
	AnalysisBasis  string `json:"analysis_basis"`
	Segment        string `json:"segment"`
	Branch         string `json:"branch"`
	AnalysisPeriod string `json:"analysis_period"` // e.g. "week" (configs.Period)
	WindowIndex    int    `json:"window_index"`
	// Clients is the group's identity count, for the run's log only: published, it would
	// tell the very number the suppression withholds.
	Clients int `json:"-"`
}

// IdentityMetric and CountStatistic spell the per-branch client count rows: metric
// transforms.Identity ("identity", Jetstream's name), statistic "count". The transforms
// package imports this one, so the name is repeated here; guard_test.go pins it to the
// published example document.
const (
	IdentityMetric = "identity"
	CountStatistic = "count"
)

// group is a population whose size the identity count gives.
type group struct{ basis, segment, branch string }

// SuppressSmallGroups drops the statistics of groups with fewer than minClients clients from
// the rows of one statistics table (one analysis period and window, as a table holds).
//
// A row's group is its analysis basis, segment and branch, whatever its metric; the group's
// size is the point of its identity count row (metric IdentityMetric, statistic
// CountStatistic, no comparison). Every row of a group with fewer than minClients clients is
// dropped — its count row and every other statistic — and so is every comparison row whose
// branch or comparison_to_branch is such a group. kept holds the other rows in their order;
// suppressed holds one Suppression per dropped group, sorted (SortSuppressions), with
// AnalysisPeriod and WindowIndex left empty: a table's rows do not hold them, SuppressPeriod
// fills them in.
//
// A group without a count row is kept: its size is unknown, not known to be small. The
// pipeline writes a count row (0 for an empty branch) for every branch, segment and basis of a
// window, so a count is missing only when the query that counts the clients failed, which is
// reported as an analysis error; suppressing would then withhold every result of the window
// for a failure that is already visible, and guessing a size from other statistics would be
// wrong for metrics with NULLs. The rows are aggregates either way (CheckAggregate refuses
// client-level data on its own). Should two count rows give one group different sizes, the
// smaller decides.
//
// minClients ≤ 0 disables suppression: kept is a copy of rows and suppressed is nil.
func SuppressSmallGroups(rows []statistics.Row, minClients int) (kept []statistics.Row, suppressed []Suppression) {
	if minClients <= 0 {
		return slices.Clone(rows), nil
	}
	clients := map[group]float64{}
	for _, r := range rows {
		if r.Metric != IdentityMetric || r.Statistic != CountStatistic || r.Comparison != "" || r.ComparisonToBranch != "" || math.IsNaN(r.Point) {
			continue
		}
		g := group{r.AnalysisBasis, r.Segment, r.Branch}
		if n, ok := clients[g]; !ok || r.Point < n {
			clients[g] = r.Point
		}
	}
	small := map[group]bool{}
	for g, n := range clients {
		if n < float64(minClients) {
			small[g] = true
			suppressed = append(suppressed, Suppression{AnalysisBasis: g.basis, Segment: g.segment, Branch: g.branch, Clients: int(n)})
		}
	}
	kept = make([]statistics.Row, 0, len(rows))
	for _, r := range rows {
		if small[group{r.AnalysisBasis, r.Segment, r.Branch}] {
			continue
		}
		if r.ComparisonToBranch != "" && small[group{r.AnalysisBasis, r.Segment, r.ComparisonToBranch}] {
			continue
		}
		kept = append(kept, r)
	}
	SortSuppressions(suppressed)
	return kept, suppressed
}

// SuppressPeriod applies SuppressSmallGroups to every window of an analysis period (period as
// configs.Period spells it, e.g. "week"), each window on its own counts, and returns the
// windows with the rows kept (a window keeps its place even if all its rows are dropped) and
// the suppressions of all windows, with AnalysisPeriod and WindowIndex set, sorted.
func SuppressPeriod(period string, windows []Window, minClients int) ([]Window, []Suppression) {
	out := make([]Window, len(windows))
	var all []Suppression
	for i, w := range windows {
		kept, sup := SuppressSmallGroups(w.Rows, minClients)
		out[i] = Window{Index: w.Index, Rows: kept}
		for _, s := range sup {
			s.AnalysisPeriod, s.WindowIndex = period, w.Index
			all = append(all, s)
		}
	}
	SortSuppressions(all)
	return out, all
}

// SortSuppressions orders suppressions by analysis period, window index, analysis basis,
// segment and branch (then clients), the order of the published document.
func SortSuppressions(s []Suppression) {
	slices.SortFunc(s, func(a, b Suppression) int {
		return cmp.Or(
			cmp.Compare(a.AnalysisPeriod, b.AnalysisPeriod),
			cmp.Compare(a.WindowIndex, b.WindowIndex),
			cmp.Compare(a.AnalysisBasis, b.AnalysisBasis),
			cmp.Compare(a.Segment, b.Segment),
			cmp.Compare(a.Branch, b.Branch),
			cmp.Compare(a.Clients, b.Clients),
		)
	})
}

// Publishing records how an experiment's statistics were published: the threshold of
// SuppressSmallGroups and the groups it suppressed (all periods and windows of the run).
type Publishing struct {
	MinClients int           `json:"min_clients"`
	Suppressed []Suppression `json:"suppressed,omitempty"`
}

// SuppressionsJSON renders m.Publishing as the document published beside the metadata, to
// suppressions/suppressions_<slug>.json (SuppressionsFile): {"min_clients":N,"suppressed":[…]},
// compact, suppressions sorted, "suppressed" left out when none was. It returns nil when
// m.Publishing is nil (no threshold applied: nothing to publish).
//
// It is a document of its own because the metadata document's schema (metadata.schema.json,
// the contract with Experimenter) allows no key beyond its seven, so MetadataJSON cannot
// carry it. Like the metadata, it is not published for a private experiment (NewMetadata
// refuses those).
func SuppressionsJSON(m *Metadata) []byte {
	if m == nil || m.Publishing == nil {
		return nil
	}
	p := Publishing{MinClients: m.Publishing.MinClients, Suppressed: slices.Clone(m.Publishing.Suppressed)}
	SortSuppressions(p.Suppressed)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as the other documents: Python's serialisers do not escape <, >, &
	if err := enc.Encode(p); err != nil {
		panic(fmt.Sprintf("export: encoding suppressions: %v", err)) // strings and ints always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// SuppressionsFile is the file name of an experiment's suppressions document, given the
// normalised slug (suppressions_<slug>.json, published under suppressions/).
func SuppressionsFile(tableSlug string) string { return "suppressions_" + tableSlug + ".json" }
