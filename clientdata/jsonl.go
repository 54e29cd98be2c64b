package clientdata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
)

var nanValue = math.NaN()

// readJSONL reads one JSON object per line: "branch" a string, metric values numbers,
// booleans or null (missing keys are null too).
func readJSONL(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []map[string]json.RawMessage
	columns := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		for k := range row {
			columns[k] = true
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	for c := range columns {
		names = append(names, c)
	}
	sort.Strings(names)
	b, err := newBuilder(path, names)
	if err != nil {
		return nil, err
	}
	values := map[string]float64{}
	for i, row := range rows {
		clear(values)
		var branch string
		if err := json.Unmarshal(row[BranchColumn], &branch); err != nil || branch == "" {
			return nil, fmt.Errorf("%s:%d: branch must be a non-empty string", path, i+1)
		}
		for k, raw := range row {
			if k == BranchColumn {
				continue
			}
			v, err := jsonNumber(raw)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: key %q: %w", path, i+1, k, err)
			}
			values[k] = v
		}
		b.addRow(branch, values)
	}
	return b.t, nil
}

func jsonNumber(raw json.RawMessage) (float64, error) {
	switch s := string(bytes.TrimSpace(raw)); s {
	case "null":
		return nanValue, nil
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a number", s)
		}
		return v, nil
	}
}
