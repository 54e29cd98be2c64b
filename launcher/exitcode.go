package launcher

import "errors"

// Exit statuses of the jetstream command, told apart so that a scheduler can react: a
// partial failure has published the experiments that succeeded, a failure nothing.
const (
	ExitSuccess = 0
	ExitFailure = 1 // the run failed: nothing (more) was published
	ExitUsage   = 2 // bad flags, dates or arguments: nothing was done
	ExitPartial = 3 // some experiments failed; the others were analysed and published
)

const exitStatusHelp = "Exit status: 0 success, 1 failure (nothing published), 2 bad usage (flags, dates),\n" +
	"3 partial failure (some experiments failed; the others are published)."

// usageError is a bad command line: a flag, a date or an argument.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// partialError is a run in which some experiments failed while the others were published.
type partialError struct{ err error }

func (e partialError) Error() string { return e.err.Error() }
func (e partialError) Unwrap() error { return e.err }

// ExitCode is the exit status for the error a command returned.
func ExitCode(err error) int {
	var usage usageError
	var partial partialError
	switch {
	case err == nil:
		return ExitSuccess
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &partial):
		return ExitPartial
	}
	return ExitFailure
}
