package configs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; it returns a Spec or an *Error, never both nor neither.
// A parsed Spec is validated as an experiment config against the embedded metric-hub,
// which must not panic either. Seeds: every file of the shared metric-hub copy.
func FuzzParse(f *testing.F) {
	_ = filepath.WalkDir(metricHubDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
			f.Add(data)
		}
		return nil
	})
	f.Add([]byte("[experiment]\nenrollments_query = 1\n[metrics.m]\nSELECT_EXPRESSION = 'x'\n"))
	c := MetricHub()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || err != error(e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if s != nil {
				t.Fatalf("both a Spec and an error")
			}
			_ = c.ValidateFile("fuzz.toml", data, "firefox_desktop")
			return
		}
		if s == nil {
			t.Fatal("neither a Spec nor an error")
		}
		_ = c.Validate(s, RoleExperiment, SyntheticExperiment("fuzz", "firefox_desktop"))
	})
}
