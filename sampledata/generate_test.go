package sampledata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hasher is a Writer that hashes a canonical text form of every row.
type hasher struct{ h hash.Hash }

func newHasher() *hasher { return &hasher{h: sha256.New()} }

func (w *hasher) Event(e Event) error {
	fmt.Fprintf(w.h, "E|%s|%s|%s|%d|%s|%s|%s|%s|%v\n", e.SubmissionDate.Format(time.DateOnly), e.ClientID,
		e.ProfileGroupID, e.SampleID, e.Category, e.Method, e.Object, e.StringValue, e.MapValues)
	return nil
}

func (w *hasher) ClientDay(c ClientDay) error {
	fmt.Fprintf(w.h, "D|%s|%s|%s|%d|%x|%x|%d|%d|%d|%d|%d|%t|%v\n", c.SubmissionDate.Format(time.DateOnly),
		c.ClientID, c.ProfileGroupID, c.SampleID, math.Float64bits(c.ActiveHoursSum),
		math.Float64bits(c.SubsessionHoursSum), c.URICount, c.URICountNormalAndPrivate, c.SearchCount,
		c.AdClicks, c.Pings, c.IsDefaultBrowser, c.Experiments)
	return nil
}

func (w *hasher) sum() string { return hex.EncodeToString(w.h.Sum(nil)) }

func TestGenerateIsDeterministic(t *testing.T) {
	opts := Options{Clients: 500, Seed: 7, Design: sampleDesign()}
	hashOf := func(o Options) (string, Truth) {
		t.Helper()
		w := newHasher()
		truth, err := Generate(o, w)
		if err != nil {
			t.Fatal(err)
		}
		return w.sum(), truth
	}
	h1, t1 := hashOf(opts)
	h2, t2 := hashOf(opts)
	if h1 != h2 || !reflect.DeepEqual(t1, t2) {
		t.Fatalf("two runs with the same options differ: %s vs %s", h1, h2)
	}
	// The stream is part of the data's definition (RNG, samplers, model): pin it. A change
	// of this hash is a change of the generated data.
	if want := goldenStreamHash; h1 != want {
		t.Errorf("stream hash = %s, want %s", h1, want)
	}
	for _, other := range []Options{
		{Clients: 500, Seed: 8, Design: sampleDesign()},
		{Clients: 500, Seed: 7, PreDays: 14, Design: sampleDesign()},
		{Clients: 500, Seed: 7, Design: sampleDesign(), Effects: NullEffects()},
	} {
		if h, _ := hashOf(other); h == h1 {
			t.Errorf("options %+v give the same stream as %+v", other, opts)
		}
	}
}

const goldenStreamHash = "ba9bc7f28c75329fefc7a036c33e475773d057c58cb5cb8770cc2c56b04b0c58"

func TestGenerateExtendsWithMoreClients(t *testing.T) {
	// Client i's rows depend only on (seed, i, …): 300 clients start with the 120 clients.
	var small, large recorder
	if _, err := Generate(Options{Clients: 120, Seed: 3, Design: sampleDesign()}, &small); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(Options{Clients: 300, Seed: 3, Design: sampleDesign()}, &large); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(large.events[:len(small.events)], small.events) ||
		!reflect.DeepEqual(large.days[:len(small.days)], small.days) {
		t.Error("the first 120 clients of a 300-client run differ from a 120-client run")
	}
}

func TestBranchCountsFollowRatios(t *testing.T) {
	d := sampleDesign()
	d.Branches = []Branch{{"control", 1}, {"treatment-a", 3}, {"treatment-b", 4}}
	const n = 40_000
	truth, err := Generate(Options{Clients: n, Seed: 11, Design: d}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range d.Branches {
		p := b.Ratio / 8
		got := truth.BranchCounts[b.Name]
		total += got
		within(t, "share of "+b.Name, float64(got)/n, p, math.Sqrt(p*(1-p)/n), 4)
		exposed := float64(truth.ExposedCounts[b.Name]) / float64(got)
		within(t, "exposed share of "+b.Name, exposed, 0.85, math.Sqrt(0.85*0.15/float64(got)), 4)
	}
	if total != n || truth.Clients != n {
		t.Errorf("branch counts add up to %d, clients %d; want %d", total, truth.Clients, n)
	}
}

// TestGenerateInvariants checks every row of a small generation against the model's rules.
func TestGenerateInvariants(t *testing.T) {
	d := sampleDesign()
	const n = 4000
	var rec recorder
	truth, err := Generate(Options{Clients: n, Seed: 5, Design: d}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	first, last := d.Start.AddDate(0, 0, -DefaultPreDays), d.End.AddDate(0, 0, -1)
	branches := map[string]bool{"control": true, "treatment": true}
	other := OtherSlug(d.Slug)

	type clientInfo struct {
		group         string
		sample        int32
		branch        string
		enrolled      time.Time
		enrollments   int
		exposures     int
		otherEnrolled time.Time
		defaultSet    bool
		isDefault     bool
		lastDay       time.Time
		enrollDayRows int
	}
	clients := map[string]*clientInfo{}
	var order []string
	get := func(id, group string, sample int32) *clientInfo {
		c, ok := clients[id]
		if !ok {
			c = &clientInfo{group: group, sample: sample}
			clients[id] = c
			order = append(order, id)
		}
		if c.group != group || c.sample != sample {
			t.Fatalf("client %s: ids changed between rows", id)
		}
		if want := int32(crc32.ChecksumIEEE([]byte(id)) % 100); sample != want {
			t.Fatalf("client %s: sample_id %d, want %d", id, sample, want)
		}
		return c
	}
	var foreign, otherEnrolls int
	for _, e := range rec.events {
		c := get(e.ClientID, e.ProfileGroupID, e.SampleID)
		if e.SubmissionDate.Before(first) || e.SubmissionDate.After(last) {
			t.Fatalf("event on %s outside [%s, %s]", e.SubmissionDate, first, last)
		}
		switch {
		case e.Category == CategoryNormandy && e.Method == MethodEnroll && e.StringValue == d.Slug:
			c.enrollments++
			c.enrolled = e.SubmissionDate
			if e.Object != ObjectNimbus || len(e.MapValues) != 2 || e.MapValues[0].Key != "branch" ||
				!branches[e.MapValues[0].Value] || e.MapValues[1] != (KeyValue{"experimentType", "nimbus"}) {
				t.Fatalf("bad enroll event %+v", e)
			}
			c.branch = e.MapValues[0].Value
			if e.SubmissionDate.Before(d.Start) || e.SubmissionDate.After(d.EnrollmentEnd) {
				t.Fatalf("enrollment on %s outside the enrollment period", e.SubmissionDate)
			}
		case e.Category == CategoryNormandy && e.Method == MethodExpose && e.StringValue == d.Slug:
			c.exposures++
			if c.enrollments != 1 || len(e.MapValues) != 2 || e.MapValues[0] != (KeyValue{"branchSlug", c.branch}) ||
				e.MapValues[1] != (KeyValue{"featureId", defaultFeatureID}) {
				t.Fatalf("bad exposure event %+v of a client in %q", e, c.branch)
			}
			if e.SubmissionDate.Before(c.enrolled) || e.SubmissionDate.After(d.EnrollmentEnd) {
				t.Fatalf("exposure on %s, enrolled %s", e.SubmissionDate, c.enrolled)
			}
		case e.Category == CategoryNormandy && e.Method == MethodEnroll && e.StringValue == other:
			otherEnrolls++
			c.otherEnrolled = e.SubmissionDate
		case e.Category == CategoryForeign && e.StringValue == d.Slug && (e.Method == MethodEnroll || e.Method == ""):
			foreign++
		default:
			t.Fatalf("unexpected event %+v", e)
		}
	}
	var enrollDayTagged, enrollDayRows int
	for _, r := range rec.days {
		c := get(r.ClientID, r.ProfileGroupID, r.SampleID)
		if r.SubmissionDate.Before(first) || r.SubmissionDate.After(last) {
			t.Fatalf("row on %s outside [%s, %s]", r.SubmissionDate, first, last)
		}
		if !c.lastDay.IsZero() && !r.SubmissionDate.After(c.lastDay) {
			t.Fatalf("client %s: rows not in strictly increasing date order", r.ClientID)
		}
		c.lastDay = r.SubmissionDate
		if c.defaultSet && c.isDefault != r.IsDefaultBrowser {
			t.Fatalf("client %s: is_default_browser changed", r.ClientID)
		}
		c.defaultSet, c.isDefault = true, r.IsDefaultBrowser
		if steps := r.ActiveHoursSum * 720; math.Abs(steps-math.Round(steps)) > 1e-6 || r.ActiveHoursSum < 0 {
			t.Fatalf("active hours %v not on the 5 s grid", r.ActiveHoursSum)
		}
		if steps := r.SubsessionHoursSum * 720; math.Abs(steps-math.Round(steps)) > 1e-6 || r.SubsessionHoursSum < r.ActiveHoursSum {
			t.Fatalf("subsession hours %v (active %v)", r.SubsessionHoursSum, r.ActiveHoursSum)
		}
		if r.URICount < 0 || r.URICountNormalAndPrivate < r.URICount || r.SearchCount < 0 || r.AdClicks < 0 || r.Pings < 1 {
			t.Fatalf("bad counts in %+v", r)
		}
		// Annotation rules.
		var slugValue string
		var hasSlug, hasOther bool
		for _, kv := range r.Experiments {
			switch kv.Key {
			case d.Slug:
				hasSlug, slugValue = true, kv.Value
			case other:
				hasOther = true
			default:
				t.Fatalf("unexpected annotation %v", kv)
			}
		}
		switch {
		case r.SubmissionDate.Before(c.enrolled):
			if hasSlug {
				t.Fatalf("pre-enrollment row annotated: %+v", r)
			}
		case r.SubmissionDate.Equal(c.enrolled):
			enrollDayRows++
			c.enrollDayRows++
			if hasSlug {
				enrollDayTagged++
			}
		default:
			if !hasSlug {
				t.Fatalf("post-enrollment row without annotation: %+v", r)
			}
		}
		if hasSlug && slugValue != c.branch {
			t.Fatalf("annotation %q for a client in %q", slugValue, c.branch)
		}
		if wantOther := !c.otherEnrolled.IsZero() && !r.SubmissionDate.Before(c.otherEnrolled); hasOther != wantOther {
			t.Fatalf("other experiment annotation %t on %s, other enrollment %s", hasOther, r.SubmissionDate, c.otherEnrolled)
		}
	}
	if len(clients) != n {
		t.Fatalf("%d clients, want %d", len(clients), n)
	}
	exposed := 0
	for _, id := range order {
		c := clients[id]
		if c.enrollments != 1 || c.exposures > 1 || c.enrollDayRows != 1 {
			t.Fatalf("client %s: %d enrollments, %d exposures, %d enrollment-day rows; want 1, ≤ 1, 1",
				id, c.enrollments, c.exposures, c.enrollDayRows)
		}
		exposed += c.exposures
	}
	if exposed != int(truth.ExposedCounts["control"]+truth.ExposedCounts["treatment"]) {
		t.Errorf("%d exposure events, truth says %v", exposed, truth.ExposedCounts)
	}
	share := func(what string, k int, p float64) {
		within(t, what, float64(k)/n, p, math.Sqrt(p*(1-p)/n), 4)
	}
	share("tagged enrollment-day rows", enrollDayTagged, 0.9)
	share("exposed clients", exposed, 0.85)
	share("clients also in the other experiment", otherEnrolls, 0.01)
	share("clients with a foreign event", foreign, 0.005)
	if foreign == 0 || otherEnrolls == 0 {
		t.Error("no noise events generated")
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Event(Event) error { return nil }
func (w *failingWriter) ClientDay(ClientDay) error {
	if w.n++; w.n == 100 {
		return errors.New("disk full")
	}
	return nil
}

func TestGenerateErrors(t *testing.T) {
	_, err := Generate(Options{Clients: 10, Design: sampleDesign()}, &failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "sample data: client ") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("writer failure: error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := GenerateContext(ctx, Options{Clients: 10, Design: sampleDesign()}, &counter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v", err)
	}
	if _, err := Generate(Options{Clients: 10}, &counter{}); err == nil {
		t.Error("no error for an empty design")
	}
}

func TestProgress(t *testing.T) {
	var calls [][2]int
	record := func(done, total int) { calls = append(calls, [2]int{done, total}) }
	const total = 2*ProgressInterval + 5
	p := newProgress(record, total)
	for range total {
		p.done(1)
	}
	p.finish()
	want := [][2]int{{ProgressInterval, total}, {2 * ProgressInterval, total}, {total, total}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}

	calls = nil
	if _, err := Generate(Options{Clients: 7, Design: sampleDesign(), Progress: record}, &counter{}); err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{7, 7}}; !reflect.DeepEqual(calls, want) {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}
}

// BenchmarkGenerate measures the pure generation (no storage) per 100,000 clients.
func BenchmarkGenerate(b *testing.B) {
	const clients = 100_000
	opts := Options{Clients: clients, Seed: 1, Design: sampleDesign()}
	var c counter
	for b.Loop() {
		c = counter{}
		if _, err := Generate(opts, &c); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(c.events+c.days)/perOp, "rows/s")
	b.ReportMetric(clients/perOp, "clients/s")
}
