// Package clientdata reads per-client tables — one row per client, a `branch` column and
// numeric metric columns — from CSV, newline-delimited JSON or Parquet files. It is how a data
// scientist feeds `jetstream statistics` to check a number by hand.
package clientdata

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// BranchColumn is the column that names each client's branch.
const BranchColumn = "branch"

// Table is a per-client table. Null cells are NaN.
type Table struct {
	File     string
	Branches []string             // one per row
	Columns  map[string][]float64 // metric columns, one value per row
}

// Column returns a metric column, or an error naming the file and the columns it has.
func (t *Table) Column(name string) ([]float64, error) {
	c, ok := t.Columns[name]
	if !ok {
		var names []string
		for n := range t.Columns {
			names = append(names, n)
		}
		return nil, fmt.Errorf("%s: no column %q (columns: %s)", t.File, name, strings.Join(slices.Sorted(slices.Values(names)), ", "))
	}
	return c, nil
}

// Read reads a table, choosing the format by the file extension: .csv, .jsonl/.ndjson or
// .parquet.
func Read(path string) (*Table, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return readCSV(path)
	case ".jsonl", ".ndjson":
		return readJSONL(path)
	case ".parquet":
		return readParquet(path)
	}
	return nil, fmt.Errorf("%s: unknown format (want .csv, .jsonl, .ndjson or .parquet)", path)
}

// builder accumulates rows column by column, checking the branch column.
type builder struct {
	t     *Table
	order []string
}

func newBuilder(file string, columns []string) (*builder, error) {
	b := &builder{t: &Table{File: file, Columns: map[string][]float64{}}}
	hasBranch := false
	for _, c := range columns {
		if c == BranchColumn {
			hasBranch = true
			continue
		}
		if _, dup := b.t.Columns[c]; dup {
			return nil, fmt.Errorf("%s: column %q appears twice", file, c)
		}
		b.t.Columns[c] = nil
		b.order = append(b.order, c)
	}
	if !hasBranch {
		return nil, fmt.Errorf("%s: no %q column", file, BranchColumn)
	}
	return b, nil
}

func (b *builder) addRow(branch string, values map[string]float64) {
	b.t.Branches = append(b.t.Branches, branch)
	for _, c := range b.order {
		v, ok := values[c]
		if !ok {
			v = math.NaN()
		}
		b.t.Columns[c] = append(b.t.Columns[c], v)
	}
}
