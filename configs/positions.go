package configs

import (
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps dotted key paths ("metrics.active_hours.data_source") to the 1-based line
// and column where the key or table header is written, so that errors found after decoding
// can still point at the file position.
type positions map[string]position

type position struct{ line, col int }

func indexPositions(data []byte) positions {
	pos := positions{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		keys, at := keyPath(&p, e)
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keys
			record(pos, keys, at)
		case unstable.KeyValue:
			record(pos, append(append([]string{}, table...), keys...), at)
		}
	}
	return pos
}

func record(pos positions, keys []string, at position) {
	// Every prefix gets the first line where it appears, so a missing child can still be
	// located at its parent table.
	for i := 1; i <= len(keys); i++ {
		k := strings.Join(keys[:i], ".")
		if _, ok := pos[k]; !ok {
			pos[k] = at
		}
	}
}

func keyPath(p *unstable.Parser, e *unstable.Node) (keys []string, at position) {
	it := e.Key()
	for it.Next() {
		n := it.Node()
		keys = append(keys, string(n.Data))
		if at.line == 0 {
			at = positionOf(p, n.Data)
		}
	}
	return keys, at
}

// positionOf finds the line and column of a slice of the parser's input; zero when the
// slice is not part of the input (the parser copies keys that contain escapes).
func positionOf(p *unstable.Parser, b []byte) (at position) {
	defer func() {
		if recover() != nil {
			at = position{}
		}
	}()
	if len(b) == 0 {
		return position{}
	}
	start := p.Shape(p.Range(b)).Start
	return position{start.Line, start.Column}
}

// line returns the line of key, or of its nearest recorded parent.
func (pos positions) line(key string) int { return pos.at(key).line }

// at returns the position of key, or of its nearest recorded parent.
func (pos positions) at(key string) position {
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
	return position{}
}
