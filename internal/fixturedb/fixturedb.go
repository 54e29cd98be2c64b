//go:build cgo

// Package fixturedb builds DuckDB warehouses from the telemetry fixtures of Jetstream's own
// integration tests (three small NDJSON tables), for tests that run the whole analysis on
// data whose every number is known.
package fixturedb

import (
	"database/sql"
	"fmt"
	"path/filepath"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// Telemetry writes dir/mozdata.duckdb with the fixtures of fixtureDir as
// mozdata.telemetry.events, .clients_daily and .clients_last_seen, typed as BigQuery's schema
// autodetection types them, and returns the database path.
func Telemetry(dir, fixtureDir string) (string, error) {
	path := filepath.Join(dir, "mozdata.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	file := func(name string) (string, error) { return filepath.Abs(filepath.Join(fixtureDir, name)) }
	tables := []struct{ name, file, columns string }{
		{"events", "test_events.ndjson", `submission_date: 'DATE', client_id: 'VARCHAR', profile_group_id: 'VARCHAR',
			event_category: 'VARCHAR', event_method: 'VARCHAR', event_string_value: 'VARCHAR',
			event_map_values: 'STRUCT(key VARCHAR, value VARCHAR)[]', sample_id: 'BIGINT'`},
		{"clients_daily", "test_clients_daily.ndjson", `submission_date: 'DATE', client_id: 'VARCHAR',
			profile_group_id: 'VARCHAR', active_hours_sum: 'DOUBLE', experiments: 'STRUCT(key VARCHAR, value VARCHAR)[]'`},
		{"clients_last_seen", "test_clients_last_seen.ndjson", `submission_date: 'DATE', client_id: 'VARCHAR',
			profile_group_id: 'VARCHAR', active_hours_sum: 'DOUBLE', experiments: 'STRUCT(key VARCHAR, value VARCHAR)[]',
			is_regular_user_v3: 'BOOLEAN'`},
	}
	if _, err := db.Exec(`CREATE SCHEMA telemetry`); err != nil {
		return "", err
	}
	for _, t := range tables {
		abs, err := file(t.file)
		if err != nil {
			return "", err
		}
		q := fmt.Sprintf(`CREATE TABLE telemetry.%s AS SELECT * FROM read_json('%s', format = 'newline_delimited', columns = {%s})`,
			t.name, abs, t.columns)
		if _, err := db.Exec(q); err != nil {
			return "", fmt.Errorf("%s: %w", t.file, err)
		}
	}
	return path, nil
}
