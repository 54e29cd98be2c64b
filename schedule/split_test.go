package schedule

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n ", nil},
		{"jetstream run", []string{"jetstream", "run"}},
		{"  jetstream\trun\n--date  2026-01-01 ", []string{"jetstream", "run", "--date", "2026-01-01"}},
		{`a 'b c' d`, []string{"a", "b c", "d"}},
		{`'it''s'`, []string{"its"}},
		{`'a "b" \c $d'`, []string{`a "b" \c $d`}},
		{`"a 'b' c"`, []string{"a 'b' c"}},
		{`"a \"b\" \\ \$HOME \` + "`" + `x\` + "`" + `"`, []string{"a \"b\" \\ $HOME `x`"}},
		{`"keep \n and \t"`, []string{`keep \n and \t`}},
		{"\"joined \\\nline\"", []string{"joined line"}},
		{`a\ b`, []string{"a b"}},
		{`\'quoted\'`, []string{"'quoted'"}},
		{`\$HOME \| \#`, []string{"$HOME", "|", "#"}},
		{"one\\\ntwo", []string{"onetwo"}},
		{`pre'mid'"post"`, []string{"premidpost"}},
		{`'' ""`, []string{"", ""}},
		{`--sql-output-dir="/tmp/sql out"`, []string{"--sql-output-dir=/tmp/sql out"}},
		{`a#b 'x;y' "p|q" '$(z)'`, []string{"a#b", "x;y", "p|q", "$(z)"}},
		{`über "naïve café"`, []string{"über", "naïve café"}},
	}
	for _, c := range cases {
		got, err := Split(c.in)
		if err != nil {
			t.Errorf("Split(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{`a 'b c`, "unterminated ' quote starting at character 3"},
		{`a "b c`, `unterminated " quote starting at character 3`},
		{`"a \"`, `unterminated " quote starting at character 1`},
		{`'a'b'`, "unterminated ' quote starting at character 5"},
		{`é 'a`, "unterminated ' quote starting at character 3"},
		{`a b\`, "trailing backslash at character 4 escapes nothing"},
		{`a | b`, "shell operator '|' at character 3: no shell runs the command (quote it to pass it as text)"},
		{`a && b`, "shell operator '&' at character 3: no shell runs the command (quote it to pass it as text)"},
		{`a;b`, "shell operator ';' at character 2: no shell runs the command (quote it to pass it as text)"},
		{`a > log`, "shell operator '>' at character 3: no shell runs the command (quote it to pass it as text)"},
		{`a <in`, "shell operator '<' at character 3: no shell runs the command (quote it to pass it as text)"},
		{`(a)`, "shell operator '(' at character 1: no shell runs the command (quote it to pass it as text)"},
		{`a $HOME`, "$ at character 3: a shell would expand it, and no shell runs the command (quote it with '…' to pass it as text)"},
		{"a `date`", "` at character 3: a shell would expand it, and no shell runs the command (quote it with '…' to pass it as text)"},
		{`a "$HOME"`, `$ at character 4: a shell would expand it inside "…", and no shell runs the command (write \$, or quote it with '…')`},
		{"a \"`date`\"", "` at character 4: a shell would expand it inside \"…\", and no shell runs the command (write \\`, or quote it with '…')"},
		{`a # comment`, "# at character 3 would start a shell comment, and no shell runs the command (quote it to pass it as text)"},
	}
	for _, c := range cases {
		got, err := Split(c.in)
		if err == nil {
			t.Errorf("Split(%q) = %q, want error %q", c.in, got, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Split(%q): error\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	cases := []struct {
		words []string
		want  string
	}{
		{[]string{"jetstream", "run", "--bucket", "gs://b/x", "--date=2026-01-01"}, "jetstream run --bucket gs://b/x --date=2026-01-01"},
		{[]string{"a b", "", "it's", "$HOME", "x;y", "#c", "tab\there"}, `'a b' '' 'it'\''s' '$HOME' 'x;y' '#c' 'tab	here'`},
	}
	for _, c := range cases {
		got := Quote(c.words)
		if got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.words, got, c.want)
		}
		back, err := Split(got)
		if err != nil || !reflect.DeepEqual(back, c.words) {
			t.Errorf("Split(Quote(%q)) = %q, %v", c.words, back, err)
		}
	}
}
