package sampledata

import (
	"math"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// sampleDesign is the bundled sample experiment's design.
func sampleDesign() Design {
	return Design{
		Slug:          "sample-sidebar-redesign",
		Start:         day(2026, 9, 1),
		EnrollmentEnd: day(2026, 9, 7),
		End:           day(2026, 10, 7),
		Branches:      []Branch{{"control", 1}, {"treatment", 1}},
		Reference:     "control",
	}
}

// sampleStats are the mean and standard error of a sample.
type sampleStats struct{ n, sum, sumSq float64 }

func (s *sampleStats) add(x float64) { s.n++; s.sum += x; s.sumSq += x * x }
func (s sampleStats) mean() float64  { return s.sum / s.n }
func (s sampleStats) variance() float64 {
	m := s.mean()
	return (s.sumSq - s.n*m*m) / (s.n - 1)
}
func (s sampleStats) se() float64 { return math.Sqrt(s.variance() / s.n) }

// within fails unless |got − want| ≤ k·se.
func within(t *testing.T, what string, got, want, se, k float64) {
	t.Helper()
	if math.Abs(got-want) > k*se {
		t.Errorf("%s = %.6g, want %.6g ± %g·%.3g (z = %.2f)", what, got, want, k, se, (got-want)/se)
	}
}

// recorder is a Writer that keeps every row.
type recorder struct {
	events []Event
	days   []ClientDay
}

func (r *recorder) Event(e Event) error         { r.events = append(r.events, e); return nil }
func (r *recorder) ClientDay(c ClientDay) error { r.days = append(r.days, c); return nil }

// counter is a Writer that counts rows.
type counter struct{ events, days int64 }

func (c *counter) Event(Event) error         { c.events++; return nil }
func (c *counter) ClientDay(ClientDay) error { c.days++; return nil }
