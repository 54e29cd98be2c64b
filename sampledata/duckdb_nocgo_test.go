//go:build !cgo

package sampledata

import (
	"os"
	"testing"
)

func TestWriteDuckDBNeedsCgo(t *testing.T) {
	dir := t.TempDir()
	_, err := WriteDuckDB(dir, Options{Clients: 10, Design: sampleDesign()})
	if err == nil || err.Error() != "sample-data needs a cgo build (DuckDB); build with CGO_ENABLED=1" {
		t.Errorf("error = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d files", len(entries))
	}
}
