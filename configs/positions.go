package configs

import (
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps dotted key paths ("metrics.active_hours.data_source") to the 1-based line
// where the key or table header is written, so that errors found after decoding can still
// point at the file position.
type positions map[string]int

func indexPositions(data []byte) positions {
	pos := positions{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		keys, line := keyPath(&p, e)
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keys
			record(pos, keys, line)
		case unstable.KeyValue:
			record(pos, append(append([]string{}, table...), keys...), line)
		}
	}
	return pos
}

func record(pos positions, keys []string, line int) {
	// Every prefix gets the first line where it appears, so a missing child can still be
	// located at its parent table.
	for i := 1; i <= len(keys); i++ {
		k := strings.Join(keys[:i], ".")
		if _, ok := pos[k]; !ok {
			pos[k] = line
		}
	}
}

func keyPath(p *unstable.Parser, e *unstable.Node) (keys []string, line int) {
	it := e.Key()
	for it.Next() {
		n := it.Node()
		keys = append(keys, string(n.Data))
		if line == 0 {
			line = lineOf(p, n.Data)
		}
	}
	return keys, line
}

// lineOf finds the line of a slice of the parser's input; 0 when the slice is not part of
// the input (the parser copies keys that contain escapes).
func lineOf(p *unstable.Parser, b []byte) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	if len(b) == 0 {
		return 0
	}
	return p.Shape(p.Range(b)).Start.Line
}

// line returns the line of key, or of its nearest recorded parent.
func (pos positions) line(key string) int {
	for key != "" {
		if l, ok := pos[key]; ok {
			return l
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
