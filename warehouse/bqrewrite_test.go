package warehouse

import (
	"strings"
	"testing"
	"time"
)

// The DuckDB rewriting of BigQuery SQL, construct by construct.
func TestDuckDBRewrite(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		// literals, names and comments
		{"double-quoted string", `event_category = "pictureinpicture"`, `event_category = 'pictureinpicture'`},
		{"quotes inside strings", `x IN ("it's", 'say "hi"', "a\"b")`, `x IN ('it''s', 'say "hi"', 'a"b')`},
		{"escapes", `'a\nb', "tab\there", '\x41\u00e9'`, "'a\nb', 'tab\there', 'Aé'"},
		{"triple-quoted", `"""multi "quoted" line"""`, `'multi "quoted" line'`},
		{"raw string", `REGEXP_CONTAINS(x, r'\d+\.\d')`, `regexp_matches(x, '\d+\.\d')`},
		{"LIKE with backslash escapes", `x LIKE r'MOZ\_CRASH%'`, `x LIKE 'MOZ\_CRASH%' ESCAPE '\'`},
		{"LIKE without escapes", `x NOT LIKE 'a%'`, `x NOT LIKE 'a%'`},
		{"comments", "SUM(x) -- \"not a string\"\n+ 1 # also a comment\n/* block */", "SUM(x) /* \"not a string\"*/\n+ 1 /* also a comment*/\n/* block */"},
		{"strings in comments untouched", `-- it's "x"`, `/* it's "x"*/`},
		{"backticked table", "SELECT * FROM `moz-fx-data-shared-prod.telemetry.events`", `SELECT * FROM "telemetry"."events"`},
		{"backticked project only", "FROM `moz-fx-data-shared-prod`.telemetry.main", `FROM telemetry.main`},
		{"unquoted hyphenated project", "FROM moz-fx-data-shared-prod.telemetry.main AS m", `FROM telemetry.main AS m`},
		{"unquoted mozdata table", "SELECT a FROM mozdata.telemetry.clients_daily JOIN mozdata.search.x USING (a)", `SELECT a FROM telemetry.clients_daily JOIN search.x USING (a)`},
		{"two-part table kept", "FROM telemetry.events", "FROM telemetry.events"},
		{"backticked column", "SUM(`sum`) + `my col`", `SUM("sum") + "my col"`},
		{"struct path kept", "metrics.counter.browser_total_uri_count > 0", "metrics.counter.browser_total_uri_count > 0"},
		{"minus is not a project", "a-b.c", "a-b.c"},
		{"SELECT * EXCEPT", "SELECT * EXCEPT (a, b) FROM t", "SELECT * EXCLUDE (a, b) FROM t"},
		{"DATETIME literal", "DATETIME '2024-01-01 10:00:00'", "TIMESTAMP '2024-01-01 10:00:00'"},

		// aggregates and conditionals
		{"COUNTIF", "COUNTIF(a = 1)", "bq_countif(a = 1)"},
		{"LOGICAL_OR/AND", "LOGICAL_OR(x) AND logical_and(y)", "bool_or(x) AND bool_and(y)"},
		{"SAFE_DIVIDE", "SAFE_DIVIDE(SUM(a), SUM(b))", "safe_divide(SUM(a), SUM(b))"},
		{"IF and IFNULL native", "SUM(IF(a, 1, 0)) + IFNULL(b, 0)", "SUM(IF(a, 1, 0)) + IFNULL(b, 0)"},
		{"COUNT DISTINCT native", "COUNT(DISTINCT IF(x > 8, id, NULL))", "COUNT(DISTINCT IF(x > 8, id, NULL))"},
		{"MAX_BY keeps NULL values", "MAX_BY(x, submission_date)", "arg_max_null(x, submission_date)"},
		{"MIN_BY", "MIN_BY(x, d)", "arg_min_null(x, d)"},
		{"LEAST is NULL with a NULL", "LEAST(COUNT(a), 28)", "(CASE WHEN (COUNT(a)) IS NULL OR (28) IS NULL THEN NULL ELSE least(COUNT(a), 28) END)"},
		{"CONCAT is NULL with a NULL", "CONCAT(a, '-', b)", "(a || '-' || b)"},
		{"ARRAY_AGG IGNORE NULLS ORDER BY LIMIT", "ARRAY_AGG(x IGNORE NULLS ORDER BY ts DESC LIMIT 1)[SAFE_OFFSET(0)]",
			"(array_agg(x ORDER BY ts DESC) FILTER (WHERE (x) IS NOT NULL))[1:1][1]"},
		{"ARRAY_AGG IGNORE NULLS", "ARRAY_AGG(m.x IGNORE NULLS)", "array_agg(m.x) FILTER (WHERE (m.x) IS NOT NULL)"},
		{"ARRAY_AGG DISTINCT", "ARRAY_AGG(DISTINCT x IGNORE NULLS)", "array_agg(DISTINCT x) FILTER (WHERE (x) IS NOT NULL)"},
		{"ARRAY_AGG plain", "ARRAY_AGG(country)", "array_agg(country)"},

		// casts
		{"CAST types", "CAST(x AS INT64) + CAST(y AS int) + CAST(z AS FLOAT64)", "bq_cast_int64(x) + bq_cast_int64(y) + CAST(z AS DOUBLE)"},
		{"SAFE_CAST", "SAFE_CAST(mozfun.map.get_key(m, 'k') as int64)", "bq_safe_cast_int64(map_get_key(m, 'k'))"},
		{"CAST STRING BOOL NUMERIC", "CAST(a AS STRING), CAST(b AS BOOL), SAFE_CAST(c AS NUMERIC)",
			"CAST(a AS VARCHAR), CAST(b AS BOOLEAN), TRY_CAST(c AS DECIMAL(38, 9))"},
		{"CAST nested", "CAST(CAST(x AS STRING) AS INT64)", "bq_cast_int64(CAST(x AS VARCHAR))"},

		// dates
		{"DATE_SUB", "DATE_SUB(e.enrollment_date, INTERVAL 1 DAY)", "CAST((e.enrollment_date) - (INTERVAL 1 DAY) AS DATE)"},
		{"DATE_ADD", "DATE_ADD(d, INTERVAL 7 DAY)", "CAST((d) + (INTERVAL 7 DAY) AS DATE)"},
		{"TIMESTAMP_ADD", "TIMESTAMP_ADD(ts, INTERVAL 2 HOUR)", "((ts) + (INTERVAL 2 HOUR))"},
		{"DATE_DIFF", "DATE_DIFF(submission_date, e.enrollment_date, DAY)", "date_diff('day', e.enrollment_date, submission_date)"},
		{"TIMESTAMP_DIFF", "TIMESTAMP_DIFF(b, a, HOUR)", "date_sub('hour', a, b)"},
		{"DATE of a timestamp", "COUNT(DISTINCT DATE(submission_timestamp))", "COUNT(DISTINCT CAST(submission_timestamp AS DATE))"},
		{"DATE from parts", "DATE(2024, 1, 2)", "make_date(2024, 1, 2)"},
		{"FORMAT_DATE", "FORMAT_DATE('%m-%d', submission_date)", "strftime(submission_date, '%m-%d')"},
		{"PARSE_DATETIME", "PARSE_DATETIME('%Y %m %d', s)", "strptime(s, '%Y %m %d')"},
		{"PARSE_DATE", "PARSE_DATE('%Y%m%d', s)", "CAST(strptime(s, '%Y%m%d') AS DATE)"},
		{"EXTRACT DAYOFWEEK", "EXTRACT(DAYOFWEEK FROM d)", "(EXTRACT(dow FROM d) + 1)"},
		{"EXTRACT HOUR native", "EXTRACT(HOUR FROM ts)", "EXTRACT(HOUR FROM ts)"},
		{"EXTRACT DATE", "EXTRACT(DATE FROM ts)", "CAST(ts AS DATE)"},

		// strings, JSON, math
		{"JSON_EXTRACT_SCALAR", `CAST(JSON_EXTRACT_SCALAR(h, "$.sum") AS int64)`, `bq_cast_int64(bq_json_value(h, '$.sum'))`},
		{"JSON_VALUE with path", `JSON_VALUE(event_extra, '$.preference_key')`, `bq_json_value(event_extra, '$.preference_key')`},
		{"JSON path brackets", `JSON_EXTRACT_SCALAR(j, "$['a.b'].c")`, `bq_json_value(j, '$."a.b".c')`},
		{"JSON_EXTRACT", `JSON_EXTRACT(j, '$.values')`, `bq_json_query(j, '$.values')`},
		{"REGEXP_REPLACE replaces all", `REGEXP_REPLACE(s, 'a', 'b')`, `regexp_replace(s, 'a', 'b', 'g')`},
		{"CONTAINS_SUBSTR", `CONTAINS_SUBSTR(r, 'merino')`, `contains(lower(r), lower('merino'))`},
		{"SPLIT", `SPLIT(s, ',')[OFFSET(1)]`, `string_split(s, ',')[2]`},
		{"SPLIT default", `SPLIT(s)`, `string_split(s, ',')`},
		{"SAFE_OFFSET computed", `a[SAFE_OFFSET(i - 1)]`, `a[CASE WHEN (i - 1) >= 0 THEN (i - 1) + 1 END]`},
		{"ORDINAL", `a[ORDINAL(2)]`, `a[2]`},
		{"array literal", `x IN UNNEST([1, 2])`, `x IN (SELECT unnest([1, 2]))`},
		{"LOG natural", `LOG(x)`, `ln(x)`},
		{"LOG base", `LOG(x, 2)`, `log(2, x)`},
		{"SAFE.DIVIDE", `SAFE.DIVIDE(a, b)`, `safe_divide(a, b)`},

		// UNNEST
		{"UNNEST without alias", "(SELECT SUM(value) FROM UNNEST(mozfun.hist.extract(h).values))",
			"(SELECT SUM(value) FROM (SELECT _u.* FROM unnest(mozfun_hist_extract(h).values) AS _unnest(_u)))"},
		{"UNNEST with alias", "EXISTS(SELECT 1 FROM UNNEST(active_addons) AS a WHERE a.addon_id = 'x')",
			"EXISTS(SELECT 1 FROM unnest(active_addons) AS a(a) WHERE a.addon_id = 'x')"},
		{"UNNEST with bare alias", "(SELECT COUNT(t) FROM UNNEST(m) t WHERE t.key LIKE 'a%')",
			"(SELECT COUNT(t) FROM unnest(m) AS t(t) WHERE t.key LIKE 'a%')"},
		{"CROSS JOIN UNNEST", "SELECT * FROM `mozdata.messaging_system.spotlight` CROSS JOIN UNNEST(experiments) AS experiment",
			`SELECT * FROM "messaging_system"."spotlight" CROSS JOIN unnest(experiments) AS experiment(experiment)`},

		// Mozilla UDFs
		{"mozfun.map.get_key", "mozfun.map.get_key(event_map_values, 'x')", "map_get_key(event_map_values, 'x')"},
		{"backticked mozfun", "`mozfun.map.get_key`(event.extra, 'k')", "map_get_key(event.extra, 'k')"},
		{"udf with project", "`moz-fx-data-shared-prod`.udf.keyed_histogram_get_sum(k, 'gpu')", "udf_keyed_histogram_get_sum(k, 'gpu')"},
		{"mozdata udf", "`mozdata.udf.get_key`(p, 'k')", "map_get_key(p, 'k')"},
		{"hist functions", "mozfun.hist.threshold_count(h, 0) + udf.histogram_max_key_with_nonzero_value(h)",
			"mozfun_hist_threshold_count(h, 0) + udf_histogram_max_key_with_nonzero_value(h)"},
		{"other mozfun", "mozfun.bits28.days_since_seen(b) + mozfun.map.extract_keyed_scalar_sum(m)",
			"mozfun_bits28_days_since_seen(b) + mozfun_map_extract_keyed_scalar_sum(m)"},
		{"mode_last", "mozfun.stats.mode_last(ARRAY_AGG(country))", "mozfun_stats_mode_last(array_agg(country))"},

		// keywords before parentheses stay as written
		{"keywords", "CASE WHEN(SELECT 1) THEN 1 END AND (a OR b) AND x IN (1)", "CASE WHEN(SELECT 1) THEN 1 END AND (a OR b) AND x IN (1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (DuckDB{}).Rewrite(tc.in); got != tc.want {
				t.Errorf("Rewrite(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// Rewriting never changes what a query means where DuckDB already agrees with BigQuery,
// and returns what it cannot lex unchanged (DuckDB then reports it).
func TestDuckDBRewriteUnlexable(t *testing.T) {
	for _, in := range []string{`'unterminated`, "`open", "/* open", `SUM(x`, `f(x))`} {
		if got := (DuckDB{}).Rewrite(in); got != in {
			t.Errorf("Rewrite(%q) = %q, want it unchanged", in, got)
		}
		if c, found := (DuckDB{}).UnsupportedConstruct(in); !found || c == "" {
			t.Errorf("UnsupportedConstruct(%q) = %q, %v; want a construct", in, c, found)
		}
	}
}

func TestDuckDBUnsupportedConstruct(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"HLL_COUNT.MERGE(sketch)", "HLL_COUNT.MERGE"},
		{"hll_count.extract(s)", "HLL_COUNT.EXTRACT"},
		{"APPROX_QUANTILES(x, 100)[OFFSET(50)]", "APPROX_QUANTILES"},
		{"REGEXP_EXTRACT(s, r'v(\\d+)')", "REGEXP_EXTRACT"},
		{"mozfun.hist.percentiles(h, [0.5])", "mozfun.hist.percentiles"},
		{"`moz-fx-data-shared-prod`.udf_js.foo(x)", "moz-fx-data-shared-prod.udf_js.foo"},
		{"udf.bar(x)", "udf.bar"},
		{"SAFE.LOG(x, 2)", "SAFE.LOG"},
		{"DATE_DIFF(a, b, WEEK)", "DATE_DIFF by WEEK"},
		{"DATE_TRUNC(d, MONTH)", "DATE_TRUNC"},
		{"EXTRACT(WEEK FROM d)", "EXTRACT of WEEK"},
		{"COUNTIF(DISTINCT x)", "COUNTIF(DISTINCT …)"},
		{"JSON_VALUE(event_extra.provider_name) = 'x'", "JSON_VALUE of a JSON-typed value"},
		{"CAST(x AS ARRAY<INT64>)", "CAST to ARRAY<INT64>"},
		{"CAST(d AS STRING FORMAT 'YYYY')", "CAST … FORMAT"},
		{"(SELECT x FROM UNNEST(a) AS x WITH OFFSET AS i)", "UNNEST … WITH OFFSET"},
		{"(SELECT AS STRUCT 1 AS a)", "SELECT AS STRUCT"},
		{"STRUCT(1 AS a).a", "STRUCT(…) constructor"},
		{"MAX_BY(x, y, 3)", "MAX_BY with a limit"},
		{"b'bytes'", "bytes literal b'bytes'"},
		{"FORMAT('%d', x)", "FORMAT"},
	} {
		c, found := (DuckDB{}).UnsupportedConstruct(tc.sql)
		if !found || c != tc.want {
			t.Errorf("UnsupportedConstruct(%s) = %q, %v; want %q", tc.sql, c, found, tc.want)
		}
	}
	for _, sql := range []string{
		"COALESCE(SUM(active_hours_sum), 0)",
		"COUNTIF(event_category = \"pictureinpicture\" AND SAFE_CAST(mozfun.map.get_key(event_map_values, \"x\") as int64) = 100)",
		"SAFE_DIVIDE(SUM(CAST(JSON_EXTRACT_SCALAR(h, \"$.sum\") AS int64)), SUM((SELECT SUM(value) FROM UNNEST(mozfun.hist.extract(h).values))))",
		"'HLL_COUNT.MERGE(x)' -- HLL_COUNT.MERGE(sketch)",
		"ARRAY_AGG(x IGNORE NULLS ORDER BY ts DESC LIMIT 1)[SAFE_OFFSET(0)]",
	} {
		if c, found := (DuckDB{}).UnsupportedConstruct(sql); found {
			t.Errorf("UnsupportedConstruct(%s) = %q, want none", sql, c)
		}
	}
}

// MetricsQuery.SQL fails before running, naming the metric, its data source and the
// construct; BigQuery runs the same metric.
func TestMetricsQueryNamesUnsupportedConstruct(t *testing.T) {
	ds := DataSource{Name: "clients_daily", FromExpression: "`mozdata.telemetry.clients_daily`",
		ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date", ExperimentsColumnType: "simple"}
	q := MetricsQuery{Slug: "exp", EnrollmentsTable: "enrollments_exp", Basis: BasisEnrollments, WindowEnd: 6,
		FirstDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), LastDate: time.Date(2024, 1, 14, 0, 0, 0, 0, time.UTC),
		Metrics: []Metric{
			{Name: "active_hours", SelectExpression: "COALESCE(SUM(active_hours_sum), 0)", DataSource: ds},
			{Name: "unique_sites", SelectExpression: "HLL_COUNT.MERGE(sites_sketch)", DataSource: ds},
		}}
	_, err := q.SQL(DuckDB{})
	want := `metric "unique_sites" (data source "clients_daily"): DuckDB cannot run BigQuery's HLL_COUNT.MERGE (in select_expression)`
	if err == nil || err.Error() != want {
		t.Errorf("SQL(DuckDB) error = %v\nwant %s", err, want)
	}
	if _, err := q.SQL(BigQuery{}); err != nil {
		t.Errorf("SQL(BigQuery) error = %v", err)
	}

	ds.FromExpression = "SELECT * FROM t WHERE REGEXP_EXTRACT(x, 'a(b)') = 'b'"
	q.Metrics = []Metric{{Name: "active_hours", SelectExpression: "SUM(x)", DataSource: ds}}
	_, err = q.SQL(DuckDB{})
	if err == nil || !strings.Contains(err.Error(), `data source "clients_daily" (of metric "active_hours"): DuckDB cannot run BigQuery's REGEXP_EXTRACT (in from_expression)`) {
		t.Errorf("SQL(DuckDB) error = %v", err)
	}
}
