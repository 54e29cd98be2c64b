//go:build unix

package launcher

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A stopped pod sends `jetstream schedule run` SIGTERM: the job is interrupted and given
// its grace period, as on a timeout, and the command fails.
func TestScheduleRunForwardsSIGTERM(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec := writeSpec(t, strings.ReplaceAll(runSpec, `timeout = "1s"`, `timeout = "1h"`))
	cmd := exec.Command(exe, "schedule", "run", "graceful", "--spec", spec, "--grace-period", "20s")
	cmd.Env = append(os.Environ(), scheduleTestCLI+"=1")
	// Its own process group, which the cleanup kills: a job left running when the test
	// fails is not left behind. WaitDelay: output held open by such a job does not hang Wait.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr scheduleOutput
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); stdout.String() != "working\n"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the job did not start: stdout %q, stderr:\n%s", stdout.String(), stderr.String())
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM; stdout %q, stderr:\n%s", stdout.String(), stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("stopped %s after SIGTERM: the job was not interrupted", elapsed)
	}
	if got := stdout.String(); got != "working\ninterrupted, stopping\n" {
		t.Errorf("stdout %q: want the job to stop on its own when interrupted", got)
	}
	if want := `jetstream: schedule run: job "graceful": cancelled (`; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

// scheduleOutput is a bytes.Buffer safe for a process's output copier and the test to share.
type scheduleOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *scheduleOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *scheduleOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
