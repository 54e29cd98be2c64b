package schedule

import (
	"fmt"
	"strings"
)

// Split splits a command line into words the way a POSIX shell splits a simple command,
// without running one: words are separated by blanks (space, tab, newline); '…' quotes
// everything literally; "…" quotes everything except a backslash before $ ` " \ or a
// newline, which escapes it; outside quotes a backslash escapes the next character (and a
// backslash-newline joins lines). Quoted and unquoted parts next to each other make one
// word, and an empty quoted string is an empty word.
//
// Since no shell runs the command, what a shell would expand or interpret is refused
// rather than passed on literally: unquoted operators (| & ; < > ( )), $ and ` (unquoted
// or inside "…"), and a word starting with an unquoted #. An unterminated quote and a
// trailing backslash are errors too. Positions in errors count characters from 1.
func Split(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool // a word has started (it may still be empty: '')
	)
	rs := []rune(s)
	end := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			end()
		case r == '\'':
			start := i
			inWord = true
			for i++; i < len(rs) && rs[i] != '\''; i++ {
				word.WriteRune(rs[i])
			}
			if i == len(rs) {
				return nil, fmt.Errorf("unterminated ' quote starting at character %d", start+1)
			}
		case r == '"':
			start := i
			inWord = true
			closed := false
			for i++; i < len(rs); i++ {
				c := rs[i]
				if c == '"' {
					closed = true
					break
				}
				switch c {
				case '\\':
					if i+1 < len(rs) && strings.ContainsRune("$`\"\\\n", rs[i+1]) {
						i++
						if rs[i] != '\n' {
							word.WriteRune(rs[i])
						}
						continue
					}
					word.WriteRune(c)
				case '$', '`':
					return nil, fmt.Errorf("%c at character %d: a shell would expand it inside \"…\", and no shell runs the command (write \\%c, or quote it with '…')", c, i+1, c)
				default:
					word.WriteRune(c)
				}
			}
			if !closed {
				return nil, fmt.Errorf("unterminated \" quote starting at character %d", start+1)
			}
		case r == '\\':
			if i+1 == len(rs) {
				return nil, fmt.Errorf("trailing backslash at character %d escapes nothing", i+1)
			}
			i++
			if rs[i] == '\n' {
				continue // line continuation
			}
			inWord = true
			word.WriteRune(rs[i])
		case strings.ContainsRune("|&;<>()", r):
			return nil, fmt.Errorf("shell operator %q at character %d: no shell runs the command (quote it to pass it as text)", r, i+1)
		case r == '$' || r == '`':
			return nil, fmt.Errorf("%c at character %d: a shell would expand it, and no shell runs the command (quote it with '…' to pass it as text)", r, i+1)
		case r == '#' && !inWord:
			return nil, fmt.Errorf("# at character %d would start a shell comment, and no shell runs the command (quote it to pass it as text)", i+1)
		default:
			inWord = true
			word.WriteRune(r)
		}
	}
	end()
	return words, nil
}
