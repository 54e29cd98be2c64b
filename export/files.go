package export

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jetstream-beam/jetstream/statistics"
)

// WriteFileAtomic writes data to path through a temporary file in the same folder and a
// rename, so readers never see a half-written file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// EncodeTable renders rows as newline-delimited JSON table rows (no window_index).
func EncodeTable(rows []statistics.Row) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		b.Write(MarshalRow(r, 0))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ReadTable reads a newline-delimited JSON statistics table.
func ReadTable(path string) ([]statistics.Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows, err := DecodeTable(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	return rows, nil
}

// DecodeTable reads newline-delimited JSON statistics table rows; an error names the line
// ("3: …").
func DecodeTable(data []byte) ([]statistics.Row, error) {
	var rows []statistics.Row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		r, _, err := UnmarshalRow(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%d: %w", line, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}
