package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// Functions maps a helper name to its definition, a Python format string with one
// {select_expr} (metric-hub's [functions.NAME] definition).
type Functions map[string]string

// DefaultFunctions returns metric-hub's helper functions (definitions/functions.toml with
// jetstream/definitions/functions.toml merged over it).
func DefaultFunctions() Functions {
	return MetricHub().Functions
}

// The configuration files use a tiny part of Jinja (configs.md §3): {{ f("literal") }} calls
// of the helper functions and {{ a.b }} look-ups, nothing else. render implements exactly
// that, with Jinja's StrictUndefined behaviour (an unknown name is an error), its newline
// normalisation and its removal of one trailing newline.

// templateVars are the variables a template may reference: a value is a string, an int or a
// map[string]any of attributes (a value of which may be a func() (string, error)).
type templateVars map[string]any

func render(tmpl string, fns Functions, vars templateVars) (string, error) {
	var b strings.Builder
	rest := strings.ReplaceAll(tmpl, "\r\n", "\n")
	for {
		i := strings.Index(rest, "{")
		for i >= 0 && i+1 < len(rest) && rest[i+1] != '{' && rest[i+1] != '%' && rest[i+1] != '#' {
			j := strings.Index(rest[i+1:], "{")
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 || i+1 >= len(rest) {
			b.WriteString(rest)
			break
		}
		if rest[i+1] != '{' {
			return "", fmt.Errorf("unsupported template syntax %q (only {{ function(\"…\") }} and {{ name.attribute }} are supported)", rest[i:min(len(rest), i+2)])
		}
		b.WriteString(rest[:i])
		val, n, err := evalExpression(rest[i+2:], fns, vars)
		if err != nil {
			return "", err
		}
		b.WriteString(val)
		rest = rest[i+2+n:]
	}
	out := b.String()
	out = strings.TrimSuffix(out, "\n")
	return out, nil
}

// evalExpression evaluates the expression at the start of s (just after "{{") and returns
// its value and the number of bytes consumed, including the closing "}}".
func evalExpression(s string, fns Functions, vars templateVars) (string, int, error) {
	p := &exprParser{s: s}
	p.space()
	name := p.ident()
	if name == "" {
		return "", 0, fmt.Errorf("unsupported template expression {{%s", clip(s))
	}
	var val string
	p.space()
	if p.peek('(') {
		p.pos++
		var arg strings.Builder
		for {
			p.space()
			lit, ok, err := p.stringLiteral()
			if err != nil {
				return "", 0, err
			}
			if !ok {
				break
			}
			arg.WriteString(lit)
		}
		p.space()
		if !p.peek(')') {
			return "", 0, fmt.Errorf("unsupported template expression {{%s (a helper takes one string literal)", clip(s))
		}
		p.pos++
		def, ok := fns[name]
		if !ok {
			return "", 0, fmt.Errorf("unknown function %q in {{%s", name, clip(s))
		}
		val = strings.ReplaceAll(def, "{select_expr}", arg.String())
	} else {
		v, ok := vars[name]
		if !ok {
			return "", 0, fmt.Errorf("'%s' is undefined in {{%s", name, clip(s))
		}
		for p.peek('.') {
			p.pos++
			attr := p.ident()
			m, isMap := v.(map[string]any)
			if attr == "" || !isMap {
				return "", 0, fmt.Errorf("unsupported template expression {{%s", clip(s))
			}
			av, ok := m[attr]
			if !ok {
				return "", 0, fmt.Errorf("'%s' has no attribute '%s'", name, attr)
			}
			v = av
			name += "." + attr
			p.space()
		}
		switch x := v.(type) {
		case string:
			val = x
		case int:
			val = strconv.Itoa(x)
		case func() (string, error):
			str, err := x()
			if err != nil {
				return "", 0, err
			}
			val = str
		default:
			return "", 0, fmt.Errorf("cannot render %s", name)
		}
	}
	p.space()
	if !strings.HasPrefix(s[p.pos:], "}}") {
		return "", 0, fmt.Errorf("unsupported template expression {{%s", clip(s))
	}
	return val, p.pos + 2, nil
}

func clip(s string) string {
	if i := strings.Index(s, "}}"); i >= 0 && i < 80 {
		return s[:i+2]
	}
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

type exprParser struct {
	s   string
	pos int
}

func (p *exprParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *exprParser) peek(c byte) bool { return p.pos < len(p.s) && p.s[p.pos] == c }

func (p *exprParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.pos > start && c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// stringLiteral reads one Jinja string literal ('…' or "…", backslash escapes); Python's
// triple quotes work because Jinja concatenates adjacent literals (” 'x' ”).
func (p *exprParser) stringLiteral() (string, bool, error) {
	if p.pos >= len(p.s) || p.s[p.pos] != '\'' && p.s[p.pos] != '"' {
		return "", false, nil
	}
	q := p.s[p.pos]
	var b strings.Builder
	for i := p.pos + 1; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c == q:
			p.pos = i + 1
			return b.String(), true, nil
		case c == '\\' && i+1 < len(p.s):
			i++
			switch e := p.s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", false, fmt.Errorf("unterminated string literal in template")
}

// pyFormat applies Python's str.format with keyword arguments: {name} is substituted,
// {{ and }} become single braces.
func pyFormat(s string, kw map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("single '{' encountered in format string")
			}
			name := s[i+1 : i+j]
			v, ok := kw[name]
			if !ok {
				return "", fmt.Errorf("unknown format field {%s} (literal braces must be doubled)", name)
			}
			b.WriteString(v)
			i += j
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return "", fmt.Errorf("single '}' encountered in format string")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// RenderSelect renders a metric select_expression with the helper functions and then
// applies mozanalysis' str.format layer ({experiment_slug}, doubled braces).
func (fns Functions) RenderSelect(expr, slug string) (string, error) {
	out, err := render(expr, fns, nil)
	if err != nil {
		return "", err
	}
	return pyFormat(out, map[string]string{"experiment_slug": slug})
}
