//go:build cgo

package warehouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BigQuery SQL rewritten for DuckDB computes what BigQuery computes: the values below are
// BigQuery's (from its documentation, and for Mozilla's UDFs from the tests of their
// definitions in bigquery-etl's sql/mozfun).
func TestDuckDBRewriteComputesBigQueryValues(t *testing.T) {
	c, err := newDuckDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.db.Close()
	hist := `'{"bucket_count":10,"histogram_type":1,"sum":2628,"range":[1,100],"values":{"0":12434,"1":297,"13":8}}'`
	for _, tc := range []struct {
		name, expr, from, want string
	}{
		// aggregates over no rows, NULL rows and some rows
		{"COUNTIF over no rows", "COUNTIF(x)", "(SELECT true AS x WHERE false)", "0"},
		{"COUNTIF over NULLs", "COUNTIF(x > 1)", "(SELECT CAST(NULL AS INT) AS x)", "0"},
		{"COUNTIF", "COUNTIF(x > 1)", "(SELECT unnest([1, 2, 3, NULL]) AS x)", "2"},
		{"LOGICAL_OR", "COALESCE(LOGICAL_OR(x > 2), FALSE)", "(SELECT unnest([1, 2, NULL]) AS x)", "false"},
		{"SAFE_DIVIDE by zero", "SAFE_DIVIDE(SUM(x), 0)", "(SELECT 1 AS x)", "<nil>"},
		{"SAFE_DIVIDE of integers", "SAFE_DIVIDE(7, 2)", "(SELECT 1)", "3.5"},
		{"MAX_BY of a NULL latest value", "MAX_BY(x, d)", "(SELECT unnest([1, NULL]) AS x, unnest([1, 2]) AS d)", "<nil>"},
		{"MAX_BY skips NULL keys", "MAX_BY(x, d)", "(SELECT unnest([5, 1]) AS x, unnest([NULL, 1]) AS d)", "1"},
		{"ARRAY_AGG latest non-NULL", "ARRAY_AGG(x IGNORE NULLS ORDER BY d DESC LIMIT 1)[SAFE_OFFSET(0)]",
			"(SELECT unnest([NULL, 5, 7]) AS x, unnest([3, 2, 1]) AS d)", "5"},
		{"ARRAY_AGG sorts NULLs first ascending", "ARRAY_AGG(x ORDER BY d LIMIT 1)[SAFE_OFFSET(0)]",
			"(SELECT unnest([1, 2]) AS x, unnest([1, NULL]) AS d)", "2"},
		{"ARRAY_AGG sorts NULLs last descending", "ARRAY_AGG(x ORDER BY d DESC LIMIT 1)[SAFE_OFFSET(0)]",
			"(SELECT unnest([1, 2]) AS x, unnest([1, NULL]) AS d)", "1"},
		{"COUNT DISTINCT IF", "COUNT(DISTINCT IF(x > 1, x, NULL))", "(SELECT unnest([1, 2, 2, 3]) AS x)", "2"},

		// scalars
		{"LEAST with a NULL", "LEAST(1, CAST(NULL AS INT64))", "(SELECT 1)", "<nil>"},
		{"GREATEST", "GREATEST(1, 3, 2)", "(SELECT 1)", "3"},
		{"CONCAT with a NULL", "CONCAT('a', CAST(NULL AS STRING))", "(SELECT 1)", "<nil>"},
		{"IF with NULL condition", "IF(NULL, 1, 2)", "(SELECT 1)", "2"},
		{"CAST rounds half away from zero", "CAST(-2.5 AS INT64)", "(SELECT 1)", "-3"},
		{"SAFE_CAST of a decimal string to INT64", `SAFE_CAST("1.5" AS INT64)`, "(SELECT 1)", "<nil>"},
		{"CAST of a numeric string", `CAST(" 12" AS INT64) + CAST(TRUE AS INT64)`, "(SELECT 1)", "13"},
		{"SAFE_CAST of garbage", `SAFE_CAST("x" AS INT64)`, "(SELECT 1)", "<nil>"},
		{"LOG base", "LOG(100, 10)", "(SELECT 1)", "2"},
		{"LOG natural", "ROUND(LOG(EXP(2)), 9)", "(SELECT 1)", "2"},
		{"double-quoted strings", `"a" = 'a' AND "it's" = 'it\'s'`, "(SELECT 1)", "true"},
		{"LIKE escapes", `'MOZ_CRASH(x)' LIKE r'MOZ\_CRASH%' AND NOT 'MOZxCRASH' LIKE r'MOZ\_CRASH%'`, "(SELECT 1)", "true"},
		{"REGEXP_CONTAINS", `REGEXP_CONTAINS('content', r'^cont')`, "(SELECT 1)", "true"},
		{"REGEXP_REPLACE replaces every match", "REGEXP_REPLACE('aaa', 'a', 'b')", "(SELECT 1)", "bbb"},
		{"CONTAINS_SUBSTR ignores case", "CONTAINS_SUBSTR('Merino_Top_Picks', 'merino_top')", "(SELECT 1)", "true"},
		{"SPLIT and OFFSET", "SPLIT('a,b,c', ',')[OFFSET(1)]", "(SELECT 1)", "b"},
		{"SAFE_OFFSET out of range", "SPLIT('a,b,c', ',')[SAFE_OFFSET(5)]", "(SELECT 1)", "<nil>"},
		{"SAFE_OFFSET negative", "[1, 2, 3][SAFE_OFFSET(-1)]", "(SELECT 1)", "<nil>"},
		{"ARRAY_LENGTH", "ARRAY_LENGTH([1, 2])", "(SELECT 1)", "2"},
		{"STARTS_WITH and ENDS_WITH", "STARTS_WITH('abc', 'a') AND ENDS_WITH('abc', 'c')", "(SELECT 1)", "true"},
		{"x IN UNNEST", "2 IN UNNEST([1, 2])", "(SELECT 1)", "true"},
		{"UNNEST with alias", "EXISTS(SELECT 1 FROM UNNEST(a) AS x WHERE x.id = 'b')",
			"(SELECT [{'id': 'a'}, {'id': 'b'}] AS a)", "true"},
		{"UNNEST without alias", "(SELECT SUM(value) FROM UNNEST(m))",
			"(SELECT [{'key': 'a', 'value': 2}, {'key': 'b', 'value': 3}] AS m)", "5"},
		{"JSON_EXTRACT_SCALAR", `JSON_EXTRACT_SCALAR('{"sum": 3}', "$.sum")`, "(SELECT 1)", "3"},
		{"JSON_EXTRACT_SCALAR of an object", `JSON_EXTRACT_SCALAR('{"a": {"b": 1}}', "$.a")`, "(SELECT 1)", "<nil>"},
		{"JSON_EXTRACT_SCALAR of malformed JSON", `JSON_EXTRACT_SCALAR('4,7', "$.sum")`, "(SELECT 1)", "<nil>"},
		{"JSON_VALUE", `JSON_VALUE('{"a": "x"}', '$.a')`, "(SELECT 1)", "x"},

		// dates
		{"DATE_SUB", "DATE_SUB(DATE '2024-03-01', INTERVAL 1 DAY) = DATE '2024-02-29'", "(SELECT 1)", "true"},
		{"DATE_ADD is a date", "CAST(DATE_ADD(DATE '2024-01-30', INTERVAL 2 DAY) AS STRING)", "(SELECT 1)", "2024-02-01"},
		{"DATE_DIFF", "DATE_DIFF(DATE '2024-01-10', DATE '2024-01-03', DAY)", "(SELECT 1)", "7"},
		{"DATE_DIFF by MONTH counts boundaries", "DATE_DIFF(DATE '2018-01-01', DATE '2017-12-31', MONTH)", "(SELECT 1)", "1"},
		{"TIMESTAMP_DIFF counts whole parts", "TIMESTAMP_DIFF(TIMESTAMP '2024-01-02 00:00:00', TIMESTAMP '2024-01-01 00:00:01', DAY)", "(SELECT 1)", "0"},
		{"EXTRACT DAYOFWEEK", "EXTRACT(DAYOFWEEK FROM DATE '2024-01-07')", "(SELECT 1)", "1"},
		{"FORMAT_DATE", "FORMAT_DATE('%m-%d', DATE '2024-03-05')", "(SELECT 1)", "03-05"},
		{"PARSE_DATETIME", "PARSE_DATETIME('%Y %m %d %H:%M', '2022 03 17 10:11') BETWEEN '2022-03-16' AND '2022-03-22'", "(SELECT 1)", "true"},
		{"DATE of a timestamp", "CAST(DATE(TIMESTAMP '2024-01-02 23:59:59') AS STRING)", "(SELECT 1)", "2024-01-02"},

		// Mozilla's UDFs, with the expectations of their bigquery-etl tests
		{"map.get_key", "mozfun.map.get_key([STRUCT('foo' AS key, 42 AS value)], 'foo')", "(SELECT 1)", ""}, // see below
		{"hist.extract JSON", "mozfun.hist.extract(" + hist + ").sum", "(SELECT 1)", "2628"},
		{"hist.extract JSON values", "ARRAY_LENGTH(mozfun.hist.extract(" + hist + ").values)", "(SELECT 1)", "3"},
		{"hist.extract JSON range", "mozfun.hist.extract(" + hist + ").range[OFFSET(1)]", "(SELECT 1)", "100"},
		{"hist.extract boolean", "mozfun.hist.extract('0,31').values[OFFSET(1)].value", "(SELECT 1)", "31"},
		{"hist.extract count", "mozfun.hist.extract('37').sum", "(SELECT 1)", "37"},
		{"hist.extract compact", "mozfun.hist.extract('3;2;5;1,2;0:0,1:5,2:0').values[OFFSET(1)].value", "(SELECT 1)", "5"},
		{"hist.extract NULL", "mozfun.hist.extract(CAST(NULL AS STRING)) IS NULL", "(SELECT 1)", "true"},
		{"agg_histogram_mean", `SAFE_DIVIDE(SUM(CAST(JSON_EXTRACT_SCALAR(h, "$.sum") AS int64)),
			SUM((SELECT SUM(value) FROM UNNEST(mozfun.hist.extract(h).values))))`,
			`(SELECT unnest(['{"sum":10,"values":{"1":2,"5":2}}', '{"sum":5,"values":{"5":1}}', NULL]) AS h)`, "3"},
		{"hist.threshold_count", `mozfun.hist.threshold_count('{"values":{"0":1,"1":2, "4": 10, "8": 7}}', 4)`, "(SELECT 1)", "17"},
		{"hist.threshold_count empty", `mozfun.hist.threshold_count('{}', 1)`, "(SELECT 1)", "0"},
		{"hist.threshold_count zero", `mozfun.hist.threshold_count('{"values":{"5":1, "6":3}}', 6)`, "(SELECT 1)", "3"},
		{"histogram_max_key_with_nonzero_value", `udf.histogram_max_key_with_nonzero_value('{"values":{"0":3,"1":2}}')`, "(SELECT 1)", "1"},
		{"histogram_max_key_with_nonzero_value zero", `udf.histogram_max_key_with_nonzero_value('{"values":{"0":0}}')`, "(SELECT 1)", "<nil>"},
		{"extract_histogram_sum", `udf.extract_histogram_sum('{"range":[1,2],"bucket_count":3,"histogram_type":4,"values":{"1": 7},"sum":7}')
			+ udf.extract_histogram_sum('4,7') + udf.extract_histogram_sum('7') + udf.extract_histogram_sum('3;2;7;1,2;0:0,1:5,2:1')`, "(SELECT 1)", "28"},
		{"extract_histogram_sum of garbage", `udf.extract_histogram_sum('foo')`, "(SELECT 1)", "<nil>"},
		{"keyed_histogram_get_sum", "`moz-fx-data-shared-prod`.udf.keyed_histogram_get_sum(k, 'key2')",
			`(SELECT [{'key': 'key1', 'value': '{"sum":1}'}, {'key': 'key2', 'value': '{"bucket_count":3,"histogram_type":4,"sum":2,"range":[1,2],"values":{"0":1,"1":1}}'}] AS k)`, "2"},
		{"extract_keyed_scalar_sum", "mozfun.map.extract_keyed_scalar_sum(m)",
			"(SELECT [{'key': 'a', 'value': 1}, {'key': 'b', 'value': NULL}] AS m)", "1"},
		{"extract_keyed_scalar_sum of NULLs", "mozfun.map.extract_keyed_scalar_sum(m)",
			"(SELECT [{'key': 'a', 'value': CAST(NULL AS BIGINT)}] AS m)", "<nil>"},
		{"bits28.days_since_seen", "mozfun.bits28.days_since_seen(8) + mozfun.bits28.days_since_seen(9)", "(SELECT 1)", "3"},
		{"bits28.days_since_seen of 0", "mozfun.bits28.days_since_seen(0)", "(SELECT 1)", "<nil>"},
		{"stats.mode_last", "mozfun.stats.mode_last(['foo', 'bar', 'baz', 'bar', 'baz', 'fred'])", "(SELECT 1)", "baz"},
		{"stats.mode_last ignores NULLs", "mozfun.stats.mode_last(ARRAY_AGG(x))", "(SELECT unnest([NULL, 'foo', NULL]) AS x)", "foo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "map.get_key" {
				// STRUCT(…) constructors are not supported; the map is a DuckDB list here
				tc.expr, tc.from, tc.want = "mozfun.map.get_key(m, 'bar')", "(SELECT [{'key': 'foo', 'value': 42}, {'key': 'bar', 'value': 12}] AS m)", "12"
			}
			if c, found := (DuckDB{}).UnsupportedConstruct(tc.expr); found {
				t.Fatalf("unsupported: %s", c)
			}
			q := "SELECT " + (DuckDB{}).Rewrite(tc.expr) + " FROM " + tc.from + " AS t"
			var got []string
			err := c.Query(context.Background(), q, func(_ []string, v []any) error {
				got = append(got, fmt.Sprint(v[0]))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s = %v, want %s\nDuckDB SQL: %s", tc.expr, got, tc.want, q)
			}
		})
	}
}

// Where BigQuery fails, DuckDB fails too rather than return a number.
func TestDuckDBRewriteFailsWhereBigQueryFails(t *testing.T) {
	c, err := newDuckDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.db.Close()
	for _, expr := range []string{
		`CAST("1.5" AS INT64)`,
		`SUM(CAST(x AS INT64))`,
	} {
		q := "SELECT " + (DuckDB{}).Rewrite(expr) + " FROM (SELECT '2.5' AS x) AS t"
		err := c.Query(context.Background(), q, func([]string, []any) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "Bad int64 value") {
			t.Errorf("%s: error = %v, want Bad int64 value", expr, err)
		}
	}
}
