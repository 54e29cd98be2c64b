package configs

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// functionsTOML is metric-hub's definitions/functions.toml (MPL-2.0): the Jinja helpers
// such as agg_sum that metric select expressions call.
//
//go:embed functions.toml
var functionsTOML []byte

// Functions maps a helper name to its definition, a format string with one {select_expr}.
type Functions map[string]string

// DefaultFunctions returns metric-hub's helper functions.
func DefaultFunctions() Functions {
	var doc struct {
		Functions map[string]struct {
			Definition string `toml:"definition"`
		} `toml:"functions"`
	}
	if err := toml.Unmarshal(functionsTOML, &doc); err != nil {
		panic(fmt.Sprintf("embedded functions.toml: %v", err))
	}
	fns := Functions{}
	for name, f := range doc.Functions {
		fns[name] = f.Definition
	}
	return fns
}

// callPattern matches the one Jinja form metric expressions use: {{ name("literal") }},
// with single, double or triple-quoted literals.
var callPattern = regexp.MustCompile(`(?s)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*('''.*?'''|""".*?"""|'[^']*'|"[^"]*")\s*\)\s*\}\}`)

// RenderSelect renders a metric select_expression: helper calls are expanded, then
// mozanalysis' str.format layer substitutes {experiment_slug} and un-doubles braces.
func (fns Functions) RenderSelect(expr, slug string) (string, error) {
	var err error
	out := callPattern.ReplaceAllStringFunc(expr, func(call string) string {
		m := callPattern.FindStringSubmatch(call)
		def, ok := fns[m[1]]
		if !ok {
			if err == nil {
				err = fmt.Errorf("unknown function %q in %s", m[1], call)
			}
			return call
		}
		return strings.ReplaceAll(def, "{select_expr}", unquote(m[2]))
	})
	if err != nil {
		return "", err
	}
	if i := strings.Index(out, "{{"); i >= 0 && strings.Contains(out[i:], "}}") {
		return "", fmt.Errorf("unsupported template expression in %q", expr)
	}
	out = strings.ReplaceAll(out, "{experiment_slug}", slug)
	out = strings.ReplaceAll(out, "{{", "{")
	out = strings.ReplaceAll(out, "}}", "}")
	return strings.TrimSpace(out), nil
}

func unquote(lit string) string {
	for _, q := range []string{`'''`, `"""`, `'`, `"`} {
		if len(lit) >= 2*len(q) && strings.HasPrefix(lit, q) && strings.HasSuffix(lit, q) {
			return lit[len(q) : len(lit)-len(q)]
		}
	}
	return lit
}
