//go:build !cgo

package sampledata

import (
	"context"
	"errors"
)

// errNoCgo is returned by WriteDuckDB in builds without cgo.
var errNoCgo = errors.New("sample-data needs a cgo build (DuckDB); build with CGO_ENABLED=1")

// WriteDuckDB needs DuckDB, which needs cgo; this build has none, so it always fails.
func WriteDuckDB(dir string, opts Options) (Truth, error) { return Truth{}, errNoCgo }

// WriteDuckDBContext needs DuckDB, which needs cgo; this build has none, so it always fails.
func WriteDuckDBContext(ctx context.Context, dir string, opts Options) (Truth, error) {
	return Truth{}, errNoCgo
}
