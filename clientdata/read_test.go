package clientdata

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// The golden "nulls" case: per-branch row counts and null counts as its spec.json says.
func TestReadGoldenCSV(t *testing.T) {
	dir := "../../shared/golden/statistics/nulls"
	tbl, err := Read(filepath.Join(dir, "input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Input struct {
			Rows    int `json:"rows"`
			Columns map[string]struct {
				Nulls int `json:"nulls"`
			} `json:"columns"`
			BranchCounts map[string]int `json:"branch_counts"`
		} `json:"input"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if len(tbl.Branches) != spec.Input.Rows {
		t.Errorf("rows = %d, want %d", len(tbl.Branches), spec.Input.Rows)
	}
	counts := map[string]int{}
	for _, b := range tbl.Branches {
		counts[b]++
	}
	for b, n := range spec.Input.BranchCounts {
		if counts[b] != n {
			t.Errorf("branch %s: %d rows, want %d", b, counts[b], n)
		}
	}
	for name, col := range spec.Input.Columns {
		values, err := tbl.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		nulls := 0
		for _, v := range values {
			if math.IsNaN(v) {
				nulls++
			}
		}
		if nulls != col.Nulls {
			t.Errorf("column %s: %d nulls, want %d", name, nulls, col.Nulls)
		}
	}
}

func TestReadJSONLAndParquet(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "clients.jsonl")
	if err := os.WriteFile(jsonl, []byte(`{"branch": "control", "active_hours": 1.5, "retained": true}
{"branch": "treatment", "active_hours": null, "retained": false}
{"branch": "treatment", "retained": true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pq := filepath.Join(dir, "clients.parquet")
	writeParquet(t, pq)
	for _, path := range []string{jsonl, pq} {
		tbl, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(tbl.Branches, ",") != "control,treatment,treatment" {
			t.Errorf("%s: branches %v", path, tbl.Branches)
		}
		ah, _ := tbl.Column("active_hours")
		ret, _ := tbl.Column("retained")
		if ah[0] != 1.5 || !math.IsNaN(ah[1]) || !math.IsNaN(ah[2]) || ret[0] != 1 || ret[1] != 0 || ret[2] != 1 {
			t.Errorf("%s: active_hours %v, retained %v", path, ah, ret)
		}
	}
}

func writeParquet(t *testing.T, path string) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "branch", Type: arrow.BinaryTypes.String},
		{Name: "active_hours", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "retained", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"control", "treatment", "treatment"}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{1.5, 0, 0}, []bool{true, false, false})
	b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, f, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct{ path, want string }{
		{write("a.csv", "arm,x\nc,1\n"), `a.csv: no "branch" column`},
		{write("b.csv", "branch,x\nc,1\nc,one\n"), `b.csv:3: column "x": "one" is not a number`},
		{write("c.jsonl", "{\"branch\": \"c\", \"x\": \"1\"}\n"), `c.jsonl:1: key "x": "1" is not a number`},
		{write("d.txt", "x"), "d.txt: unknown format (want .csv, .jsonl, .ndjson or .parquet)"},
	}
	for _, tc := range cases {
		_, err := Read(tc.path)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("Read(%s) error = %v, want suffix %s", filepath.Base(tc.path), err, tc.want)
		}
	}
	tbl, _ := Read(write("e.csv", "branch,x\nc,1\n"))
	if _, err := tbl.Column("y"); err == nil || !strings.HasSuffix(err.Error(), `no column "y" (columns: x)`) {
		t.Errorf("Column(y) error = %v", err)
	}
}
