package clientdata

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// readParquet reads a Parquet file: a string "branch" column and numeric or boolean metric
// columns (nulls allowed).
func readParquet(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer tbl.Release()
	var names []string
	for _, field := range tbl.Schema().Fields() {
		names = append(names, field.Name)
	}
	b, err := newBuilder(path, names)
	if err != nil {
		return nil, err
	}
	n := int(tbl.NumRows())
	b.t.Branches = make([]string, 0, n)
	for i, field := range tbl.Schema().Fields() {
		col := tbl.Column(i)
		if field.Name == BranchColumn {
			for _, chunk := range col.Data().Chunks() {
				s, ok := chunk.(interface {
					Value(int) string
					IsNull(int) bool
				})
				if !ok {
					return nil, fmt.Errorf("%s: column branch has type %s, want a string", path, field.Type)
				}
				for j := 0; j < chunk.Len(); j++ {
					if s.IsNull(j) {
						return nil, fmt.Errorf("%s: row %d: null branch", path, len(b.t.Branches)+1)
					}
					b.t.Branches = append(b.t.Branches, s.Value(j))
				}
			}
			continue
		}
		values := make([]float64, 0, n)
		for _, chunk := range col.Data().Chunks() {
			var err error
			if values, err = appendNumbers(values, chunk); err != nil {
				return nil, fmt.Errorf("%s: column %q: %w", path, field.Name, err)
			}
		}
		b.t.Columns[field.Name] = values
	}
	return b.t, nil
}

func appendNumbers(out []float64, a arrow.Array) ([]float64, error) {
	for j := 0; j < a.Len(); j++ {
		if a.IsNull(j) {
			out = append(out, nanValue)
			continue
		}
		switch c := a.(type) {
		case *array.Float64:
			out = append(out, c.Value(j))
		case *array.Float32:
			out = append(out, float64(c.Value(j)))
		case *array.Int64:
			out = append(out, float64(c.Value(j)))
		case *array.Int32:
			out = append(out, float64(c.Value(j)))
		case *array.Int16:
			out = append(out, float64(c.Value(j)))
		case *array.Int8:
			out = append(out, float64(c.Value(j)))
		case *array.Boolean:
			if c.Value(j) {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		default:
			return nil, fmt.Errorf("type %s is not numeric", a.DataType())
		}
	}
	return out, nil
}
