package warehouse

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small lexer for BigQuery Standard SQL: just enough to rewrite user SQL for DuckDB
// without touching the inside of string literals and comments.

type tokKind uint8

const (
	tSpace   tokKind = iota
	tComment         // -- … , # … or /* … */ (val: the text without the markers)
	tString          // '…', "…", '''…''', """…""", r'…' (val: the decoded value)
	tBytes           // b'…' (val: the decoded value)
	tIdent           // identifier or keyword
	tQuoted          // `…` (val: the text between the backticks)
	tNumber
	tOp // punctuation and operators
)

type token struct {
	kind tokKind
	text string // as written
	val  string
}

// is reports whether t is the identifier or keyword word (case-insensitive).
func (t token) is(word string) bool { return t.kind == tIdent && strings.EqualFold(t.text, word) }

func (t token) op(s string) bool { return t.kind == tOp && t.text == s }

// lexBigQuery splits BigQuery SQL into tokens; the concatenation of their texts is the input.
func lexBigQuery(sql string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			for i < len(sql) && strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0 {
				i++
			}
			toks = append(toks, token{kind: tSpace, text: sql[start:i]})
		case c == '#' || (c == '-' && strings.HasPrefix(sql[i:], "--")):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = len(sql) - i
			}
			skip := 1
			if c == '-' {
				skip = 2
			}
			toks = append(toks, token{kind: tComment, text: sql[i : i+end], val: sql[i+skip : i+end]})
			i += end
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment")
			}
			toks = append(toks, token{kind: tComment, text: sql[i : i+2+end+2], val: sql[i+2 : i+2+end]})
			i += 2 + end + 2
		case c == '`':
			end := strings.IndexByte(sql[i+1:], '`')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted identifier")
			}
			toks = append(toks, token{kind: tQuoted, text: sql[i : i+1+end+1], val: sql[i+1 : i+1+end]})
			i += 1 + end + 1
		case c == '\'' || c == '"' || isStringPrefix(sql[i:]):
			t, n, err := lexString(sql[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
		case isIdentStart(c):
			for i < len(sql) && isIdentPart(sql[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: sql[start:i]})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9' && !afterPathPart(toks):
			i = lexNumber(sql, i)
			toks = append(toks, token{kind: tNumber, text: sql[start:i]})
		default:
			n := 1
			for _, op := range []string{"!=", "<>", "<=", ">=", "||", "<<", ">>", "=>", "->", "::"} {
				if strings.HasPrefix(sql[i:], op) {
					n = 2
					break
				}
			}
			if c >= utf8.RuneSelf {
				_, n = utf8.DecodeRuneInString(sql[i:])
			}
			toks = append(toks, token{kind: tOp, text: sql[i : i+n]})
			i += n
		}
	}
	return toks, nil
}

// afterPathPart tells whether a "." now continues a path (a.b, f(x).y) rather than
// starting a number.
func afterPathPart(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == tIdent || t.kind == tQuoted || t.op(")") || t.op("]")
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func lexNumber(sql string, i int) int {
	if strings.HasPrefix(sql[i:], "0x") || strings.HasPrefix(sql[i:], "0X") {
		i += 2
		for i < len(sql) && strings.IndexByte("0123456789abcdefABCDEF", sql[i]) >= 0 {
			i++
		}
		return i
	}
	for i < len(sql) && (sql[i] >= '0' && sql[i] <= '9' || sql[i] == '.') {
		i++
	}
	if i < len(sql) && (sql[i] == 'e' || sql[i] == 'E') {
		j := i + 1
		if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
			j++
		}
		if j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			i = j
			for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
				i++
			}
		}
	}
	return i
}

// isStringPrefix reports whether s starts with a prefixed string literal: r'…', b"…", rb'…'.
func isStringPrefix(s string) bool {
	n := 0
	for n < len(s) && n < 2 && strings.IndexByte("rRbB", s[n]) >= 0 {
		n++
	}
	if n == 0 || n >= len(s) || (s[n] != '\'' && s[n] != '"') {
		return false
	}
	return n == 1 || !strings.EqualFold(s[:1], s[1:2]) // rb or br, not rr or bb
}

// lexString reads one string or bytes literal at the start of s.
func lexString(s string) (token, int, error) {
	raw, bytes := false, false
	i := 0
	for s[i] != '\'' && s[i] != '"' {
		switch s[i] {
		case 'r', 'R':
			raw = true
		case 'b', 'B':
			bytes = true
		}
		i++
	}
	q := s[i : i+1]
	if strings.HasPrefix(s[i:], q+q+q) {
		q = q + q + q
	}
	i += len(q)
	var val strings.Builder
	for {
		if i >= len(s) {
			return token{}, 0, fmt.Errorf("unterminated string literal")
		}
		if strings.HasPrefix(s[i:], q) {
			i += len(q)
			break
		}
		c := s[i]
		if c == '\n' && len(q) == 1 {
			return token{}, 0, fmt.Errorf("unterminated string literal")
		}
		if c != '\\' {
			val.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return token{}, 0, fmt.Errorf("unterminated string literal")
		}
		if raw {
			// a raw string keeps the backslash, and an escaped quote does not end it
			val.WriteString(s[i : i+2])
			i += 2
			continue
		}
		n, err := unescape(s[i:], &val)
		if err != nil {
			return token{}, 0, err
		}
		i += n
	}
	kind := tString
	if bytes {
		kind = tBytes
	}
	return token{kind: kind, text: s[:i], val: val.String()}, i, nil
}

// unescape decodes one BigQuery escape sequence at the start of s (which starts with a
// backslash) into b and returns its length.
func unescape(s string, b *strings.Builder) (int, error) {
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
		'\\': "\\", '?': "?", '"': "\"", '\'': "'", '`': "`"}
	if v, ok := simple[s[1]]; ok {
		b.WriteString(v)
		return 2, nil
	}
	digits := func(n, base int) (int, error) {
		if len(s) < 2+n {
			return 0, fmt.Errorf("invalid escape sequence %q", s[:min(len(s), 2+n)])
		}
		v, err := strconv.ParseUint(s[2:2+n], base, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid escape sequence %q", s[:2+n])
		}
		if v > utf8.MaxRune {
			return 0, fmt.Errorf("invalid escape sequence %q", s[:2+n])
		}
		b.WriteRune(rune(v))
		return 2 + n, nil
	}
	switch s[1] {
	case 'x', 'X':
		return digits(2, 16)
	case 'u':
		return digits(4, 16)
	case 'U':
		return digits(8, 16)
	case '0', '1', '2', '3':
		if len(s) < 4 {
			return 0, fmt.Errorf("invalid escape sequence %q", s)
		}
		v, err := strconv.ParseUint(s[1:4], 8, 8)
		if err != nil {
			return 0, fmt.Errorf("invalid escape sequence %q", s[:4])
		}
		b.WriteRune(rune(v))
		return 4, nil
	}
	return 0, fmt.Errorf("invalid escape sequence %q", s[:2])
}
