package warehouse

// duckdbSetup runs on every new DuckDB connection (settings and temporary macros are per
// connection): BigQuery's NULL ordering and the macros that the DuckDB dialect's Rewrite
// calls in place of BigQuery functions and Mozilla's UDFs (mozfun, moz-fx-data-shared-prod.udf).
// Each macro follows its BigQuery definition (see bigquery-etl's sql/mozfun), including
// what it returns for NULL, empty and malformed input.
var duckdbSetup = []string{
	// BigQuery sorts NULLs first ascending and last descending (ARRAY_AGG(… ORDER BY …))
	`SET default_null_order = 'nulls_first_on_asc_last_on_desc'`,

	`CREATE OR REPLACE TEMP MACRO logical_or(x) AS bool_or(x)`,
	`CREATE OR REPLACE TEMP MACRO logical_and(x) AS bool_and(x)`,
	`CREATE OR REPLACE TEMP MACRO safe_divide(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END`,
	// CAST and SAFE_CAST to INT64: a string must hold an integer (DuckDB rounds '1.5' to 2)
	`CREATE OR REPLACE TEMP MACRO bq_cast_int64(x) AS CASE
		WHEN typeof(x) = 'VARCHAR' AND NOT regexp_full_match(CAST(x AS VARCHAR), '\s*[+-]?[0-9]+\s*')
		THEN error('Bad int64 value: ' || CAST(x AS VARCHAR)) ELSE CAST(x AS BIGINT) END`,
	`CREATE OR REPLACE TEMP MACRO bq_safe_cast_int64(x) AS CASE
		WHEN typeof(x) = 'VARCHAR' AND NOT regexp_full_match(CAST(x AS VARCHAR), '\s*[+-]?[0-9]+\s*')
		THEN NULL ELSE TRY_CAST(x AS BIGINT) END`,
	// COUNTIF is 0, not NULL, when no row is TRUE (DuckDB's count_if is NULL then)
	`CREATE OR REPLACE TEMP MACRO bq_countif(x) AS count(*) FILTER (WHERE x)`,
	// JSON_EXTRACT_SCALAR / JSON_VALUE: NULL for malformed JSON and for objects and arrays
	`CREATE OR REPLACE TEMP MACRO bq_json_value(j, p) AS
		CASE WHEN json_valid(j) THEN CASE WHEN json_type(j, p) NOT IN ('OBJECT', 'ARRAY') THEN json_extract_string(j, p) END END`,
	// JSON_EXTRACT / JSON_QUERY: the JSON text, NULL for malformed JSON
	`CREATE OR REPLACE TEMP MACRO bq_json_query(j, p) AS
		CASE WHEN json_valid(j) THEN CAST(json_extract(j, p) AS VARCHAR) END`,

	// mozfun.map.get_key (and udf.get_key): the value of the first entry with the key
	`CREATE OR REPLACE TEMP MACRO map_get_key(m, k) AS list_filter(m, kv -> kv.key = k)[1].value`,
	// mozfun.json.extract_int_map: '{"0":12,"1":3}' → [{key: 0, value: 12}, {key: 1, value: 3}]
	`CREATE OR REPLACE TEMP MACRO mozfun_json_extract_int_map(_input) AS ` + intMap("_input"),
	// mozfun.hist.extract: a desktop histogram, JSON or compactly encoded, as a struct
	`CREATE OR REPLACE TEMP MACRO mozfun_hist_extract(_input) AS CASE
		WHEN starts_with(trim(_input), '{') THEN {
			'bucket_count': CAST(bq_json_value(_input, '$.bucket_count') AS BIGINT),
			'histogram_type': CAST(bq_json_value(_input, '$.histogram_type') AS BIGINT),
			'sum': CAST(bq_json_value(_input, '$.sum') AS BIGINT),
			'range': coalesce(CAST(CAST(bq_json_query(_input, '$.range') AS JSON) AS BIGINT[]), CAST([] AS BIGINT[])),
			'values': ` + intMap("bq_json_query(_input, '$.values')") + `}
		WHEN len(string_split(_input, ';')) = 5 THEN {
			'bucket_count': CAST(string_split(_input, ';')[1] AS BIGINT),
			'histogram_type': CAST(string_split(_input, ';')[2] AS BIGINT),
			'sum': CAST(string_split(_input, ';')[3] AS BIGINT),
			'range': list_transform(string_split(string_split(_input, ';')[4], ','), _b -> CAST(_b AS BIGINT)),
			'values': list_transform(string_split(string_split(_input, ';')[5], ','),
				_e -> {'key': CAST(string_split(_e, ':')[1] AS BIGINT), 'value': CAST(string_split(_e, ':')[2] AS BIGINT)})}
		WHEN len(string_split(_input, ',')) = 2 THEN {
			'bucket_count': CAST(3 AS BIGINT),
			'histogram_type': CAST(2 AS BIGINT),
			'sum': CAST(string_split(_input, ',')[2] AS BIGINT),
			'range': CAST([1, 2] AS BIGINT[]),
			'values': [
				{'key': CAST(0 AS BIGINT), 'value': CAST(string_split(_input, ',')[1] AS BIGINT)},
				{'key': CAST(1 AS BIGINT), 'value': CAST(string_split(_input, ',')[2] AS BIGINT)},
				{'key': CAST(2 AS BIGINT), 'value': CAST(0 AS BIGINT)}]}
		WHEN len(string_split(_input, ',')) = 1 THEN {
			'bucket_count': CAST(3 AS BIGINT),
			'histogram_type': CAST(4 AS BIGINT),
			'sum': CAST(string_split(_input, ',')[1] AS BIGINT),
			'range': CAST([1, 2] AS BIGINT[]),
			'values': [
				{'key': CAST(0 AS BIGINT), 'value': CAST(_input AS BIGINT)},
				{'key': CAST(1 AS BIGINT), 'value': CAST(0 AS BIGINT)}]}
		END`,
	// mozfun.hist.threshold_count: observations in buckets from the threshold up
	`CREATE OR REPLACE TEMP MACRO mozfun_hist_threshold_count(_h, _threshold) AS coalesce(
		list_sum(list_transform(list_filter(mozfun_hist_extract(_h)."values", _kv -> _kv.key >= _threshold), _kv -> _kv.value)), 0)`,
	// udf.extract_histogram_sum (and mozfun.hist.extract_histogram_sum)
	`CREATE OR REPLACE TEMP MACRO udf_extract_histogram_sum(_h) AS TRY_CAST(coalesce(
		bq_json_value(_h, '$.sum'), string_split(_h, ';')[3], string_split(_h, ',')[2], _h) AS BIGINT)`,
	// udf.keyed_histogram_get_sum: the sum of the histogram of one key
	`CREATE OR REPLACE TEMP MACRO udf_keyed_histogram_get_sum(_kh, _k) AS udf_extract_histogram_sum(map_get_key(_kh, _k))`,
	// udf.histogram_max_key_with_nonzero_value
	`CREATE OR REPLACE TEMP MACRO udf_histogram_max_key_with_nonzero_value(_h) AS
		list_max(list_transform(list_filter(mozfun_hist_extract(_h)."values", _kv -> _kv.value > 0), _kv -> _kv.key))`,
	// mozfun.map.extract_keyed_scalar_sum: the sum of the values (NULL when none)
	`CREATE OR REPLACE TEMP MACRO mozfun_map_extract_keyed_scalar_sum(_m) AS list_sum(list_transform(_m, _kv -> _kv.value))`,
	// mozfun.bits28.days_since_seen: the position of the lowest set bit (NULL for 0)
	`CREATE OR REPLACE TEMP MACRO mozfun_bits28_days_since_seen(_bits) AS
		CASE WHEN (_bits & -_bits) > 0 THEN CAST(log2(_bits & -_bits) AS BIGINT) END`,
	// mozfun.stats.mode_last: the most frequent non-NULL element, the latest of ties (list
	// functions: DuckDB cannot unnest an aggregate's result in a correlated subquery)
	`CREATE OR REPLACE TEMP MACRO mozfun_stats_mode_last(_list) AS list_sort(list_transform(list_distinct(_list),
		_v -> {'n': -len(list_filter(_list, _x -> _x = _v)), 'p': list_position(list_reverse(_list), _v), 'v': _v}))[1].v`,
}

// intMap is the body of mozfun.json.extract_int_map. mozfun_hist_extract has it inline:
// DuckDB 1.4 fails to bind a macro that builds structs in a lambda when it is called inside
// a struct literal in a correlated subquery ("Need named argument for struct pack"), which
// is where agg_histogram_mean calls mozfun.hist.extract.
func intMap(input string) string {
	return `coalesce(
		list_transform(
			list_filter(string_split(replace(trim(` + input + `, '{}'), '"', ''), ','), _e -> length(_e) > 0),
			_e -> {'key': TRY_CAST(string_split(_e, ':')[1] AS BIGINT), 'value': TRY_CAST(string_split(_e, ':')[2] AS BIGINT)}),
		CAST([] AS STRUCT("key" BIGINT, "value" BIGINT)[]))`
}
