package warehouse

import (
	"context"
	"fmt"
)

// DryRun checks that the warehouse accepts sql without running it or writing anything.
// BigQuery's dry run also tells how many bytes the query would process; other warehouses
// (DuckDB's EXPLAIN plans the query) report -1.
func DryRun(ctx context.Context, c Client, sql string) (bytes int64, err error) {
	if dr, ok := c.(interface {
		DryRun(ctx context.Context, sql string) (int64, error)
	}); ok {
		return dr.DryRun(ctx, sql)
	}
	err = c.Query(ctx, "EXPLAIN "+sql, func([]string, []any) error { return nil })
	if err != nil {
		return -1, fmt.Errorf("dry run: %w", err)
	}
	return -1, nil
}
