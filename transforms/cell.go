// Package transforms holds the Beam DoFns, CombineFns and composite transforms of the
// analysis pipeline: reading per-client rows, keying them by cell, accumulating per-branch
// tallies, estimating statistics, comparing branches and writing statistic rows. The
// statistical maths lives in package statistics; this package only moves data.
package transforms

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jetstream-beam/jetstream/warehouse"
)

// Cell is the identity of one analysed population and metric:
// experiment|basis|period|window|segment|metric. Keys are plain strings (the fastest and
// deterministic Beam key coder); "|" never occurs in slugs, metric or segment names.
type Cell struct {
	Experiment string
	Basis      string
	Period     string
	Window     int
	Segment    string
	Metric     string
}

const sep = "|"

// Key renders the cell as a string key.
func (c Cell) Key() string {
	return strings.Join([]string{c.Experiment, c.Basis, c.Period, strconv.Itoa(c.Window), c.Segment, c.Metric}, sep)
}

// BranchKey is the key of one branch's accumulator within a cell.
func (c Cell) BranchKey(branch string) string { return c.Key() + sep + branch }

// ParseCell reads a key written by Key.
func ParseCell(key string) (Cell, error) {
	parts := strings.Split(key, sep)
	if len(parts) != 6 {
		return Cell{}, fmt.Errorf("cell key %q: want 6 fields, got %d", key, len(parts))
	}
	w, err := strconv.Atoi(parts[3])
	if err != nil {
		return Cell{}, fmt.Errorf("cell key %q: window: %w", key, err)
	}
	return Cell{parts[0], parts[1], parts[2], w, parts[4], parts[5]}, nil
}

// ParseBranchKey splits a BranchKey into its cell and branch.
func ParseBranchKey(key string) (Cell, string, error) {
	i := strings.LastIndex(key, sep)
	if i < 0 {
		return Cell{}, "", fmt.Errorf("branch key %q has no branch", key)
	}
	c, err := ParseCell(key[:i])
	return c, key[i+1:], err
}

// StatisticsTable is Jetstream's statistics table of the cell's period and window:
// statistics_<slug>_<period>_<window>.
func (c Cell) StatisticsTable(normalizedSlug string) string {
	return warehouse.StatisticsTable(normalizedSlug, c.Period, c.Window)
}
