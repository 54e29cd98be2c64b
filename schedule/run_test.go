package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"
)

// helperMode, when set in the environment, makes the test binary a stand-in for the jetstream
// binary a job runs (Run re-executes the test binary):
//
//	print    print each argument on stdout and a line on stderr, exit 0
//	exit3    print a line on stderr, exit 3
//	hang     ignore interrupts and sleep forever (only SIGKILL stops it)
//	graceful on an interrupt, print a line and exit 1; otherwise sleep forever
//	selfkill kill itself (SIGKILL)
const helperMode = "JETSTREAM_SCHEDULE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperMode); mode != "" {
		os.Exit(helper(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func helper(mode string, args []string) int {
	switch mode {
	case "print":
		for _, a := range args {
			fmt.Printf("arg: %s\n", a)
		}
		fmt.Fprintln(os.Stderr, "a line on stderr")
		return 0
	case "exit3":
		fmt.Fprintln(os.Stderr, "failing on purpose")
		return 3
	case "hang":
		signal.Ignore(os.Interrupt)
		fmt.Println("hanging")
		select {}
	case "graceful":
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		fmt.Println("working")
		<-c
		fmt.Println("interrupted, stopping")
		return 1
	case "selfkill":
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
		}
		select {}
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// helperJob returns a job run by the test binary in the given helper mode.
func helperJob(t *testing.T, mode string, timeout time.Duration) (Job, string) {
	t.Helper()
	t.Setenv(helperMode, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Job{Name: mode + "-job", Args: []string{"run", "--experiment-slug", "my experiment"}, Schedule: Daily,
		Timeout: timeout, OutputPrefix: "gs://bucket/custom/job", Owner: "o@mozilla.com"}, exe
}

func TestRunPassesOutputThrough(t *testing.T) {
	job, exe := helperJob(t, "print", time.Minute)
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), job, exe, &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, stderr.String())
	}
	want := "arg: run\narg: --experiment-slug\narg: my experiment\narg: --bucket\narg: gs://bucket/custom/job\n"
	if stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if stderr.String() != "a line on stderr\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestRunReportsExitCode(t *testing.T) {
	job, exe := helperJob(t, "exit3", time.Minute)
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), job, exe, &stdout, &stderr)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Job != "exit3-job" || exit.Command != "run" {
		t.Fatalf("error %#v, want an *ExitError with code 3", err)
	}
	if got, want := err.Error(), `job "exit3-job": jetstream run exited with status 3`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if stderr.String() != "failing on purpose\n" || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// A job ended by a signal Run did not send fails with code -1, saying which signal.
func TestRunReportsSignal(t *testing.T) {
	job, exe := helperJob(t, "selfkill", time.Minute)
	err := Run(context.Background(), job, exe, nil, nil)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != -1 {
		t.Fatalf("error %#v, want an *ExitError with code -1", err)
	}
	if got, want := err.Error(), `job "selfkill-job": jetstream run failed: signal: killed`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}

// A job that ignores the interrupt is killed at the end of the grace period: Run returns
// within timeout + grace (and a margin for the process to be reaped), saying so.
func TestRunKillsHangingJob(t *testing.T) {
	const timeout, grace = time.Second, 500 * time.Millisecond
	job, exe := helperJob(t, "hang", timeout)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := RunWithGrace(context.Background(), job, exe, &stdout, &stderr, grace)
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Killed || te.Timeout != timeout || te.Grace != grace {
		t.Fatalf("error %#v, want a *TimeoutError, killed", err)
	}
	if got, want := err.Error(), `job "hang-job" timed out after 1s: interrupted, and killed when it had not stopped 500ms later`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if elapsed < timeout+grace || elapsed > timeout+grace+time.Second {
		t.Errorf("Run returned after %s, want between %s and %s", elapsed, timeout+grace, timeout+grace+time.Second)
	}
	if stdout.String() != "hanging\n" {
		t.Errorf("stdout %q", stdout.String())
	}
}

// A job that stops when interrupted is not waited for until the end of the grace period,
// and is not killed.
func TestRunInterruptsJobOnTimeout(t *testing.T) {
	const timeout, grace = time.Second, 20 * time.Second
	job, exe := helperJob(t, "graceful", timeout)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := RunWithGrace(context.Background(), job, exe, &stdout, &stderr, grace)
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Killed {
		t.Fatalf("error %#v, want a *TimeoutError, not killed", err)
	}
	if got, want := err.Error(), `job "graceful-job" timed out after 1s: interrupted, and it stopped within the 20s grace period`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if elapsed < timeout || elapsed > timeout+5*time.Second {
		t.Errorf("Run returned after %s, want about %s", elapsed, timeout)
	}
	if stdout.String() != "working\ninterrupted, stopping\n" {
		t.Errorf("stdout %q", stdout.String())
	}
}

// Cancelling Run's context interrupts the job too, and is not reported as a timeout.
func TestRunCancelled(t *testing.T) {
	job, exe := helperJob(t, "graceful", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var stdout bytes.Buffer
	err := RunWithGrace(ctx, job, exe, &stdout, &bytes.Buffer{}, 10*time.Second)
	var te *TimeoutError
	if err == nil || errors.As(err, &te) {
		t.Fatalf("error %#v, want a cancellation", err)
	}
	if got, want := err.Error(), `job "graceful-job": cancelled (context deadline exceeded): interrupted, and it stopped within the grace period`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if !strings.Contains(stdout.String(), "interrupted, stopping") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	job := Job{Name: "j", Args: []string{"run"}, Timeout: time.Minute}
	cases := []struct {
		name  string
		job   Job
		exe   string
		grace time.Duration
		want  string
	}{
		{"no command", Job{Name: "j", Timeout: time.Minute}, "jetstream", time.Second, `job "j": no command to run`},
		{"no timeout", Job{Name: "j", Args: []string{"run"}}, "jetstream", time.Second, `job "j": timeout 0s is not positive`},
		{"no grace", job, "jetstream", 0, `job "j": grace period 0s is not positive`},
		{"no executable", job, "", time.Second, `job "j": no jetstream executable to run`},
		{"missing executable", job, "/nonexistent/jetstream", time.Second,
			`job "j": running /nonexistent/jetstream run: fork/exec /nonexistent/jetstream: no such file or directory`},
	}
	for _, c := range cases {
		err := RunWithGrace(context.Background(), c.job, c.exe, nil, nil, c.grace)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %s", c.name, err, c.want)
		}
	}
	if DefaultGrace != 30*time.Second {
		t.Errorf("DefaultGrace = %s", DefaultGrace)
	}
}
