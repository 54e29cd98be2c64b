//go:build cgo

package warehouse

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDuckDBCoverageOfMetricHub measures which share of metric-hub's metric
// select_expressions DuckDB runs with the DuckDB dialect's rewriting and macros.
//
// Every metric is put in a metrics query (MetricsQuery.SQL, as the pipeline builds it)
// over an in-memory data source whose columns are discovered from DuckDB's binder errors:
// a missing column, struct field or struct path is added, and when DuckDB rejects the
// types, the columns' types are varied (number, boolean, string, date, map, list, …) until
// the query binds and runs or no change helps. A metric counts as supported when its
// query runs; an unsupported one must fail with a named construct (the dialect's check,
// or DuckDB's error), which the test reports with counts.
//
// DUCKDB_COVERAGE_FAILURES=file writes each failing expression, its DuckDB rewriting and
// error; DUCKDB_COVERAGE_SCHEMAS=file the data source found for each supported one.
func TestDuckDBCoverageOfMetricHub(t *testing.T) {
	corpus := metricHubCorpus(t)
	p := newProbe(t)
	type outcome struct {
		ok        bool
		construct string // what is unsupported
		checked   bool   // named by the dialect's check before running
		err       error
	}
	results := map[string]outcome{} // by rendered SQL
	start := time.Now()
	var dump *os.File
	if out := os.Getenv("DUCKDB_COVERAGE_SCHEMAS"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dump = f
	}
	for _, m := range corpus {
		if m.Err != nil {
			continue
		}
		if _, done := results[m.SQL]; done {
			continue
		}
		err := p.run(m.SQL)
		if dump != nil && err == nil {
			fmt.Fprintf(dump, "=== %s\n--- %s\n", m.SQL, p.table)
		}
		switch {
		case err == nil:
			results[m.SQL] = outcome{ok: true}
		default:
			c, checked := constructOf(err)
			results[m.SQL] = outcome{construct: c, checked: checked, err: err}
		}
	}
	supported, failedChecked := 0, 0
	constructs := map[string]int{}
	examples := map[string]string{}
	var renderFailures []string
	for _, m := range corpus {
		if m.Err != nil {
			renderFailures = append(renderFailures, fmt.Sprintf("%s %s: %v", m.File, m.Name, m.Err))
			constructs["template rendering"]++
			continue
		}
		o := results[m.SQL]
		if o.ok {
			supported++
			continue
		}
		if o.checked {
			failedChecked++
		}
		if o.construct == "" {
			t.Errorf("%s [metrics.%s] fails without naming what: %v", m.File, m.Name, o.err)
		}
		constructs[o.construct]++
		if _, ok := examples[o.construct]; !ok {
			msg := strings.ReplaceAll(firstLine(o.err), `"probe_metric" (data source "probe")`, fmt.Sprintf("%q", m.Name))
			examples[o.construct] = fmt.Sprintf("%s [metrics.%s]: %s", m.File, m.Name, msg)
		}
	}
	distinctOK := 0
	for _, o := range results {
		if o.ok {
			distinctOK++
		}
	}
	share := 100 * float64(supported) / float64(len(corpus))
	summary := fmt.Sprintf("DuckDB runs %d/%d metric expressions (%.1f%%); distinct expressions: %d/%d (%.1f%%); %d probe queries in %s",
		supported, len(corpus), share, distinctOK, len(results), 100*float64(distinctOK)/float64(len(results)),
		p.queries, time.Since(start).Round(time.Millisecond))
	lines := []string{summary,
		fmt.Sprintf("unsupported: %d, of which %d named by DuckDB.UnsupportedConstruct before running, %d by DuckDB's error",
			len(corpus)-supported, failedChecked, len(corpus)-supported-failedChecked)}
	type kv struct {
		k string
		n int
	}
	var top []kv
	for k, n := range constructs {
		top = append(top, kv{k, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].k < top[j].k })
	lines = append(lines, "top unsupported constructs (metrics):")
	for i, e := range top {
		if i == 20 {
			break
		}
		lines = append(lines, fmt.Sprintf("  %5d  %s — e.g. %s", e.n, e.k, examples[e.k]))
	}
	for _, l := range lines {
		t.Log(l)
		fmt.Println(l)
	}
	if out := os.Getenv("DUCKDB_COVERAGE_FAILURES"); out != "" {
		var b strings.Builder
		for q, o := range results {
			if !o.ok {
				fmt.Fprintf(&b, "=== %s\n%s\n--- %s\n--- %v\n\n", o.construct, q, DuckDB{}.Rewrite(q), o.err)
			}
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, f := range renderFailures {
		t.Logf("not rendered: %s", f)
	}
	if share < 60 {
		t.Errorf("DuckDB runs %.1f%% of metric-hub's metric expressions, want at least 60%%", share)
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// unsupportedError is the dialect's check failing in MetricsQuery.SQL.
var unsupportedPattern = regexp.MustCompile(`DuckDB cannot run BigQuery's (.+?) \(in `)

// duckdbErrorPatterns name the construct of a DuckDB error.
var duckdbErrorPatterns = []struct {
	re     *regexp.Regexp
	format string
}{
	{regexp.MustCompile(`(Scalar|Aggregate|Table) Function with name "?([\w.]+)"? does not exist`), "unknown function %[2]s"},
	{regexp.MustCompile(`No function matches the given name and argument types '(\w+)\(`), "%[1]s with these argument types"},
	{regexp.MustCompile(`syntax error at or near "([^"]*)"`), `syntax near %[1]q`},
	{regexp.MustCompile(`Referenced column "([^"]+)" not found`), "unresolved column %[1]s"},
	{regexp.MustCompile(`Table "(\w+)" does not have a column named "([^"]+)"`), "unresolved column %[1]s.%[2]s"},
	{regexp.MustCompile(`^(\w+ Error): ([^:\n]{0,60})`), "%[1]s: %[2]s"},
}

// constructOf names what an error says is unsupported, and whether the dialect's check
// named it.
func constructOf(err error) (string, bool) {
	msg := err.Error()
	if m := unsupportedPattern.FindStringSubmatch(msg); m != nil {
		return m[1], true
	}
	if i := strings.Index(msg, "duckdb: "); i >= 0 {
		msg = msg[i+len("duckdb: "):]
	}
	for _, p := range duckdbErrorPatterns {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			args := make([]any, len(m)-1)
			for i, s := range m[1:] {
				args[i] = s
			}
			return fmt.Sprintf(p.format, args...), false
		}
	}
	return firstLine(err), false
}

// probe runs metric expressions in DuckDB over a data source whose columns it discovers.
type probe struct {
	c       *duckDB
	queries int
	table   string // the data source's current definition
}

func newProbe(t *testing.T) *probe {
	c, err := newDuckDB("")
	if err != nil {
		t.Fatal(err)
	}
	c.db.SetMaxOpenConns(1)
	t.Cleanup(func() { c.db.Close() })
	ctx := context.Background()
	for _, s := range []string{
		`CREATE SCHEMA mozanalysis`,
		`CREATE TABLE mozanalysis.enrollments_probe AS SELECT 'c1' AS analysis_id, 'control' AS branch,
			DATE '2024-01-02' AS enrollment_date, 1::BIGINT AS num_enrollment_events,
			DATE '2024-01-02' AS exposure_date, 1::BIGINT AS num_exposure_events`,
	} {
		if err := c.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return &probe{c: c}
}

// col is a column of the probe's data source, or a field of one.
type col struct {
	name   string
	seq    int    // creation order
	fixed  bool   // a struct made from a dotted path: its shape never changes
	shape  int    // index into shapes (when not fixed)
	fields []*col // for structs and lists of structs
}

// shapes are the types a discovered column may take.
var shapes = []struct {
	name   string
	ddl    string   // the type, or "" for a struct / list of structs of the fields
	list   bool     // a list of structs
	fields []string // initial fields (name:shape)
}{
	{name: "BIGINT", ddl: "BIGINT"},
	{name: "DOUBLE", ddl: "DOUBLE"},
	{name: "BOOLEAN", ddl: "BOOLEAN"},
	{name: "VARCHAR", ddl: "VARCHAR"},
	{name: "DATE", ddl: "DATE"},
	{name: "TIMESTAMP", ddl: "TIMESTAMP"},
	{name: "map of strings", list: true, fields: []string{"key:VARCHAR", "value:VARCHAR"}},
	{name: "map of numbers", list: true, fields: []string{"key:VARCHAR", "value:BIGINT"}},
	{name: "VARCHAR[]", ddl: "VARCHAR[]"},
	{name: "BIGINT[]", ddl: "BIGINT[]"},
	{name: "distribution", fields: []string{"sum:BIGINT", "values:map of numbers"}},
	{name: "JSON", ddl: "JSON"},
	{name: "record", fields: []string{"_placeholder:BIGINT"}},
	{name: "list of records", list: true, fields: []string{"_placeholder:BIGINT"}},
}

func shapeIndex(name string) int {
	for i, s := range shapes {
		if s.name == name {
			return i
		}
	}
	panic(name)
}

// schema is the discovered columns of one expression's data source.
type schema struct {
	roots []*col
	seq   int
}

func (s *schema) newCol(name string, shape int) *col {
	s.seq++
	c := &col{name: name, seq: s.seq}
	s.setShape(c, shape)
	return c
}

func (s *schema) setShape(c *col, shape int) {
	c.shape = shape
	c.fields = nil
	for _, f := range shapes[shape].fields {
		name, sh, _ := strings.Cut(f, ":")
		c.fields = append(c.fields, s.newCol(name, shapeIndex(sh)))
	}
}

// guessShape is the first shape tried for a column, from its name and its parents'.
func guessShape(name string, parents []string) int {
	n := strings.ToLower(name)
	parent := ""
	if len(parents) > 0 {
		parent = strings.ToLower(parents[len(parents)-1])
	}
	switch {
	case parent == "histograms":
		return shapeIndex("VARCHAR")
	case parent == "keyed_histograms" || n == "user_prefs" || n == "experiments" || n == "event_map_values" ||
		n == "extra" || n == "event_extra" || strings.HasSuffix(n, "_map") || parent == "labeled_string":
		return shapeIndex("map of strings")
	case strings.HasPrefix(parent, "labeled_") || parent == "keyed_scalars":
		return shapeIndex("map of numbers")
	case strings.HasSuffix(parent, "_distribution"):
		return shapeIndex("distribution")
	case parent == "boolean" || strings.HasPrefix(n, "is_") || strings.HasPrefix(n, "has_") || strings.Contains(n, "enabled"):
		return shapeIndex("BOOLEAN")
	case parent == "string" || parent == "text" || parent == "uuid" || parent == "url" ||
		strings.HasSuffix(n, "_id") || n == "id" || strings.Contains(n, "name") || strings.Contains(n, "version") ||
		strings.Contains(n, "channel") || strings.Contains(n, "country") || strings.Contains(n, "locale") ||
		strings.HasPrefix(n, "event") || strings.Contains(n, "category") || strings.Contains(n, "method") ||
		strings.Contains(n, "reason") || strings.Contains(n, "source") || strings.Contains(n, "type") || n == "os":
		return shapeIndex("VARCHAR")
	case strings.Contains(n, "timestamp"):
		return shapeIndex("TIMESTAMP")
	case strings.Contains(n, "date"):
		return shapeIndex("DATE")
	}
	return shapeIndex("BIGINT")
}

func (s *schema) root(name string) *col {
	for _, c := range s.roots {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

// addPath adds the struct path of a dotted name; it reports whether anything was added.
func (s *schema) addPath(path []string) bool {
	top := &col{fixed: true, fields: s.roots}
	added := s.addPathTo(top, path)
	s.roots = top.fields
	return added
}

// addPathTo adds a dotted name to the fields of a struct.
func (s *schema) addPathTo(parent *col, path []string) bool {
	var c *col
	for _, x := range parent.fields {
		if strings.EqualFold(x.name, path[0]) {
			c = x
		}
	}
	if len(path) == 1 {
		if c != nil {
			return false
		}
		parent.fields = append(parent.fields, s.newCol(path[0], guessShape(path[0], []string{parent.name})))
		return true
	}
	if c == nil {
		s.seq++
		c = &col{name: path[0], seq: s.seq, fixed: true}
		parent.fields = append(parent.fields, c)
	} else if !c.fixed {
		return false
	}
	added := false
	for i, name := range path[1:] {
		var f *col
		for _, x := range c.fields {
			if strings.EqualFold(x.name, name) {
				f = x
			}
		}
		last := i == len(path)-2
		if f == nil {
			if last {
				f = s.newCol(name, guessShape(name, path[:i+1]))
			} else {
				s.seq++
				f = &col{name: name, seq: s.seq, fixed: true}
			}
			c.fields = append(c.fields, f)
			added = true
		}
		if !f.fixed && !last {
			return added
		}
		c = f
	}
	return added
}

// all lists every column and field, depth first.
func (s *schema) all() []*col {
	var out []*col
	var walk func(cs []*col)
	walk = func(cs []*col) {
		for _, c := range cs {
			out = append(out, c)
			walk(c.fields)
		}
	}
	walk(s.roots)
	return out
}

func (c *col) ddl() string {
	if c.fixed || shapes[c.shape].ddl == "" {
		var fs []string
		for _, f := range c.fields {
			fs = append(fs, quoteIdent(f.name)+" "+f.ddl())
		}
		t := "STRUCT(" + strings.Join(fs, ", ") + ")"
		if !c.fixed && shapes[c.shape].list {
			t += "[]"
		}
		return t
	}
	return shapes[c.shape].ddl
}

// table renders the data source: one row for the enrolled client, every other column NULL.
func (s *schema) table() string {
	cols := []string{"'c1' AS client_id", "DATE '2024-01-03' AS submission_date"}
	for _, c := range s.roots {
		cols = append(cols, fmt.Sprintf("CAST(NULL AS %s) AS %s", c.ddl(), quoteIdent(c.name)))
	}
	return "SELECT " + strings.Join(cols, ", ")
}

var (
	missingColumn   = regexp.MustCompile(`Referenced column "([^"]+)" not found in FROM clause`)
	missingDSColumn = regexp.MustCompile(`Table "ds" does not have a column named "([^"]+)"`)
	missingTable    = regexp.MustCompile(`Referenced table "([^"]+)" not found`)
	missingKey      = regexp.MustCompile(`Could not find key "([^"]+)" in struct\s*Candidate Entries: (.*)`)
)

// run finds a schema under which the metric's query runs; it returns the last error when
// none does.
func (p *probe) run(expr string) error {
	s := &schema{}
	budget := 400
	try := func() error {
		budget--
		return p.query(expr, s)
	}
	err := try()
	for err != nil && budget > 0 {
		if !isUnsupported(err) && p.learn(expr, s, err) {
			err = try()
			continue
		}
		if isUnsupported(err) {
			return err
		}
		// vary the types, newest column first, until the query runs or binding gets
		// further (another missing column)
		cols := s.all()
		slices.SortFunc(cols, func(a, b *col) int { return b.seq - a.seq })
		progressed := false
	search:
		for _, c := range cols {
			if c.fixed {
				continue
			}
			orig, origFields := c.shape, c.fields
			for sh := range shapes {
				if sh == orig || budget <= 0 {
					continue
				}
				s.setShape(c, sh)
				e := try()
				if e == nil || !isUnsupported(e) && p.learn(expr, s, e) {
					err, progressed = e, true
					break search
				}
			}
			c.shape, c.fields = orig, origFields
		}
		if !progressed {
			return err
		}
	}
	return err
}

func isUnsupported(err error) bool { return unsupportedPattern.MatchString(err.Error()) }

// learn adds what a binder error says is missing; it reports whether it added anything.
func (p *probe) learn(expr string, s *schema, err error) bool {
	msg := err.Error()
	m := missingColumn.FindStringSubmatch(msg)
	if m == nil {
		m = missingDSColumn.FindStringSubmatch(msg)
	}
	if m != nil {
		// only names the metric's SQL has as identifiers: DuckDB also reports BigQuery
		// string literals ("abc") it took for column names, which must stay errors
		if !identifiers(expr)[strings.ToLower(m[1])] || aliases(expr)[strings.ToLower(m[1])] {
			return false
		}
		if inner, outer := subqueryNames(expr); inner[strings.ToLower(m[1])] && !outer[strings.ToLower(m[1])] {
			// a field of the elements of an UNNEST without alias, not a column
			return s.addToRecords([]string{m[1]})
		}
		return s.addPath([]string{m[1]})
	}
	if m := missingTable.FindStringSubmatch(msg); m != nil {
		added := false
		inner, outer := subqueryNames(expr)
		if aliases(expr)[strings.ToLower(m[1])] {
			// an alias of the metric's SQL (UNNEST(…) AS a): its element type is wrong
			return false
		}
		for _, path := range dottedNames(expr) {
			if strings.EqualFold(path[0], m[1]) && len(path) > 1 {
				if inner[strings.ToLower(path[0])] && !outer[strings.ToLower(path[0])] {
					added = s.addToRecords(path) || added
				} else {
					added = s.addPath(path) || added
				}
			}
		}
		return added
	}
	if m := missingKey.FindStringSubmatch(msg); m != nil {
		var candidates []string
		for _, c := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[2], -1) {
			candidates = append(candidates, strings.ToLower(c[1]))
		}
		slices.Sort(candidates)
		added := false
		for _, c := range s.all() {
			if len(c.fields) == 0 {
				continue
			}
			var names []string
			for _, f := range c.fields {
				names = append(names, strings.ToLower(f.name))
			}
			slices.Sort(names)
			if slices.Equal(names, candidates) {
				c.fields = append(c.fields, s.newCol(m[1], guessShape(m[1], []string{c.name})))
				added = true
			}
		}
		return added
	}
	return false
}

// addToRecords adds a dotted name to the element struct of every list of records.
func (s *schema) addToRecords(path []string) bool {
	added := false
	for _, c := range s.all() {
		if !c.fixed && shapes[c.shape].name == "list of records" {
			added = s.addPathTo(c, path) || added
		}
	}
	return added
}

// subqueryNames splits the first parts of the names of BigQuery SQL: inner are those used
// in the SELECT, WHERE, … of a subquery whose FROM is an UNNEST without alias (fields of
// the array's elements), outer those used elsewhere.
func subqueryNames(sql string) (inner, outer map[string]bool) {
	inner, outer = map[string]bool{}, map[string]bool{}
	toks, err := lexBigQuery(sql)
	if err != nil {
		return
	}
	tree, err := parseTree(toks)
	if err != nil {
		return
	}
	var walk func(ns []node, into map[string]bool)
	walk = func(ns []node, into map[string]bool) {
		subquery := false
		if i := significant(ns, 0); i < len(ns) && ns[i].tok.is("SELECT") {
			// FROM UNNEST(…) without alias
			for k, n := range ns {
				if n.tok.is("FROM") {
					if u := significant(ns, k+1); u < len(ns) && ns[u].tok.is("UNNEST") {
						if g := significant(ns, u+1); g < len(ns) && ns[g].isGroup("(") {
							a := significant(ns, g+1)
							subquery = a == len(ns) || ns[a].tok.kind == tIdent && isKeyword(ns[a].tok.text) && !ns[a].tok.is("AS")
						}
					}
				}
			}
		}
		inFrom := false
		for k, n := range ns {
			target := into
			if subquery && !inFrom {
				target = inner
			}
			if n.open != "" {
				if inFrom {
					walk(n.items, outer)
				} else {
					walk(n.items, target)
				}
				continue
			}
			switch {
			case n.tok.is("FROM"):
				inFrom = true
			case slices.ContainsFunc(clauseEnd, n.tok.is):
				inFrom = false
			case n.tok.kind == tIdent && (k == 0 || !ns[k-1].tok.op(".")):
				if inFrom {
					outer[strings.ToLower(n.tok.text)] = true
				} else {
					target[strings.ToLower(n.tok.text)] = true
				}
			}
		}
	}
	walk(tree, outer)
	return
}

// dottedNames lists the dotted names (a.b.c) of SQL that start a path.
func dottedNames(sql string) [][]string {
	toks, err := lexBigQuery(sql)
	if err != nil {
		return nil
	}
	var out [][]string
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tIdent && toks[i].kind != tQuoted {
			continue
		}
		if i > 0 && (toks[i-1].op(".") || toks[i-1].op(")") || toks[i-1].op("]")) {
			continue
		}
		path := []string{identText(toks[i])}
		j := i + 1
		for j+1 < len(toks) && toks[j].op(".") && (toks[j+1].kind == tIdent || toks[j+1].kind == tQuoted) {
			path = append(path, identText(toks[j+1]))
			j += 2
		}
		if j < len(toks) && toks[j].op("(") {
			path = path[:len(path)-1] // a function call or method
		}
		if len(path) > 1 {
			out = append(out, path)
		}
		i = j - 1
	}
	return out
}

// aliases are the lower-cased names BigQuery SQL gives with AS (outside CAST) or after
// UNNEST(…): never columns of the data source.
func aliases(sql string) map[string]bool {
	out := map[string]bool{}
	toks, err := lexBigQuery(sql)
	if err != nil {
		return out
	}
	tree, err := parseTree(toks)
	if err != nil {
		return out
	}
	var walk func(ns []node, inCast bool)
	walk = func(ns []node, inCast bool) {
		for k, n := range ns {
			if n.open != "" {
				p := prevSignificant(ns, k)
				walk(n.items, p >= 0 && (ns[p].tok.is("CAST") || ns[p].tok.is("SAFE_CAST")))
				if p >= 0 && ns[p].tok.is("UNNEST") {
					if a := significant(ns, k+1); a < len(ns) && ns[a].tok.kind == tIdent && !isKeyword(ns[a].tok.text) {
						out[strings.ToLower(ns[a].tok.text)] = true
					}
				}
				continue
			}
			if n.tok.is("AS") && !inCast {
				if a := significant(ns, k+1); a < len(ns) && ns[a].tok.kind == tIdent {
					out[strings.ToLower(ns[a].tok.text)] = true
				}
			}
		}
	}
	walk(tree, false)
	return out
}

// identifiers are the lower-cased identifiers of BigQuery SQL (not its strings).
func identifiers(sql string) map[string]bool {
	out := map[string]bool{}
	toks, _ := lexBigQuery(sql)
	for _, t := range toks {
		switch t.kind {
		case tIdent:
			out[strings.ToLower(t.text)] = true
		case tQuoted:
			for _, p := range strings.Split(t.val, ".") {
				out[strings.ToLower(p)] = true
			}
		}
	}
	return out
}

func identText(t token) string {
	if t.kind == tQuoted {
		return t.val
	}
	return t.text
}

// query runs the metric's query over the schema's data source.
func (p *probe) query(expr string, s *schema) error {
	ctx := context.Background()
	if table := s.table(); table != p.table {
		if err := p.c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE probe_rows AS "+table); err != nil {
			return err
		}
		p.table = table
	}
	q := MetricsQuery{
		Slug: "probe", EnrollmentsTable: "mozanalysis.enrollments_probe", Basis: BasisEnrollments,
		WindowStart: 0, WindowEnd: 6, FirstDate: date("2024-01-01"), LastDate: date("2024-01-31"),
		Metrics: []Metric{{Name: "probe_metric", SelectExpression: expr, DataSource: DataSource{
			Name: "probe", FromExpression: "probe_rows", ClientIDColumn: "client_id",
			SubmissionDateColumn: "submission_date", ExperimentsColumnType: "none"}}},
	}
	sql, err := q.SQL(DuckDB{})
	if err != nil {
		return err
	}
	p.queries++
	return p.c.Query(ctx, sql, func([]string, []any) error { return nil })
}
