package warehouse

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Client runs SQL in a warehouse.
type Client interface {
	Dialect() Dialect
	// Exec runs a statement that returns no rows.
	Exec(ctx context.Context, sql string) error
	// Query streams the rows of a query to fn; values are nil (NULL), bool, int64, float64,
	// string or time.Time. Columns are the result's column names.
	Query(ctx context.Context, sql string, fn func(columns []string, values []any) error) error
	// TableExists reports whether dataset.table exists.
	TableExists(ctx context.Context, dataset, table string) (bool, error)
	// EnsureDataset creates the dataset (schema) unless it exists.
	EnsureDataset(ctx context.Context, dataset string) error
	// DropTable deletes dataset.table; a missing table is not an error.
	DropTable(ctx context.Context, dataset, table string) error
	// ListTables names the tables and views of dataset, sorted; a missing dataset has none.
	ListTables(ctx context.Context, dataset string) ([]string, error)
}

// Opener opens a client for a location (the part of a warehouse URL after "scheme:").
type Opener func(location string) (Client, error)

var (
	mu      sync.Mutex
	openers = map[string]Opener{}
	clients = map[string]Client{}
)

// Register makes a warehouse scheme available (e.g. "duckdb" from the cgo-only duckdb.go).
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[scheme] = open
}

// DialectOf returns the SQL dialect of a warehouse URL without connecting.
func DialectOf(url string) (Dialect, error) {
	scheme, location, ok := strings.Cut(url, ":")
	switch {
	case !ok:
		return nil, fmt.Errorf("warehouse %q: want scheme:location, e.g. duckdb:sample/mozdata.duckdb", url)
	case scheme == "duckdb":
		return DuckDB{}, nil
	case scheme == "bigquery":
		project, _, _ := strings.Cut(location, "?")
		return BigQuery{Project: project}, nil
	}
	return nil, fmt.Errorf("warehouse %q: unknown warehouse kind %q", url, scheme)
}

// Open returns the process-wide client for a warehouse URL such as "duckdb:sample/mozdata.duckdb".
// Clients are shared per URL: DuckDB allows one open instance of a database file per process,
// and pipeline workers in one process share it.
func Open(url string) (Client, error) {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := clients[url]; ok {
		return c, nil
	}
	scheme, location, ok := strings.Cut(url, ":")
	if !ok {
		return nil, fmt.Errorf("warehouse %q: want scheme:location, e.g. duckdb:sample/mozdata.duckdb", url)
	}
	open, ok := openers[scheme]
	if !ok {
		if scheme == "duckdb" {
			return nil, fmt.Errorf("warehouse %q: this binary was built without cgo, so it has no DuckDB; build with CGO_ENABLED=1", url)
		}
		return nil, fmt.Errorf("warehouse %q: unknown warehouse kind %q", url, scheme)
	}
	c, err := open(location)
	if err != nil {
		return nil, fmt.Errorf("warehouse %q: %w", url, err)
	}
	clients[url] = c
	return c, nil
}
