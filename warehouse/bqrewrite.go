package warehouse

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The DuckDB rewriting of BigQuery SQL. The SQL is lexed (lexBigQuery), brackets are
// matched into a tree, and the tree is printed back in DuckDB's spelling: string literals
// re-quoted, BigQuery functions renamed or rewritten to DuckDB expressions and to the
// macros of duckdbMacros, backticked names unquoted, UNNEST in FROM made DuckDB's. What
// DuckDB cannot run even after rewriting is collected as unsupported constructs.

// node is a token or a bracketed group: (…) or […].
type node struct {
	tok   token
	open  string // "(" or "[" for a group, "" for a token
	items []node // a group's contents
}

func (n node) isGroup(open string) bool { return n.open == open }

// parseTree matches the brackets of toks.
func parseTree(toks []token) ([]node, error) {
	var parse func(close string) ([]node, error)
	i := 0
	parse = func(close string) ([]node, error) {
		var out []node
		for i < len(toks) {
			t := toks[i]
			i++
			switch {
			case t.op("(") || t.op("["):
				c := ")"
				if t.text == "[" {
					c = "]"
				}
				items, err := parse(c)
				if err != nil {
					return nil, err
				}
				out = append(out, node{open: t.text, items: items})
			case t.op(")") || t.op("]"):
				if t.text != close {
					return nil, fmt.Errorf("unbalanced %q", t.text)
				}
				return out, nil
			default:
				out = append(out, node{tok: t})
			}
		}
		if close != "" {
			return nil, fmt.Errorf("missing %q", close)
		}
		return out, nil
	}
	return parse("")
}

// rewriter prints a tree in DuckDB SQL and collects what DuckDB cannot run.
type rewriter struct {
	unsupported []string
}

func (r *rewriter) unsupportedf(format string, args ...any) {
	c := fmt.Sprintf(format, args...)
	if !slices.Contains(r.unsupported, c) {
		r.unsupported = append(r.unsupported, c)
	}
}

// bigQueryToDuckDB rewrites BigQuery SQL for DuckDB. unsupported lists the constructs
// DuckDB cannot run (the rewritten SQL then fails or would compute something else); err
// is set when the SQL cannot even be lexed, and out is then the input.
func bigQueryToDuckDB(sql string) (out string, unsupported []string, err error) {
	toks, err := lexBigQuery(sql)
	if err != nil {
		return sql, nil, err
	}
	tree, err := parseTree(toks)
	if err != nil {
		return sql, nil, err
	}
	r := &rewriter{}
	return r.seq(tree), r.unsupported, nil
}

// significant returns the index of the next node at or after i that is not space or a
// comment, or len(ns).
func significant(ns []node, i int) int {
	for i < len(ns) && ns[i].open == "" && (ns[i].tok.kind == tSpace || ns[i].tok.kind == tComment) {
		i++
	}
	return i
}

// prevSignificant returns the index of the last node before i that is not space or a
// comment, or -1.
func prevSignificant(ns []node, i int) int {
	i--
	for i >= 0 && ns[i].open == "" && (ns[i].tok.kind == tSpace || ns[i].tok.kind == tComment) {
		i--
	}
	return i
}

// clauseEnd are the keywords that end a FROM clause.
var clauseEnd = []string{"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "QUALIFY", "WINDOW", "UNION",
	"EXCEPT", "INTERSECT", "SELECT", "ON", "USING"}

// seq prints a sequence of nodes.
func (r *rewriter) seq(ns []node) string {
	var b strings.Builder
	inFrom := false   // in a FROM clause, where names are tables
	tablePos := false // the next name is a table (after FROM, JOIN or a FROM-list comma)
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		if n.open == "[" {
			b.WriteString(r.subscript(n))
			tablePos = false
			continue
		}
		if n.open == "(" {
			b.WriteString("(" + r.seq(n.items) + ")")
			tablePos = false
			continue
		}
		t := n.tok
		switch t.kind {
		case tSpace:
			b.WriteString(t.text)
			continue
		case tComment:
			b.WriteString(blockComment(t.val))
			continue
		case tString:
			b.WriteString(duckString(t.val))
			if p := prevSignificant(ns, i); p >= 0 && ns[p].tok.is("LIKE") && strings.Contains(t.val, `\`) {
				// BigQuery's LIKE escapes with backslashes; DuckDB's only with ESCAPE
				b.WriteString(` ESCAPE '\'`)
			}
			tablePos = false
			continue
		case tBytes:
			r.unsupportedf("bytes literal %s", t.text)
			b.WriteString(t.text)
			continue
		case tNumber:
			b.WriteString(t.text)
			tablePos = false
			continue
		case tOp:
			switch {
			case t.op("*"):
				// SELECT * EXCEPT (…) is DuckDB's * EXCLUDE (…)
				if j := significant(ns, i+1); j < len(ns) && ns[j].tok.is("EXCEPT") {
					if k := significant(ns, j+1); k < len(ns) && ns[k].isGroup("(") {
						b.WriteString("*" + r.seq(ns[i+1:j]) + "EXCLUDE")
						i = j
						continue
					}
				}
			case t.op(","):
				tablePos = inFrom
				b.WriteString(t.text)
				continue
			}
			b.WriteString(t.text)
			tablePos = false
			continue
		}
		// identifiers, keywords, backticked names
		if t.kind == tIdent {
			switch {
			case t.is("FROM"):
				inFrom, tablePos = true, true
				b.WriteString(t.text)
				continue
			case t.is("JOIN"):
				inFrom, tablePos = true, true
				b.WriteString(t.text)
				continue
			case slices.ContainsFunc(clauseEnd, t.is):
				inFrom, tablePos = false, false
			case t.is("DATETIME"):
				// DATETIME 'literal' is DuckDB's TIMESTAMP 'literal'
				if j := significant(ns, i+1); j < len(ns) && ns[j].tok.kind == tString {
					b.WriteString("TIMESTAMP")
					continue
				}
			case t.is("IN"):
				// x IN UNNEST(array)
				if j := significant(ns, i+1); j < len(ns) && ns[j].tok.is("UNNEST") {
					if k := significant(ns, j+1); k < len(ns) && ns[k].isGroup("(") {
						b.WriteString(t.text + r.seq(ns[i+1:j]) + "(SELECT unnest(" + r.seq(ns[k].items) + "))")
						i = k
						continue
					}
				}
			case t.is("WITH"):
				if j := significant(ns, i+1); j < len(ns) && ns[j].tok.is("OFFSET") {
					r.unsupportedf("UNNEST … WITH OFFSET")
				}
			case t.is("AS"):
				if j := significant(ns, i+1); j < len(ns) && (ns[j].tok.is("STRUCT") || ns[j].tok.is("VALUE")) {
					if p := prevSignificant(ns, i); p >= 0 && ns[p].tok.is("SELECT") {
						r.unsupportedf("SELECT AS %s", strings.ToUpper(ns[j].tok.text))
					}
				}
			}
		}
		parts, next := r.path(ns, i, tablePos)
		if j := significant(ns, next); j < len(ns) && ns[j].isGroup("(") {
			var s string
			var end int
			if tablePos && isTableFunction(parts) {
				s, end = r.unnestTable(ns, j)
			} else {
				s, end = r.call(parts, ns, i, next, j)
			}
			b.WriteString(s)
			i = end - 1
			tablePos = false
			continue
		}
		b.WriteString(r.name(parts, tablePos))
		i = next - 1
		tablePos = false
	}
	return b.String()
}

// pathPart is one part of a dotted name.
type pathPart struct {
	name   string
	quoted bool // written in backticks
}

// path reads a dotted name starting at ns[i] (an identifier or backticked name):
// a.b.c, `a.b`.c, and — where a table name is expected — a-hyphenated-project.dataset.table.
// It returns the parts and the index after the name.
func (r *rewriter) path(ns []node, i int, tablePos bool) ([]pathPart, int) {
	var parts []pathPart
	for {
		t := ns[i].tok
		if t.kind == tQuoted {
			for _, p := range strings.Split(t.val, ".") {
				parts = append(parts, pathPart{name: p, quoted: true})
			}
			i++
		} else {
			name := t.text
			i++
			if tablePos {
				// moz-fx-data-shared-prod.dataset.table, unquoted
				for i+1 < len(ns) && ns[i].tok.op("-") && (ns[i+1].tok.kind == tIdent || ns[i+1].tok.kind == tNumber) {
					name += "-" + ns[i+1].tok.text
					i += 2
				}
			}
			parts = append(parts, pathPart{name: name, quoted: strings.Contains(name, "-")})
		}
		if i+1 < len(ns) && ns[i].tok.op(".") && (ns[i+1].tok.kind == tIdent || ns[i+1].tok.kind == tQuoted) {
			i++
			continue
		}
		return parts, i
	}
}

// projects are BigQuery projects that name tables and functions; a local DuckDB database
// has the datasets as schemas of its own catalog.
var projects = map[string]bool{"mozdata": true, "moz-fx-data-shared-prod": true, "mozfun": true,
	"moz-fx-data-experiments": true, "moz-fx-data-derived-datasets": true}

// name prints a name that is not called: a table (project dropped) or a column path.
func (r *rewriter) name(parts []pathPart, table bool) string {
	if len(parts) >= 3 && (table || parts[0].quoted && projects[strings.ToLower(parts[0].name)] || strings.Contains(parts[0].name, "-")) {
		parts = parts[1:]
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		if p.quoted || !identPattern.MatchString(p.name) {
			out[i] = quoteIdent(p.name)
		} else {
			out[i] = p.name
		}
	}
	return strings.Join(out, ".")
}

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func isTableFunction(parts []pathPart) bool {
	return len(parts) == 1 && !parts[0].quoted && strings.EqualFold(parts[0].name, "UNNEST")
}

// args splits a group's contents at its top-level commas.
func args(items []node) [][]node {
	if significant(items, 0) == len(items) {
		return nil
	}
	var out [][]node
	start := 0
	for i, n := range items {
		if n.open == "" && n.tok.op(",") {
			out = append(out, items[start:i])
			start = i + 1
		}
	}
	return append(out, items[start:])
}

// keyword returns the upper-cased keyword that a node list consists of (ignoring space),
// or "" when it is not a single identifier.
func keyword(ns []node) string {
	i := significant(ns, 0)
	if i == len(ns) || ns[i].open != "" || ns[i].tok.kind != tIdent || significant(ns, i+1) != len(ns) {
		return ""
	}
	return strings.ToUpper(ns[i].tok.text)
}

// subscript prints array[…]: OFFSET(i) and SAFE_OFFSET(i) are zero-based, ORDINAL(i) and
// SAFE_ORDINAL(i) one-based; DuckDB's index is one-based and NULL when out of range.
func (r *rewriter) subscript(n node) string {
	i := significant(n.items, 0)
	if i < len(n.items) && n.items[i].open == "" && n.items[i].tok.kind == tIdent {
		if j := significant(n.items, i+1); j < len(n.items) && n.items[j].isGroup("(") && significant(n.items, j+1) == len(n.items) {
			arg := strings.TrimSpace(r.seq(n.items[j].items))
			switch strings.ToUpper(n.items[i].tok.text) {
			case "OFFSET", "SAFE_OFFSET":
				if k, err := strconv.Atoi(arg); err == nil && k >= 0 {
					return fmt.Sprintf("[%d]", k+1)
				}
				return fmt.Sprintf("[CASE WHEN (%[1]s) >= 0 THEN (%[1]s) + 1 END]", arg)
			case "ORDINAL", "SAFE_ORDINAL":
				if k, err := strconv.Atoi(arg); err == nil && k >= 1 {
					return fmt.Sprintf("[%d]", k)
				}
				return fmt.Sprintf("[CASE WHEN (%[1]s) >= 1 THEN (%[1]s) END]", arg)
			}
		}
	}
	return "[" + r.seq(n.items) + "]"
}

// unnestTable prints UNNEST(array) [AS] [alias] in a FROM clause; ns[j] is its argument
// group. BigQuery names the element by the alias, or — without one — exposes the fields of
// struct elements as columns. It returns the printed SQL and the index after what it read.
func (r *rewriter) unnestTable(ns []node, j int) (string, int) {
	arg := r.seq(ns[j].items)
	end := j + 1
	alias := ""
	k := significant(ns, end)
	if k < len(ns) && ns[k].tok.is("AS") {
		k = significant(ns, k+1)
	}
	if k < len(ns) && (ns[k].tok.kind == tIdent && !isKeyword(ns[k].tok.text) || ns[k].tok.kind == tQuoted) {
		alias = ns[k].tok.text
		if ns[k].tok.kind == tQuoted {
			alias = quoteIdent(ns[k].tok.val)
		}
		end = k + 1
	}
	if w := significant(ns, end); w < len(ns) && ns[w].tok.is("WITH") {
		if o := significant(ns, w+1); o < len(ns) && ns[o].tok.is("OFFSET") {
			r.unsupportedf("UNNEST … WITH OFFSET")
		}
	}
	if alias == "" {
		return fmt.Sprintf("(SELECT _u.* FROM unnest(%s) AS _unnest(_u))", arg), end
	}
	return fmt.Sprintf("unnest(%s) AS %s(%s)", arg, alias, alias), end
}

// isKeyword tells whether an identifier after UNNEST(…) starts the next clause rather
// than being an alias.
func isKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "QUALIFY", "WINDOW", "UNION", "EXCEPT", "INTERSECT",
		"ON", "USING", "JOIN", "CROSS", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "WITH", "AS", "SELECT", "FROM":
		return true
	}
	return false
}

// blockComment prints a comment as /* … */: a line comment would swallow the SQL that
// follows the expression on its line.
func blockComment(body string) string {
	return "/*" + strings.ReplaceAll(body, "*/", "* /") + "*/"
}

// duckString prints a string literal in DuckDB's (standard SQL) spelling.
func duckString(v string) string { return quote(v) }

// call prints a function call: ns[i:next] is its name (parts), ns[j] its argument group.
// It returns the printed SQL and the index after the call.
func (r *rewriter) call(parts []pathPart, ns []node, i, next, j int) (string, int) {
	g := ns[j]
	end := j + 1
	between := r.seq(ns[next:j])
	written := r.seq(ns[i:next])
	generic := func(name string) string { return name + between + "(" + r.seq(g.items) + ")" }
	if len(parts) > 1 || parts[0].quoted {
		return r.udf(parts, g, generic), end
	}
	a := args(g.items)
	arg := func(k int) string { return strings.TrimSpace(r.seq(a[k])) }
	all := func() []string {
		out := make([]string, len(a))
		for k := range a {
			out[k] = arg(k)
		}
		return out
	}
	name := strings.ToUpper(parts[0].name)
	rename := func(to string) string { return to + "(" + r.seq(g.items) + ")" }
	switch name {
	case "COUNTIF":
		if k := significant(g.items, 0); k < len(g.items) && g.items[k].tok.is("DISTINCT") {
			r.unsupportedf("COUNTIF(DISTINCT …)")
		}
		return rename("bq_countif"), end
	case "LOGICAL_OR":
		return rename("bool_or"), end
	case "LOGICAL_AND":
		return rename("bool_and"), end
	case "SAFE_DIVIDE":
		return rename("safe_divide"), end
	case "CAST":
		return r.cast("CAST", g), end
	case "SAFE_CAST":
		return r.cast("TRY_CAST", g), end
	case "ARRAY_AGG":
		return r.arrayAgg(g), end
	case "EXTRACT":
		return r.extract(g, generic), end
	case "MAX_BY", "MIN_BY":
		if len(a) != 2 {
			r.unsupportedf("%s with a limit", name)
			return generic(written), end
		}
		return rename(map[string]string{"MAX_BY": "arg_max_null", "MIN_BY": "arg_min_null"}[name]), end
	case "LEAST", "GREATEST":
		if len(a) < 2 {
			return generic(written), end
		}
		// BigQuery's are NULL when an argument is; DuckDB's skip NULLs
		var nulls []string
		for _, x := range all() {
			nulls = append(nulls, "("+x+") IS NULL")
		}
		return fmt.Sprintf("(CASE WHEN %s THEN NULL ELSE %s(%s) END)", strings.Join(nulls, " OR "),
			strings.ToLower(name), strings.Join(all(), ", ")), end
	case "CONCAT":
		// BigQuery's CONCAT is NULL when an argument is, as DuckDB's || (not its concat)
		if len(a) == 0 {
			return generic(written), end
		}
		return "(" + strings.Join(all(), " || ") + ")", end
	case "LOG":
		switch len(a) {
		case 1: // BigQuery's LOG(x) is the natural logarithm, DuckDB's log(x) base 10
			return "ln(" + arg(0) + ")", end
		case 2: // LOG(x, base); DuckDB's is log(base, x)
			return "log(" + arg(1) + ", " + arg(0) + ")", end
		}
	case "DATE_ADD", "DATE_SUB", "DATETIME_ADD", "DATETIME_SUB", "TIMESTAMP_ADD", "TIMESTAMP_SUB":
		if len(a) != 2 {
			break
		}
		op := "+"
		if strings.HasSuffix(name, "SUB") {
			op = "-"
		}
		if strings.HasPrefix(name, "DATE_") {
			// date ± interval is a timestamp in DuckDB
			return fmt.Sprintf("CAST((%s) %s (%s) AS DATE)", arg(0), op, arg(1)), end
		}
		return fmt.Sprintf("((%s) %s (%s))", arg(0), op, arg(1)), end
	case "DATE_DIFF", "DATETIME_DIFF", "TIMESTAMP_DIFF":
		if len(a) != 3 {
			break
		}
		part := keyword(a[2])
		// DATE_DIFF and DATETIME_DIFF count part boundaries, as DuckDB's date_diff;
		// TIMESTAMP_DIFF counts whole parts, as DuckDB's date_sub.
		boundaries := map[string]bool{"DAY": true, "MONTH": true, "QUARTER": true, "YEAR": true}
		fn := "date_diff"
		if name == "DATETIME_DIFF" {
			boundaries = map[string]bool{"MICROSECOND": true, "MILLISECOND": true, "SECOND": true, "MINUTE": true,
				"HOUR": true, "DAY": true, "MONTH": true, "QUARTER": true, "YEAR": true}
		}
		if name == "TIMESTAMP_DIFF" {
			fn = "date_sub"
			boundaries = map[string]bool{"MICROSECOND": true, "MILLISECOND": true, "SECOND": true, "MINUTE": true,
				"HOUR": true, "DAY": true}
		}
		if !boundaries[part] {
			if part == "" {
				part = "a computed part"
			}
			r.unsupportedf("%s by %s", name, part)
			return generic(written), end
		}
		return fmt.Sprintf("%s('%s', %s, %s)", fn, strings.ToLower(part), arg(1), arg(0)), end
	case "DATE":
		switch len(a) {
		case 1:
			return "CAST(" + arg(0) + " AS DATE)", end
		case 3:
			return rename("make_date"), end
		}
		r.unsupportedf("DATE with a time zone")
		return generic(written), end
	case "DATETIME", "TIMESTAMP":
		if len(a) == 1 {
			return "CAST(" + arg(0) + " AS TIMESTAMP)", end
		}
		r.unsupportedf("%s with a time zone or time", name)
		return generic(written), end
	case "FORMAT_DATE", "FORMAT_DATETIME", "FORMAT_TIMESTAMP":
		if len(a) == 2 {
			return "strftime(" + arg(1) + ", " + arg(0) + ")", end
		}
		r.unsupportedf("%s with a time zone", name)
		return generic(written), end
	case "PARSE_DATE", "PARSE_DATETIME", "PARSE_TIMESTAMP":
		if len(a) != 2 {
			r.unsupportedf("%s with a time zone", name)
			return generic(written), end
		}
		if name == "PARSE_DATE" {
			return "CAST(strptime(" + arg(1) + ", " + arg(0) + ") AS DATE)", end
		}
		return "strptime(" + arg(1) + ", " + arg(0) + ")", end
	case "JSON_EXTRACT_SCALAR", "JSON_VALUE", "JSON_EXTRACT", "JSON_QUERY":
		fn := "bq_json_value"
		if name == "JSON_EXTRACT" || name == "JSON_QUERY" {
			fn = "bq_json_query"
		}
		switch len(a) {
		case 1:
			if name == "JSON_EXTRACT_SCALAR" {
				return fn + "(" + arg(0) + ", '$')", end
			}
			// JSON_VALUE(json_column.field): DuckDB's JSON type has no field access
			r.unsupportedf("%s of a JSON-typed value", name)
			return generic(written), end
		case 2:
			return fn + "(" + arg(0) + ", " + jsonPath(a[1], r) + ")", end
		}
	case "REGEXP_CONTAINS":
		return rename("regexp_matches"), end
	case "REGEXP_REPLACE":
		if len(a) == 3 {
			// BigQuery replaces every match, DuckDB only the first without 'g'
			return "regexp_replace(" + strings.Join(all(), ", ") + ", 'g')", end
		}
	case "CONTAINS_SUBSTR":
		if len(a) == 2 {
			// case-insensitive search of a string (BigQuery also normalizes Unicode and
			// searches inside structs and arrays)
			return "contains(lower(" + arg(0) + "), lower(" + arg(1) + "))", end
		}
	case "SPLIT":
		switch len(a) {
		case 1:
			return "string_split(" + arg(0) + ", ',')", end
		case 2:
			return rename("string_split"), end
		}
	case "GENERATE_ARRAY":
		return rename("generate_series"), end
	case "STRUCT":
		r.unsupportedf("STRUCT(…) constructor")
	case "REGEXP_EXTRACT", "REGEXP_EXTRACT_ALL", "REGEXP_INSTR", "REGEXP_SUBSTR",
		"APPROX_QUANTILES", "APPROX_TOP_COUNT", "APPROX_TOP_SUM", "PERCENTILE_CONT", "PERCENTILE_DISC",
		"FORMAT", "FARM_FINGERPRINT", "TO_JSON_STRING", "TO_JSON", "PARSE_JSON",
		"JSON_EXTRACT_ARRAY", "JSON_QUERY_ARRAY", "JSON_VALUE_ARRAY", "JSON_EXTRACT_STRING_ARRAY",
		"DATE_TRUNC", "DATETIME_TRUNC", "TIMESTAMP_TRUNC", "GENERATE_DATE_ARRAY", "GENERATE_TIMESTAMP_ARRAY",
		"ARRAY_CONCAT_AGG", "DIV", "IEEE_DIVIDE", "BIT_CAST_TO_INT64", "ST_GEOGPOINT", "ST_DISTANCE":
		r.unsupportedf("%s", name)
	}
	return generic(written), end
}

// jsonPath prints a JSONPath argument; a literal's ['key'] steps become DuckDB's ."key".
func jsonPath(ns []node, r *rewriter) string {
	i := significant(ns, 0)
	if i < len(ns) && ns[i].open == "" && ns[i].tok.kind == tString && significant(ns, i+1) == len(ns) {
		p := bracketStep.ReplaceAllStringFunc(ns[i].tok.val, func(m string) string {
			key := bracketStep.FindStringSubmatch(m)
			k := key[1] + key[2]
			return `."` + strings.ReplaceAll(k, `"`, `\"`) + `"`
		})
		return duckString(p)
	}
	return strings.TrimSpace(r.seq(ns))
}

var bracketStep = regexp.MustCompile(`\['([^']*)'\]|\["([^"]*)"\]`)

// cast prints CAST(x AS type) with BigQuery's type names in DuckDB's.
func (r *rewriter) cast(fn string, g node) string {
	k := -1
	for i, n := range g.items {
		if n.open == "" && n.tok.is("AS") {
			k = i
		}
	}
	if k < 0 {
		return fn + "(" + r.seq(g.items) + ")"
	}
	typ := g.items[k+1:]
	t := significant(typ, 0)
	typeText := strings.TrimSpace(r.seq(typ))
	if t == len(typ) || typ[t].open != "" || typ[t].tok.kind != tIdent {
		r.unsupportedf("CAST to %s", typeText)
		return fn + "(" + r.seq(g.items) + ")"
	}
	var params *node
	rest := significant(typ, t+1)
	if rest < len(typ) && typ[rest].isGroup("(") {
		params = &typ[rest]
		rest = significant(typ, rest+1)
	}
	if rest < len(typ) {
		if typ[rest].tok.is("FORMAT") {
			r.unsupportedf("CAST … FORMAT")
		} else {
			r.unsupportedf("CAST to %s", typeText)
		}
		return fn + "(" + r.seq(g.items) + ")"
	}
	var duck string
	switch strings.ToUpper(typ[t].tok.text) {
	case "INT64", "INT", "INTEGER", "SMALLINT", "BIGINT", "TINYINT", "BYTEINT":
		duck = "BIGINT"
	case "FLOAT64", "FLOAT", "DOUBLE":
		duck = "DOUBLE"
	case "NUMERIC", "DECIMAL":
		duck = "DECIMAL(38, 9)"
		if params != nil {
			duck = "DECIMAL(" + r.seq(params.items) + ")"
		}
	case "STRING":
		duck = "VARCHAR"
	case "BOOL", "BOOLEAN":
		duck = "BOOLEAN"
	case "BYTES":
		duck = "BLOB"
	case "DATE", "TIME", "INTERVAL", "JSON":
		duck = strings.ToUpper(typ[t].tok.text)
	case "DATETIME", "TIMESTAMP":
		duck = "TIMESTAMP"
	default:
		r.unsupportedf("CAST to %s", typeText)
		return fn + "(" + r.seq(g.items) + ")"
	}
	if duck == "BIGINT" {
		// DuckDB rounds a decimal string ('1.5' → 2); BigQuery refuses it
		m := map[string]string{"CAST": "bq_cast_int64", "TRY_CAST": "bq_safe_cast_int64"}[fn]
		return m + "(" + strings.TrimSpace(r.seq(g.items[:k])) + ")"
	}
	return fn + "(" + r.seq(g.items[:k]) + "AS " + duck + ")"
}

// arrayAgg prints ARRAY_AGG(x [IGNORE NULLS | RESPECT NULLS] [ORDER BY …] [LIMIT n]):
// DuckDB's array_agg has ORDER BY, and IGNORE NULLS and LIMIT become a FILTER and a slice.
func (r *rewriter) arrayAgg(g node) string {
	items := g.items
	exprEnd, orderAt, limitAt := len(items), -1, -1
	ignoreNulls := false
	for i, n := range items {
		if n.open != "" {
			continue
		}
		switch {
		case n.tok.is("IGNORE") || n.tok.is("RESPECT"):
			if j := significant(items, i+1); j < len(items) && items[j].tok.is("NULLS") {
				ignoreNulls = n.tok.is("IGNORE")
				exprEnd = min(exprEnd, i)
			}
		case n.tok.is("ORDER"):
			if j := significant(items, i+1); j < len(items) && items[j].tok.is("BY") {
				orderAt = j + 1
				exprEnd = min(exprEnd, i)
			}
		case n.tok.is("LIMIT"):
			limitAt = i + 1
			exprEnd = min(exprEnd, i)
		}
	}
	expr := strings.TrimSpace(r.seq(items[:exprEnd]))
	out := "array_agg(" + expr
	if orderAt >= 0 {
		orderEnd := len(items)
		if limitAt > orderAt {
			orderEnd = limitAt - 1
		}
		out += " ORDER BY " + strings.TrimSpace(r.seq(items[orderAt:orderEnd]))
	}
	out += ")"
	if ignoreNulls {
		x := items[:exprEnd]
		if k := significant(x, 0); k < len(x) && x[k].tok.is("DISTINCT") {
			x = x[k+1:]
		}
		out += " FILTER (WHERE (" + strings.TrimSpace(r.seq(x)) + ") IS NOT NULL)"
	}
	if limitAt >= 0 {
		out = "(" + out + ")[1:" + strings.TrimSpace(r.seq(items[limitAt:])) + "]"
	}
	return out
}

// extract prints EXTRACT(part FROM x) where BigQuery's part differs from DuckDB's.
func (r *rewriter) extract(g node, generic func(string) string) string {
	from := -1
	for i, n := range g.items {
		if n.open == "" && n.tok.is("FROM") {
			from = i
			break
		}
	}
	if from < 0 {
		return generic("EXTRACT")
	}
	part := keyword(g.items[:from])
	x := strings.TrimSpace(r.seq(g.items[from+1:]))
	for _, n := range g.items[from+1:] {
		if n.open == "" && n.tok.is("AT") {
			r.unsupportedf("EXTRACT … AT TIME ZONE")
			return generic("EXTRACT")
		}
	}
	switch part {
	case "DAYOFWEEK": // BigQuery: 1 (Sunday) … 7; DuckDB's dow: 0 (Sunday) … 6
		return "(EXTRACT(dow FROM " + x + ") + 1)"
	case "ISOWEEK":
		return "EXTRACT(week FROM " + x + ")"
	case "ISOYEAR":
		return "EXTRACT(isoyear FROM " + x + ")"
	case "DAYOFYEAR":
		return "EXTRACT(doy FROM " + x + ")"
	case "DATE":
		return "CAST(" + x + " AS DATE)"
	case "MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "MONTH", "QUARTER", "YEAR":
		return generic("EXTRACT")
	case "":
		r.unsupportedf("EXTRACT of %s", strings.TrimSpace(r.seq(g.items[:from])))
	default:
		r.unsupportedf("EXTRACT of %s", part)
	}
	return generic("EXTRACT")
}

// udfs are the BigQuery user-defined functions (mozfun and moz-fx-data-shared-prod.udf)
// that duckdbMacros provide, by their name without the project.
var udfs = map[string]string{
	"map.get_key":                              "map_get_key",
	"udf.get_key":                              "map_get_key",
	"hist.extract":                             "mozfun_hist_extract",
	"udf.json_extract_histogram":               "mozfun_hist_extract",
	"json.extract_int_map":                     "mozfun_json_extract_int_map",
	"udf.json_extract_int_map":                 "mozfun_json_extract_int_map",
	"hist.threshold_count":                     "mozfun_hist_threshold_count",
	"hist.extract_histogram_sum":               "udf_extract_histogram_sum",
	"udf.extract_histogram_sum":                "udf_extract_histogram_sum",
	"udf.keyed_histogram_get_sum":              "udf_keyed_histogram_get_sum",
	"udf.histogram_max_key_with_nonzero_value": "udf_histogram_max_key_with_nonzero_value",
	"map.extract_keyed_scalar_sum":             "mozfun_map_extract_keyed_scalar_sum",
	"bits28.days_since_seen":                   "mozfun_bits28_days_since_seen",
	"stats.mode_last":                          "mozfun_stats_mode_last",
}

// bigQueryFamilies are BigQuery's own dotted function families.
var bigQueryFamilies = map[string]bool{"hll_count": true, "net": true, "keys": true, "aead": true, "ml": true,
	"kll_quantiles": true, "deterministic_encrypt": true}

// udf prints a call of a dotted name: a BigQuery UDF, SAFE.f or a function family such
// as HLL_COUNT.MERGE.
func (r *rewriter) udf(parts []pathPart, g node, generic func(string) string) string {
	names := make([]string, len(parts))
	written := make([]string, len(parts))
	for i, p := range parts {
		names[i] = strings.ToLower(p.name)
		written[i] = p.name
	}
	if len(names) == 2 && names[0] == "safe" {
		a := args(g.items)
		arg := func(k int) string { return strings.TrimSpace(r.seq(a[k])) }
		switch names[1] {
		case "divide":
			return "safe_divide(" + r.seq(g.items) + ")"
		case "parse_date":
			if len(a) == 2 {
				return "CAST(try_strptime(" + arg(1) + ", " + arg(0) + ") AS DATE)"
			}
		case "parse_datetime", "parse_timestamp":
			if len(a) == 2 {
				return "try_strptime(" + arg(1) + ", " + arg(0) + ")"
			}
		}
		r.unsupportedf("SAFE.%s", strings.ToUpper(parts[1].name))
		return generic(strings.Join(written, "."))
	}
	if len(names) >= 3 && projects[names[0]] {
		names = names[1:]
	}
	if fn, ok := udfs[strings.Join(names, ".")]; ok {
		return fn + "(" + r.seq(g.items) + ")"
	}
	if len(names) == 2 && bigQueryFamilies[names[0]] {
		// a function family of BigQuery's own: HLL_COUNT.MERGE, NET.HOST, KEYS.…
		r.unsupportedf("%s", strings.ToUpper(strings.Join(written, ".")))
		return generic(strings.Join(written, "."))
	}
	r.unsupportedf("%s", strings.Join(written, "."))
	return generic(strings.Join(written, "."))
}
