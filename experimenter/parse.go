package experimenter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults Jetstream applies when a record leaves the app out (or sends null or "").
const (
	DefaultAppName = "firefox_desktop"
	DefaultAppID   = "firefox-desktop"
)

// RecordError describes one record that was rejected: its position in the response, its slug
// when that could be read, and every problem found, each prefixed with the field's path
// (for example "bucketConfig.start: want an integer, got \"zero\"").
type RecordError struct {
	Index    int
	Slug     string
	Problems []string
}

func (e RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "experiment record %d", e.Index)
	if e.Slug != "" {
		fmt.Fprintf(&b, " (%q)", e.Slug)
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(e.Problems, "; "))
	return b.String()
}

// ParseList reads a list of records (a JSON array, as the list endpoints return) or one record
// (a JSON object, as a detail endpoint returns) and converts every well-formed record, in
// order, with now as the clock that decides Live versus Complete.
//
// A malformed record does not spoil the others — Jetstream logs and skips it too — so it is
// returned as a RecordError listing all of its bad fields, to be reported by the caller. The
// error is reserved for a document that is not a JSON array or object at all.
func ParseList(data []byte, now time.Time) ([]Experiment, []RecordError, error) {
	raws, err := splitRecords(data)
	if err != nil {
		return nil, nil, err
	}
	exps := make([]Experiment, 0, len(raws))
	var rejected []RecordError
	for i, raw := range raws {
		e, problems := convert(raw, now)
		if len(problems) > 0 {
			rejected = append(rejected, RecordError{Index: i, Slug: e.Slug, Problems: problems})
			continue
		}
		exps = append(exps, e)
	}
	return exps, rejected, nil
}

// Parse is the strict form of ParseList for inputs that must be entirely valid, such as a
// file the user points at: any rejected record is an error naming it (all of them, joined).
func Parse(data []byte, now time.Time) ([]Experiment, error) {
	exps, rejected, err := ParseList(data, now)
	if err != nil {
		return nil, err
	}
	if len(rejected) > 0 {
		errs := make([]error, len(rejected))
		for i, r := range rejected {
			errs[i] = r
		}
		return nil, errors.Join(errs...)
	}
	return exps, nil
}

// splitRecords returns the elements of a JSON array, or the document itself when it is an
// object.
func splitRecords(data []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("experiments: empty document, want a JSON array or object")
	}
	switch trimmed[0] {
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("experiments list: %w", err)
		}
		return raws, nil
	case '{':
		var raw json.RawMessage
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return nil, fmt.Errorf("experiment record: %w", err)
		}
		return []json.RawMessage{raw}, nil
	}
	return nil, fmt.Errorf("experiments: want a JSON array or object, got %s", excerpt(trimmed))
}

// convert turns one record into an Experiment. It checks every field rather than stopping at
// the first bad one, so that one report tells the Experimenter owners everything to fix.
// The Experiment is only meaningful when no problems are returned, except that its Slug is
// set whenever the slug itself could be read (to name the record).
func convert(raw json.RawMessage, now time.Time) (Experiment, []string) {
	var problems []string
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Experiment{}, []string{"want a JSON object, got " + excerpt(raw)}
	}
	r := &object{fields: fields, problems: &problems}

	e := Experiment{Type: TypeV6}
	e.Slug = r.nonEmptyString("slug", required)
	e.NormandySlug = e.Slug
	e.Branches = r.branches("branches")
	e.StartDate = r.date("startDate", requiredNullable)
	e.EnrollmentEndDate = r.date("enrollmentEndDate", optional)
	e.EndDate = r.date("endDate", requiredNullable)
	e.ProposedEnrollment = r.integer("proposedEnrollment", required, 0)
	e.ReferenceBranch = r.string("referenceBranch", requiredNullable)
	e.BucketConfig = r.bucketConfig("bucketConfig")
	e.AppName = orDefault(r.string("appName", optional), DefaultAppName)
	e.AppID = orDefault(r.string("appId", optional), DefaultAppID)
	e.Outcomes = r.slugs("outcomes")
	e.Segments = r.slugs("segments")
	e.IsEnrollmentPaused = r.boolean("isEnrollmentPaused", optional)
	e.IsRollout = r.boolean("isRollout", optionalNonNull)
	e.Status = status(e.EndDate, now)
	return e, problems
}

// status is Jetstream's rule: an experiment is Live until the midnight (UTC) that starts its
// end date has passed, by the wall clock at fetch time — not by the analysis date.
func status(end, now time.Time) string {
	if end.IsZero() || !end.Before(now) {
		return StatusLive
	}
	return StatusComplete
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// rule says whether a key must be present and whether it may be null. The combinations follow
// Jetstream's NimbusExperiment model (fixtures/experimenter/README.md, "What Jetstream reads").
type rule struct{ required, nullable bool }

var (
	required         = rule{required: true}
	requiredNullable = rule{required: true, nullable: true}
	optional         = rule{nullable: true}
	optionalNonNull  = rule{}
)

// object reads the fields of one JSON object, recording each problem with the field's path.
type object struct {
	path     string // prefix of the field names: "" at the top, "bucketConfig." inside it
	fields   map[string]json.RawMessage
	problems *[]string
}

func (o *object) problem(key, format string, args ...any) {
	*o.problems = append(*o.problems, o.path+key+": "+fmt.Sprintf(format, args...))
}

func (o *object) child(path string, fields map[string]json.RawMessage) *object {
	return &object{path: path, fields: fields, problems: o.problems}
}

// lookup returns the value of key when it is present and not null. Absence and null are
// recorded as problems when r forbids them; want describes the expected value.
func (o *object) lookup(key string, r rule, want string) (json.RawMessage, bool) {
	raw, present := o.fields[key]
	switch {
	case !present:
		if r.required {
			o.problem(key, "missing, want %s", want)
		}
		return nil, false
	case string(bytes.TrimSpace(raw)) == "null":
		if !r.nullable {
			o.problem(key, "want %s, got null", want)
		}
		return nil, false
	}
	return raw, true
}

// decode unmarshals the value of key into v, recording a problem when its JSON type differs.
// encoding/json never coerces between JSON types, which is exactly the strictness wanted.
func (o *object) decode(key string, r rule, want string, v any) bool {
	raw, ok := o.lookup(key, r, want)
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		o.problem(key, "want %s, got %s", want, excerpt(raw))
		return false
	}
	return true
}

func (o *object) string(key string, r rule) string {
	var s string
	o.decode(key, r, "a string", &s)
	return s
}

// nonEmptyString is for identifiers: an empty slug names nothing and would produce table
// names like "enrollments_".
func (o *object) nonEmptyString(key string, r rule) string {
	var s string
	if o.decode(key, r, "a non-empty string", &s) && s == "" {
		o.problem(key, `want a non-empty string, got ""`)
	}
	return s
}

// integer rejects fractions, numeric strings and out-of-range values; def is used when an
// optional key is absent.
func (o *object) integer(key string, r rule, def int) int {
	n := def
	o.decode(key, r, "an integer", &n)
	return n
}

func (o *object) boolean(key string, r rule) bool {
	var b bool
	o.decode(key, r, "true or false", &b)
	return b
}

// date reads a YYYY-MM-DD string as UTC midnight, the way Jetstream localises Experimenter's
// dates. Null gives the zero time.
func (o *object) date(key string, r rule) time.Time {
	const want = "a YYYY-MM-DD date string"
	var s string
	if !o.decode(key, r, want, &s) {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		o.problem(key, "want %s, got %q", want, s)
		return time.Time{}
	}
	return t
}

// objects reads an array of JSON objects, recording a problem for the array or for each
// element that is not an object; the result has one entry per good element.
func (o *object) objects(key string, r rule, want string) []*object {
	var raws []json.RawMessage
	if !o.decode(key, r, "an array of "+want+" objects", &raws) {
		return nil
	}
	out := make([]*object, 0, len(raws))
	for i, raw := range raws {
		elem := fmt.Sprintf("%s[%d]", key, i)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
			o.problem(elem, "want a %s object, got %s", want, excerpt(raw))
			continue
		}
		out = append(out, o.child(o.path+elem+".", fields))
	}
	return out
}

func (o *object) branches(key string) []Branch {
	items := o.objects(key, required, "{slug, ratio}")
	out := make([]Branch, 0, len(items))
	for _, it := range items {
		b := Branch{
			Slug:  it.nonEmptyString("slug", required),
			Ratio: it.integer("ratio", required, 0),
		}
		out = append(out, b)
	}
	return out
}

// slugs reads outcomes or segments ([{slug, …}]); absent or null is the empty list.
func (o *object) slugs(key string) []string {
	items := o.objects(key, optional, "{slug}")
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.nonEmptyString("slug", required))
	}
	return out
}

func (o *object) bucketConfig(key string) BucketConfig {
	var fields map[string]json.RawMessage
	if !o.decode(key, required, "a {randomizationUnit, namespace, start, count, total} object", &fields) {
		return BucketConfig{}
	}
	b := o.child(o.path+key+".", fields)
	return BucketConfig{
		RandomizationUnit: b.string("randomizationUnit", required),
		Namespace:         b.string("namespace", required),
		Start:             b.integer("start", required, 0),
		Count:             b.integer("count", required, 0),
		Total:             b.integer("total", optionalNonNull, DefaultBucketTotal),
	}
}

// excerpt shows a value in a message: compact JSON when it is JSON, shortened so that a huge
// wrong value (say, a whole object where a string belongs) does not drown the report.
func excerpt(raw []byte) string {
	const limit = 80
	var buf bytes.Buffer
	s := string(bytes.TrimSpace(raw))
	if json.Compact(&buf, raw) == nil {
		s = buf.String()
	}
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}
