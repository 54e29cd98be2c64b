package launcher

import (
	"io"
	"log/slog"
	"os"
)

// newLogger is the logger of a command's progress and events, on w (the command's
// standard error): plain text for a person at a terminal, and otherwise one JSON object
// per line with the fields Cloud Logging reads from a container's output (severity,
// message, time), so that Dataflow launchers, Airflow pods and Kubernetes jobs show
// levels and can be filtered on the other fields.
func newLogger(w io.Writer) *slog.Logger {
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: cloudLoggingFields}))
}

// isTerminal tells whether w is a character device (a terminal), not a file, a pipe or
// /dev/null.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	// /dev/null is a character device too, but nobody reads it.
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(info, null)
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// cloudLoggingFields renames slog's keys to Cloud Logging's structured-logging fields:
// level → severity (WARN → WARNING), msg → message.
func cloudLoggingFields(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		level, _ := a.Value.Any().(slog.Level)
		severity := level.String()
		switch {
		case level >= slog.LevelError:
			severity = "ERROR"
		case level >= slog.LevelWarn:
			severity = "WARNING"
		case level >= slog.LevelInfo:
			severity = "INFO"
		default:
			severity = "DEBUG"
		}
		return slog.String("severity", severity)
	case slog.MessageKey:
		return slog.String("message", a.Value.String())
	}
	return a
}

// discardLogger drops everything: the logger of runs that were given none.
var discardLogger = slog.New(slog.DiscardHandler)
