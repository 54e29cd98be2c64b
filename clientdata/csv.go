package clientdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// readCSV reads a CSV file with a header line. An empty cell is a null; numbers are parsed
// with strconv.ParseFloat (correctly rounded); true/false are 1/0.
func readCSV(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	header = append([]string(nil), header...)
	b, err := newBuilder(path, header)
	if err != nil {
		return nil, err
	}
	values := map[string]float64{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		clear(values)
		branch := ""
		for i, cell := range rec {
			col := header[i]
			if col == BranchColumn {
				branch = cell
				continue
			}
			v, err := parseCell(cell)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %q: %w", path, line, col, err)
			}
			values[col] = v
		}
		if branch == "" {
			return nil, fmt.Errorf("%s:%d: empty branch", path, line)
		}
		b.addRow(branch, values)
	}
	return b.t, nil
}

func parseCell(s string) (float64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return nanValue, nil
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}
