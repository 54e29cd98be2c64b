//go:build cgo

package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

func init() { Register("duckdb", openDuckDB) }

type duckDB struct{ db *sql.DB }

// DefaultDuckDBMemoryLimit is the memory limit of a local DuckDB warehouse: "" keeps
// DuckDB's own (80% of the machine's RAM), which DuckDB then keeps as a page cache for the
// whole run (1.1 GB after the enrollments query at 1M clients, beside the pipeline).
// `duckdb:PATH?memory_limit=2GB` sets one; queries that need more spill to disk next to
// the database file, or fail: at 1M clients the benchmark's metrics query failed with
// 1GB ("failed to pin block") and ran with 2GB.
const DefaultDuckDBMemoryLimit = ""

// openDuckDB opens location, a database file with an optional ?memory_limit=SIZE.
func openDuckDB(location string) (Client, error) {
	path, options, _ := strings.Cut(location, "?")
	limit := DefaultDuckDBMemoryLimit
	if options != "" {
		values, err := url.ParseQuery(options)
		if err != nil {
			return nil, fmt.Errorf("options %q: %w", options, err)
		}
		for k, v := range values {
			if k != "memory_limit" || len(v) != 1 || !memoryLimit.MatchString(v[0]) {
				return nil, fmt.Errorf("option %s=%s: want memory_limit=SIZE, e.g. memory_limit=4GB", k, strings.Join(v, ","))
			}
			limit = v[0]
		}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database file: %w (generate the sample with `jetstream sample-data`)", err)
	}
	return newDuckDBLimited(path, limit)
}

// memoryLimit is a DuckDB memory size: a number and a unit.
var memoryLimit = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// newDuckDB opens a DuckDB database ("" for a private in-memory one) whose connections
// all have the BigQuery compatibility macros.
func newDuckDB(path string) (*duckDB, error) { return newDuckDBLimited(path, "") }

// newDuckDBLimited is newDuckDB with DuckDB's memory_limit set to limit (unless "").
func newDuckDBLimited(path, limit string) (*duckDB, error) {
	setup := duckdbSetup
	if limit != "" {
		setup = append([]string{fmt.Sprintf("SET memory_limit = '%s'", limit)}, duckdbSetup...)
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		for _, m := range setup {
			if _, err := execer.ExecContext(context.Background(), m, nil); err != nil {
				return fmt.Errorf("setting up the connection: %q: %w", m, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &duckDB{db: sql.OpenDB(connector)}, nil
}

func (c *duckDB) Dialect() Dialect { return DuckDB{} }

func (c *duckDB) Exec(ctx context.Context, q string) error {
	if _, err := c.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("duckdb: %w\nin query:\n%s", err, q)
	}
	return nil
}

func (c *duckDB) Query(ctx context.Context, q string, fn func([]string, []any) error) error {
	rows, err := c.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("duckdb: %w\nin query:\n%s", err, q)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("duckdb: reading a row: %w", err)
		}
		if err := fn(cols, values); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (c *duckDB) TableExists(ctx context.Context, dataset, table string) (bool, error) {
	var n int
	err := c.db.QueryRowContext(ctx,
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
		dataset, table).Scan(&n)
	return n > 0, err
}

func (c *duckDB) ListTables(ctx context.Context, dataset string) ([]string, error) {
	rows, err := c.db.QueryContext(ctx,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`, dataset)
	if err != nil {
		return nil, fmt.Errorf("duckdb: tables of %s: %w", dataset, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// DropTable deletes dataset.table; a missing table is not an error.
func (c *duckDB) DropTable(ctx context.Context, dataset, table string) error {
	return c.Exec(ctx, "DROP TABLE IF EXISTS "+DuckDB{}.Table(dataset, table))
}

// EnsureDataset creates the schema unless it exists.
func (c *duckDB) EnsureDataset(ctx context.Context, dataset string) error {
	return c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(dataset))
}
