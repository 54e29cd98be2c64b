package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultGrace is how long a job that ran out of time has to stop after it is interrupted,
// before it is killed.
const DefaultGrace = 30 * time.Second

// TimeoutError is returned by Run when a job ran longer than its timeout.
type TimeoutError struct {
	Job     string
	Timeout time.Duration
	Grace   time.Duration
	Killed  bool // it was still running at the end of the grace period
}

func (e *TimeoutError) Error() string {
	if e.Killed {
		return fmt.Sprintf("job %q timed out after %s: interrupted, and killed when it had not stopped %s later", e.Job, e.Timeout, e.Grace)
	}
	return fmt.Sprintf("job %q timed out after %s: interrupted, and it stopped within the %s grace period", e.Job, e.Timeout, e.Grace)
}

// ExitError is returned by Run when a job's command failed: it exited with a non-zero
// status, or a signal that Run did not send ended it.
type ExitError struct {
	Job     string
	Command string          // the subcommand, e.g. "run"
	Code    int             // the exit status; -1 when a signal ended the process
	Err     *exec.ExitError // the process's state
}

func (e *ExitError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("job %q: jetstream %s failed: %v", e.Job, e.Command, e.Err)
	}
	return fmt.Sprintf("job %q: jetstream %s exited with status %d", e.Job, e.Command, e.Code)
}

func (e *ExitError) Unwrap() error { return e.Err }

// Run runs a job with its timeout and DefaultGrace; see RunWithGrace.
func Run(ctx context.Context, job Job, exe string, stdout, stderr io.Writer) error {
	return RunWithGrace(ctx, job, exe, stdout, stderr, DefaultGrace)
}

// errTimedOut is the cause of the job's context when its timeout expires.
var errTimedOut = errors.New("timed out")

// RunWithGrace runs a job's command as a subprocess: exe (the jetstream binary) with the
// job's RunArgs, its output written to stdout and stderr, in this process's environment
// and working directory. When the job's timeout expires (or ctx is cancelled) the process
// is interrupted (os.Interrupt, SIGINT, which jetstream handles by cancelling its work), and
// killed if it is still running grace later. It returns nil when the command succeeded, a
// *TimeoutError when it ran out of time, an *ExitError when it failed, and other errors when
// it could not be started or ctx was cancelled.
func RunWithGrace(ctx context.Context, job Job, exe string, stdout, stderr io.Writer, grace time.Duration) error {
	switch {
	case len(job.Args) == 0:
		return fmt.Errorf("job %q: no command to run", job.Name)
	case job.Timeout <= 0:
		return fmt.Errorf("job %q: timeout %s is not positive", job.Name, job.Timeout)
	case grace <= 0:
		return fmt.Errorf("job %q: grace period %s is not positive", job.Name, grace)
	case exe == "":
		return fmt.Errorf("job %q: no jetstream executable to run", job.Name)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, job.Timeout, errTimedOut)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, job.RunArgs()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	var interrupted atomic.Bool
	cmd.Cancel = func() error {
		interrupted.Store(true)
		return cmd.Process.Signal(os.Interrupt)
	}
	// After the interrupt, Wait kills the process once WaitDelay has passed. (After an
	// exit of its own, WaitDelay also bounds how long output still held open by the
	// process's children is read.)
	cmd.WaitDelay = grace
	err := cmd.Run()
	if interrupted.Load() {
		killed := false
		if cmd.ProcessState == nil {
			return fmt.Errorf("job %q: interrupted (%w): %w", job.Name, context.Cause(ctx), err)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
		}
		if errors.Is(context.Cause(ctx), errTimedOut) {
			return &TimeoutError{Job: job.Name, Timeout: job.Timeout, Grace: grace, Killed: killed}
		}
		how := "it stopped within the grace period"
		if killed {
			how = "killed when it had not stopped " + grace.String() + " later"
		}
		return fmt.Errorf("job %q: cancelled (%w): interrupted, and %s", job.Name, context.Cause(ctx), how)
	}
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &ExitError{Job: job.Name, Command: job.Subcommand(), Code: exit.ExitCode(), Err: exit}
	}
	return fmt.Errorf("job %q: running %s %s: %w", job.Name, exe, strings.Join(job.RunArgs(), " "), err)
}
