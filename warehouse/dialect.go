// Package warehouse generates the SQL Jetstream runs (enrollments and per-client metrics) in
// the BigQuery and DuckDB dialects, and runs it through a small client interface.
//
// User SQL in configs is BigQuery SQL. The DuckDB dialect rewrites it for DuckDB with a
// small lexer (bqrewrite.go) and provides macros for BigQuery functions and Mozilla's UDFs
// (duckdb_macros.go); what DuckDB cannot run even then is named by
// DuckDB.UnsupportedConstruct, and MetricsQuery.SQL fails with the metric and the construct.
package warehouse

import (
	"fmt"
	"strings"
	"time"
)

// Dialect is what differs between warehouses in the SQL we generate.
type Dialect interface {
	// Name is "bigquery" or "duckdb".
	Name() string
	// Date renders a date literal.
	Date(t time.Time) string
	// AddDays renders date expression + days (an integer expression).
	AddDays(date, days string) string
	// MapGet renders the value for key in a BigQuery-style ARRAY<STRUCT<key, value>>.
	MapGet(m, key string) string
	// Table renders a qualified table name (dataset.table).
	Table(dataset, table string) string
	// Dataset renders a dataset (schema) name.
	Dataset(dataset string) string
	// Ident quotes a column name or alias (metric and segment names).
	Ident(name string) string
	// Rewrite adapts user-written BigQuery SQL (metric expressions, from expressions).
	Rewrite(sql string) string
	// Part renders a condition on the rows of table that holds for part `part` of `parts`
	// disjoint parts covering them all: how one table is read by several workers at once.
	// BigQuery splits by a hash of column; DuckDB by ranges of rowid (each part scans its
	// rows only, not the whole table).
	Part(table, column string, parts, part int) string
}

// BigQuery is the production dialect.
type BigQuery struct{ Project string }

func (BigQuery) Name() string            { return "bigquery" }
func (BigQuery) Date(t time.Time) string { return "DATE '" + t.Format(time.DateOnly) + "'" }
func (BigQuery) AddDays(d, n string) string {
	return fmt.Sprintf("DATE_ADD(%s, INTERVAL %s DAY)", d, n)
}

// MapGet inlines mozfun.map.get_key's definition, so that the generated SQL needs no UDF
// (and runs on the BigQuery emulator).
func (BigQuery) MapGet(m, key string) string {
	return fmt.Sprintf("(SELECT kv.value FROM UNNEST(%s) AS kv WHERE kv.key = %s LIMIT 1)", m, quote(key))
}
func (b BigQuery) Table(dataset, table string) string {
	if b.Project == "" {
		return fmt.Sprintf("`%s.%s`", dataset, table)
	}
	return fmt.Sprintf("`%s.%s.%s`", b.Project, dataset, table)
}
func (b BigQuery) Dataset(dataset string) string {
	if b.Project == "" {
		return "`" + dataset + "`"
	}
	return fmt.Sprintf("`%s.%s`", b.Project, dataset)
}
func (BigQuery) Rewrite(sql string) string { return sql }
func (BigQuery) Part(_, column string, parts, part int) string {
	return fmt.Sprintf("ABS(MOD(FARM_FINGERPRINT(CAST(%s AS STRING)), %d)) = %d", column, parts, part)
}

// Part is a range of rowids: [count·part/parts, count·(part+1)/parts), with the first
// part open below and the last open above, so that every row is in exactly one part even
// if rowids had gaps (a table written once has rowids 0 … count−1). DuckDB reads only the
// row groups of the range: at 5M clients one of 8 parts took 8 s instead of 27 s by a
// hash of analysis_id (which scans and hashes every row for each part), and duckdb-go,
// which materialises a result before handing out its first row, held 360 instead of
// 620 MiB.
func (DuckDB) Part(table, _ string, parts, part int) string {
	count := "(SELECT count(*) FROM " + table + ")"
	var conds []string
	if part > 0 {
		conds = append(conds, fmt.Sprintf("rowid >= %s * %d // %d", count, part, parts))
	}
	if part < parts-1 {
		conds = append(conds, fmt.Sprintf("rowid < %s * %d // %d", count, part+1, parts))
	}
	if len(conds) == 0 {
		return "TRUE"
	}
	return strings.Join(conds, " AND ")
}
func (BigQuery) Ident(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "\\`") + "`"
}

// DuckDB is the embedded local dialect.
type DuckDB struct{}

func (DuckDB) Name() string                  { return "duckdb" }
func (DuckDB) Date(t time.Time) string       { return "DATE '" + t.Format(time.DateOnly) + "'" }
func (DuckDB) AddDays(d, n string) string    { return fmt.Sprintf("(%s + CAST(%s AS INTEGER))", d, n) }
func (DuckDB) MapGet(m, key string) string   { return fmt.Sprintf("map_get_key(%s, %s)", m, quote(key)) }
func (DuckDB) Dataset(dataset string) string { return quoteIdent(dataset) }
func (DuckDB) Ident(name string) string      { return quoteIdent(name) }
func (DuckDB) Table(dataset, table string) string {
	return fmt.Sprintf(`%s.%s`, quoteIdent(dataset), quoteIdent(table))
}

// Rewrite adapts BigQuery SQL for DuckDB (see bqrewrite.go): string literals in DuckDB's
// quotes, BigQuery functions as DuckDB functions or the macros of duckdbSetup, mozfun and
// udf functions as macros, `project.dataset.table` as the local dataset.table, UNNEST in
// FROM as DuckDB's. SQL that does not lex is returned as it is (DuckDB then reports it).
func (DuckDB) Rewrite(sql string) string {
	out, _, _ := bigQueryToDuckDB(sql)
	return out
}

// UnsupportedConstruct names the first construct of BigQuery SQL that DuckDB cannot run
// even after Rewrite (a BigQuery-only function, a UDF without a macro, a date part whose
// meaning differs, …), so that the query can fail before it runs, naming it.
func (DuckDB) UnsupportedConstruct(sql string) (construct string, found bool) {
	_, unsupported, err := bigQueryToDuckDB(sql)
	if err != nil {
		return "SQL with " + err.Error(), true
	}
	if len(unsupported) > 0 {
		return unsupported[0], true
	}
	return "", false
}

// quote renders a SQL string literal (single quotes, doubled inside).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// NormalizeName turns an experiment slug into a table-name part: every character outside
// [A-Za-z0-9_] becomes "_" (Jetstream's bq_normalize_name).
func NormalizeName(slug string) string {
	var b strings.Builder
	for _, r := range slug {
		if r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
