package configs

import "fmt"

// Error is a problem in a configuration file, located as precisely as known.
type Error struct {
	File   string // file name as given to Parse
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Key    string // dotted key path, e.g. "metrics.weekly"; may be empty
	Err    error
}

// location renders `file[:line[:column]][: key]`.
func (e *Error) location() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
		if e.Column > 0 {
			loc = fmt.Sprintf("%s:%d", loc, e.Column)
		}
	}
	if e.Key != "" {
		loc += ": " + e.Key
	}
	return loc
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %v", e.location(), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
