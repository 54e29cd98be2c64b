package configs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigRepoAtRevision: PATH@REV reads the configs as they were at that commit.
func TestConfigRepoAtRevision(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(text string) {
		if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "jetstream", "my-exp.toml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("[experiment]\nenrollment_period = 7\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	first := git("rev-parse", "HEAD")
	write("[experiment]\nenrollment_period = 14\n")
	git("commit", "-q", "-am", "second")

	for _, tc := range []struct {
		arg  string
		want int
	}{{dir + "@" + first, 7}, {dir + "@HEAD", 14}, {dir, 14}} {
		c, err := MetricHubWith(tc.arg)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := c.Configs["my-exp"]
		if !ok {
			t.Fatalf("%s: no config my-exp", tc.arg)
		}
		if s.Experiment.EnrollmentPeriod == nil || *s.Experiment.EnrollmentPeriod != tc.want {
			t.Errorf("%s: enrollment_period = %v, want %d", tc.arg, s.Experiment.EnrollmentPeriod, tc.want)
		}
		if tc.arg != dir && !strings.Contains(s.File, "@") {
			t.Errorf("%s: file name %q does not say the revision", tc.arg, s.File)
		}
	}
	if _, err := MetricHubWith(dir + "@no-such-rev"); err == nil || !strings.Contains(err.Error(), "git archive") {
		t.Errorf("unknown revision: error = %v", err)
	}
}
