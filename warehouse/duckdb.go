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
	// metricsLimit, when set, is the memory_limit of the metrics queries (see
	// MetricsMemoryLimit); the URL's memory_limit, when given, applies to every statement.
	metricsLimit string
	mu           sync.RWMutex
}

// DefaultDuckDBMemoryLimit is the memory limit of a local DuckDB warehouse opened from a URL
// without ?memory_limit. It bounds DuckDB only while a statement runs: between statements
// the client trims the buffer pool (see trim). Without a limit DuckDB keeps up to 80% of
// the machine's RAM of cached table blocks while a query runs (10.8 GB of RSS for the 5M
// clients benchmark's metrics query). 2GB fits the benchmark's enrollments query at 5M
// clients (2.1 GB of RSS, 42 s; 1536MB fails it) and its metrics query for up to about 1.7M
// clients in one statement (1280MB and up run it at 1M at full speed; 1GB fails, "failed
// to pin block"; 768MB and below spill 7–12 GB and take 2–3× as long); bigger metrics
// queries are written in shards of clients (see writeSharded).
// `duckdb:PATH?memory_limit=SIZE` sets another; queries that need more spill to disk next
// to the database file (temp_directory), or fail.
const DefaultDuckDBMemoryLimit = "2GB"

// MetricsMemoryLimit is the memory limit of the metrics queries of a local DuckDB warehouse
// opened without ?memory_limit. DuckDB fills its buffer pool up to the limit with cached
// table blocks while a query runs, so the limit is what the query costs in RSS: the
// metrics queries run beside the pipeline, and 1536MB keeps a 1M-client analysis under
// 2 GB (with 2GB it peaked at 2.1–2.2 GB). Their shards of up to shardClients clients fit
// it; the enrollments query, written before the pipeline starts and not sharded, keeps
// DefaultDuckDBMemoryLimit (it fails within 1536MB at 5M clients).
const MetricsMemoryLimit = "1536MB"

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
	c, err := newDuckDBLimited(path, limit)
	if err == nil && options == "" {
		c.metricsLimit = MetricsMemoryLimit
	}
	return c, err
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

// shardClients is the most enrolled clients whose metrics a DuckDB warehouse computes in one
// statement. The metrics query's hash joins and aggregates grow with the clients (about
// 1.2 GB at 1M clients for the benchmark's 22 metric columns over two windows): at 5M
// clients it failed within 2GB, and without a limit DuckDB peaked at 10.8 GB. In shards
// of up to 1M clients it runs within MetricsMemoryLimit (5M clients: 5 shards, 1.7 GB of
// RSS). Each shard scans the data source again (about 13 s a window at 5M clients), so
// shards are not smaller than needed.
var shardClients int64 = 1_000_000

// minShardClients is the smallest shard writeSharded retries with after running out of memory.
const minShardClients = 100_000

// shardCondition is the condition MetricsQuery.SQL leaves in the enrollments CTE for
// writeSharded (clientShard), with the enrollments table.
var shardCondition = regexp.MustCompile(regexp.QuoteMeta(shardMarker) + `(.+?) \*/ TRUE`)

// writeSharded writes the metrics table of a query with more than shardClients enrolled
// clients as one CREATE TABLE AS and INSERTs in one transaction, each restricted to the
// clients whose analysis_id hashes to its shard, so that the hash tables of each
// statement hold 1/shards of the clients. The table has the same rows (a client's row
// depends only on that client); each statement's rows are in ORDER BY order, the table's
// are not. A shard that runs out of memory rolls the transaction back, and the table is
// written again in twice as many shards. With a MetricsMemoryLimit, a query of fewer
// clients is written here too, in one statement, within that limit. Queries without the
// condition, and small ones without a metrics limit, are left to WriteTable's one
// statement (written false).
func (c *duckDB) writeSharded(ctx context.Context, dataset, table, q string) (bool, error) {
	m := shardCondition.FindStringSubmatch(q)
	if m == nil {
		return false, nil
	}
	var clients int64
	err := c.statement(func() error { return c.db.QueryRowContext(ctx, "SELECT count(*) FROM "+m[1]).Scan(&clients) })
	if err != nil {
		return false, fmt.Errorf("duckdb: counting the enrolled clients in %s to shard the query: %w", m[1], err)
	}
	shards := max(1, (clients+shardClients-1)/shardClients)
	if shards == 1 && c.metricsLimit == "" {
		return false, nil // one statement, within the warehouse's limit: WriteTable's
	}
	for {
		err := c.statement(func() error { return c.writeShards(ctx, dataset, table, q, m[0], shards) })
		var derr *duckdb.Error
		if err == nil || !errors.As(err, &derr) || derr.Type != duckdb.ErrorTypeOutOfMemory || clients/(shards*2) < minShardClients {
			return err == nil, err
		}
		shards *= 2
	}
}

// writeShards runs the statements of writeSharded in one transaction on one connection.
func (c *duckDB) writeShards(ctx context.Context, dataset, table, q, condition string, shards int64) (err error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.metricsLimit != "" {
		// The setting is the database's: concurrent statements (reads of metrics tables,
		// which need little of it) run within it too until it is restored.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%s'", c.metricsLimit)); err != nil {
			return fmt.Errorf("duckdb: setting the metrics queries' memory limit: %w", err)
		}
		defer func() {
			if _, rerr := conn.ExecContext(context.Background(), fmt.Sprintf("SET memory_limit = '%s'", c.limit)); rerr != nil {
				err = errors.Join(err, fmt.Errorf("duckdb: restoring the memory limit: %w", rerr))
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	defer func() {
		if err != nil {
			if _, rerr := conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("duckdb: rolling back: %w", rerr))
			}
		}
	}()
	for k := range shards {
		shard := q // one shard: every client (the condition is TRUE)
		if shards > 1 {
			shard = strings.ReplaceAll(q, condition, fmt.Sprintf("hash(e.analysis_id) %% %d = %d", shards, k))
		}
		stmt := "INSERT INTO " + DuckDB{}.Table(dataset, table) + "\n" + shard
		if k == 0 {
			stmt = CreateTableAs(DuckDB{}, dataset, table, shard, WriteTruncate, TableInfo{})
		}
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("duckdb: shard %d of %d: %w\nin query:\n%s", k+1, shards, err, stmt)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("duckdb: committing the shards: %w", err)
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
