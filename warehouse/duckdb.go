//go:build cgo

package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

func init() { Register("duckdb", openDuckDB) }

// duckDB is a DuckDB database. A file database shares the process with the pipeline, so
// it gives its memory back between statements (see trim): statements hold mu shared, and
// trimming holds it alone.
type duckDB struct {
	db    *sql.DB
	file  bool   // a database file, not an in-memory database (whose tables trimming would spill)
	limit string // the memory_limit: the URL's, or DuckDB's default as it printed it at opening
	mu    sync.RWMutex
}

// DefaultDuckDBMemoryLimit is the memory limit of a local DuckDB warehouse: "" keeps
// DuckDB's own (80% of the machine's RAM). It bounds DuckDB only while a statement runs:
// between statements the client trims the buffer pool (see trim), so the pipeline does not
// run beside DuckDB's cache of the tables it read (1.0–1.3 GB at 1M clients).
// `duckdb:PATH?memory_limit=SIZE` sets one; queries that need more spill to disk next to
// the database file (temp_directory), or fail. DuckDB 1.4's out-of-core joins and
// aggregates do not degrade smoothly on the metrics query of the 1M benchmark (12 metrics
// and their covariates): 1280MB–2GB run it at full speed (DuckDB at 1.4–2.0 GB RSS), 1GB
// fails ("failed to pin block", every time), 384–768MB run it but spill 7–12 GB to disk and
// take 2–3.5× as long, and 256MB fails. At 5M clients 512MB and 2GB failed on the metrics
// query and 1280MB on the enrollments query (temporary directory capped at 20 GB). No
// small limit works at every size, so the default stays DuckDB's.
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

// duckdbAllocator is DuckDB's allocator setting: jemalloc's background threads return the
// pages DuckDB frees to the system within about a second. Without them, freed pages are
// returned only when DuckDB allocates again, so the memory of the last query — e.g. the
// metrics table's rows, which duckdb-go materialises whole before handing out the first one
// — stays resident while the pipeline computes (0.35 GB of RSS after reading a 1M-client
// metrics table).
const duckdbAllocator = "SET allocator_background_threads = true"

// newDuckDBLimited is newDuckDB with DuckDB's memory_limit set to limit (unless "").
func newDuckDBLimited(path, limit string) (*duckDB, error) {
	setup := append([]string{duckdbAllocator}, duckdbSetup...)
	if limit != "" {
		setup = append([]string{fmt.Sprintf("SET memory_limit = '%s'", limit)}, setup...)
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
	c := &duckDB{db: sql.OpenDB(connector), file: path != "", limit: limit}
	if c.file && limit == "" {
		// Trimming restores the limit with SET: RESET memory_limit only resets the setting's
		// value in DuckDB 1.4 (current_setting shows the default again), not the buffer pool's
		// limit, which stays at trimLimit. So the default is read here, as DuckDB prints it
		// (e.g. "18.8 GiB": the restored limit is within 0.05 GiB of DuckDB's default).
		if err := c.db.QueryRow("SELECT current_setting('memory_limit')").Scan(&c.limit); err != nil {
			c.db.Close()
			return nil, fmt.Errorf("reading DuckDB's memory limit: %w", err)
		}
	}
	return c, nil
}

// trimLimit is the memory limit trim sets for a moment: DuckDB evicts its buffer pool down
// to it.
const trimLimit = "32MB"

// statement runs f, a statement, then trims the buffer pool if no other statement is running.
func (c *duckDB) statement(f func() error) error {
	c.mu.RLock()
	err := f()
	c.mu.RUnlock()
	if terr := c.trim(); terr != nil {
		return errors.Join(err, terr)
	}
	return err
}

// trim drops what DuckDB's buffer pool caches — the blocks of the tables the last
// statements read, up to memory_limit — by lowering the memory limit for a moment, when no
// statement is running. DuckDB keeps that cache until it needs the memory; here the cached
// tables are in the operating system's page cache anyway, and the memory is the
// pipeline's: at 1M clients DuckDB held 1.0–1.3 GB of cached clients_daily blocks (RSS)
// all through the bootstrap, and 0.1–0.3 GB with trimming. Trimming takes ~0.1 s after a
// big query; the next query reads its blocks again from the page cache. Evicting blocks
// that are pinned (in use) is not possible, hence the exclusive lock; an in-memory database
// is not trimmed (its tables would be written to the temporary directory).
func (c *duckDB) trim() error {
	if !c.file || !c.mu.TryLock() {
		return nil // a statement is running: the last one to finish trims
	}
	defer c.mu.Unlock()
	ctx := context.Background()
	// Lowering the limit fails when more than trimLimit is pinned; whatever could be evicted
	// has been, and the limit is restored below either way.
	_, _ = c.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%s'", trimLimit))
	if _, err := c.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%s'", c.limit)); err != nil {
		return fmt.Errorf("duckdb: restoring the memory limit after trimming the buffer pool: %w", err)
	}
	return nil
}

func (c *duckDB) Dialect() Dialect { return DuckDB{} }

func (c *duckDB) Exec(ctx context.Context, q string) error {
	return c.statement(func() error {
		if _, err := c.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("duckdb: %w\nin query:\n%s", err, q)
		}
		return nil
	})
}

func (c *duckDB) Query(ctx context.Context, q string, fn func([]string, []any) error) error {
	return c.statement(func() error { return c.query(ctx, q, fn) })
}

func (c *duckDB) query(ctx context.Context, q string, fn func([]string, []any) error) error {
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
	err := c.statement(func() error {
		return c.db.QueryRowContext(ctx,
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`,
			dataset, table).Scan(&n)
	})
	return n > 0, err
}

func (c *duckDB) ListTables(ctx context.Context, dataset string) ([]string, error) {
	var names []string
	err := c.statement(func() (err error) {
		names, err = c.listTables(ctx, dataset)
		return err
	})
	return names, err
}

func (c *duckDB) listTables(ctx context.Context, dataset string) ([]string, error) {
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
