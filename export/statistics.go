package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// Window is one statistics table of a period: its window index and rows.
type Window struct {
	Index int
	Rows  []statistics.Row
}

// TableFile is the file name of a statistics table in a local dataset folder.
func TableFile(table string) string { return table + ".ndjson" }

// ReadPeriod reads every window table statistics_<slug>_<period>_<n> in dir, in window
// order: the local equivalent of Jetstream's statistics_<slug>_<suffix> view.
func ReadPeriod(dir, tableSlug, period string) ([]Window, error) {
	pattern := regexp.MustCompile("^statistics_" + regexp.QuoteMeta(tableSlug) + "_" + regexp.QuoteMeta(period) + `_([0-9]+)\.ndjson$`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var windows []Window
	for _, e := range entries {
		m := pattern.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		idx, _ := strconv.Atoi(m[1])
		rows, err := ReadTable(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		windows = append(windows, Window{Index: idx, Rows: rows})
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i].Index < windows[j].Index })
	return windows, nil
}

// StatisticsJSON renders the rows of all windows as the JSON array Jetstream exports to
// statistics_<slug>_<suffix>.json: one object per row, window_index as a string.
func StatisticsJSON(windows []Window) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	n := 0
	for _, w := range windows {
		for _, r := range w.Rows {
			if n > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  ")
			b.Write(MarshalRow(r, w.Index))
			n++
		}
	}
	if n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// ParseStatisticsJSON reads a document written by StatisticsJSON (or by Jetstream) back
// into windows, in order of first appearance.
func ParseStatisticsJSON(data []byte) ([]Window, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("statistics JSON: %w", err)
	}
	index := map[int]int{}
	var windows []Window
	for i, item := range items {
		r, w, err := UnmarshalRow(item)
		if err != nil {
			return nil, fmt.Errorf("statistics JSON row %d: %w", i+1, err)
		}
		k, ok := index[w]
		if !ok {
			k = len(windows)
			index[w] = k
			windows = append(windows, Window{Index: w})
		}
		windows[k].Rows = append(windows[k].Rows, r)
	}
	return windows, nil
}

// StatisticsFile is the exported file name for a period suffix (daily, weekly, …).
func StatisticsFile(tableSlug, suffix string) string {
	return fmt.Sprintf("statistics_%s_%s.json", tableSlug, suffix)
}
