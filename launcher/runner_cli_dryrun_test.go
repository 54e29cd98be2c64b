package launcher

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunDataflowDryRun is `make dataflow-dryrun` in this process: `jetstream run` with the
// runner flags translates the sample's week-1 pipeline for Dataflow, prints it, and neither
// touches the warehouse (a missing DuckDB file) nor writes --output.
func TestRunDataflowDryRun(t *testing.T) {
	keepBeamState(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", os.DevNull) // no Google credentials, whatever the machine has
	worker := writeELF(t, elf.EM_X86_64, false)
	output := filepath.Join(t.TempDir(), "output")
	var out bytes.Buffer
	app := App()
	app.Writer = &out
	args := append([]string{"jetstream", "run"}, dryRunArgs(worker)...)
	args = append(args, "--date", "2026-09-14", "--period", "week", "--output", output,
		"--warehouse", "duckdb:"+filepath.Join(t.TempDir(), "absent", "mozdata.duckdb"))
	if err := app.Run(args); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	i := strings.Index(s, "Dataflow dry run:")
	if i < 0 {
		t.Fatalf("no dry run in the output:\n%s", s)
	}
	checkSampleDryRun(t, s[i:], worker)
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Errorf("the dry run created --output %s (%v)", output, err)
	}
}
