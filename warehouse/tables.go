package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Disposition says what writing a destination table does when the table exists (BigQuery's
// write dispositions, as Jetstream uses them).
type Disposition int

const (
	// WriteEmpty writes the table only if it does not exist (enrollments: computed once).
	WriteEmpty Disposition = iota
	// WriteTruncate replaces the table (metrics and statistics tables: every run replaces them).
	WriteTruncate
)

// ErrTableExists is WriteTable's answer for a WriteEmpty table that exists: it is kept.
var ErrTableExists = errors.New("table exists")

// TableInfo is what Jetstream attaches to the tables it writes: the experiment's slug as
// description and a last_updated label (unix seconds), which rerun-config-changed and the
// config as-of lookup read back.
type TableInfo struct {
	Description string
	LastUpdated time.Time
}

// WriteTable writes the result of sql to dataset.table with one DDL statement — CREATE TABLE
// AS (WriteEmpty) or CREATE OR REPLACE TABLE AS (WriteTruncate) — so that the table is
// replaced atomically and carries its description and labels from the start (no window in
// which a reader sees it unlabelled). A WriteEmpty table that exists is left alone and
// ErrTableExists returned.
func WriteTable(ctx context.Context, c Client, dataset, table, sql string, disposition Disposition, info TableInfo) error {
	if err := c.EnsureDataset(ctx, dataset); err != nil {
		return err
	}
	if disposition == WriteEmpty {
		exists, err := c.TableExists(ctx, dataset, table)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%s.%s: %w", dataset, table, ErrTableExists)
		}
	}
	if w, ok := c.(shardedWriter); ok && disposition == WriteTruncate {
		written, err := w.writeSharded(ctx, dataset, table, sql)
		if err != nil {
			return fmt.Errorf("writing %s.%s: %w", dataset, table, err)
		}
		if written {
			return nil
		}
	}
	if r, ok := c.(interface{ replacesInPlace() bool }); ok && disposition == WriteTruncate && !r.replacesInPlace() {
		if err := c.DropTable(ctx, dataset, table); err != nil {
			return err
		}
	}
	ddl := CreateTableAs(c.Dialect(), dataset, table, sql, disposition, info)
	if err := c.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("writing %s.%s: %w", dataset, table, err)
	}
	return nil
}

// shardedWriter is a client that writes a metrics query's table in several statements, one
// per shard of the enrolled clients, when the query has many clients (see clientShard);
// written is false when it left the table to the one CREATE TABLE AS statement.
type shardedWriter interface {
	writeSharded(ctx context.Context, dataset, table, sql string) (written bool, err error)
}

// CreateTableAs renders the DDL of WriteTable. BigQuery gets the description and labels as
// table OPTIONS; DuckDB has no labels (local tables are plain).
func CreateTableAs(d Dialect, dataset, table, sql string, disposition Disposition, info TableInfo) string {
	create := "CREATE TABLE"
	if disposition == WriteTruncate {
		create = "CREATE OR REPLACE TABLE"
	}
	options := ""
	if _, ok := d.(BigQuery); ok {
		var opts []string
		if info.Description != "" {
			opts = append(opts, "description = "+bigQueryString(info.Description))
		}
		if !info.LastUpdated.IsZero() {
			opts = append(opts, fmt.Sprintf(`labels = [("last_updated", "%d")]`, info.LastUpdated.Unix()))
		}
		if len(opts) > 0 {
			options = "\nOPTIONS (" + strings.Join(opts, ", ") + ")"
		}
	}
	return fmt.Sprintf("%s %s%s AS\n%s", create, d.Table(dataset, table), options, sql)
}

// bigQueryString renders a BigQuery string literal in double quotes.
func bigQueryString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
