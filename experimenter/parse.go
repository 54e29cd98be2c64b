package experimenter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// record mirrors the keys of a v8 record that Jetstream reads. Pointers distinguish a missing
// key from a null value; json.RawMessage lets us report wrongly typed fields by name.
type record struct {
	Slug               *string         `json:"slug"`
	AppName            *string         `json:"appName"`
	AppID              *string         `json:"appId"`
	Branches           json.RawMessage `json:"branches"`
	StartDate          json.RawMessage `json:"startDate"`
	EnrollmentEndDate  json.RawMessage `json:"enrollmentEndDate"`
	EndDate            json.RawMessage `json:"endDate"`
	ProposedEnrollment json.RawMessage `json:"proposedEnrollment"`
	ReferenceBranch    json.RawMessage `json:"referenceBranch"`
	BucketConfig       json.RawMessage `json:"bucketConfig"`
	IsRollout          *bool           `json:"isRollout"`
	IsEnrollmentPaused *bool           `json:"isEnrollmentPaused"`
	Outcomes           []struct {
		Slug string `json:"slug"`
	} `json:"outcomes"`
	Segments []struct {
		Slug string `json:"slug"`
	} `json:"segments"`
}

// Parse reads one record (a JSON object) or a list of records (a JSON array) and converts
// them with now as the clock that decides Live versus Complete. Any malformed record is an
// error naming its position, slug and field.
func Parse(data []byte, now time.Time) ([]Experiment, error) {
	trimmed := bytes.TrimSpace(data)
	var raws []json.RawMessage
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("experiments list: %w", err)
		}
	} else {
		raws = []json.RawMessage{trimmed}
	}
	out := make([]Experiment, 0, len(raws))
	for i, raw := range raws {
		e, err := convert(raw, now)
		if err != nil {
			return nil, fmt.Errorf("experiment record %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func convert(raw json.RawMessage, now time.Time) (Experiment, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return Experiment{}, err
	}
	if r.Slug == nil || *r.Slug == "" {
		return Experiment{}, fmt.Errorf("field slug: missing or empty")
	}
	e := Experiment{Slug: *r.Slug, NormandySlug: *r.Slug, AppName: "firefox_desktop", AppID: "firefox-desktop"}
	fail := func(field string, err error) (Experiment, error) {
		return Experiment{}, fmt.Errorf("%s: field %s: %w", e.Slug, field, err)
	}
	if r.AppName != nil && *r.AppName != "" {
		e.AppName = *r.AppName
	}
	if r.AppID != nil && *r.AppID != "" {
		e.AppID = *r.AppID
	}
	var err error
	if e.Branches, err = parseBranches(r.Branches); err != nil {
		return fail("branches", err)
	}
	if e.StartDate, err = parseDate(r.StartDate); err != nil {
		return fail("startDate", err)
	}
	if e.EnrollmentEndDate, err = parseDate(r.EnrollmentEndDate); err != nil {
		return fail("enrollmentEndDate", err)
	}
	if e.EndDate, err = parseDate(r.EndDate); err != nil {
		return fail("endDate", err)
	}
	if e.ProposedEnrollment, err = parseInt(r.ProposedEnrollment); err != nil {
		return fail("proposedEnrollment", err)
	}
	if e.ReferenceBranch, err = parseString(r.ReferenceBranch); err != nil {
		return fail("referenceBranch", err)
	}
	if r.IsRollout != nil {
		e.IsRollout = *r.IsRollout
	}
	if r.IsEnrollmentPaused != nil {
		e.IsEnrollmentPaused = *r.IsEnrollmentPaused
	}
	for _, o := range r.Outcomes {
		e.Outcomes = append(e.Outcomes, o.Slug)
	}
	for _, s := range r.Segments {
		e.Segments = append(e.Segments, s.Slug)
	}
	e.Status = StatusLive
	if !e.EndDate.IsZero() && e.EndDate.Before(now) {
		e.Status = StatusComplete
	}
	return e, nil
}

func parseBranches(raw json.RawMessage) ([]Branch, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing")
	}
	var items []struct {
		Slug  *string `json:"slug"`
		Ratio *int    `json:"ratio"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("want an array of {slug, ratio} objects: %w", err)
	}
	out := make([]Branch, 0, len(items))
	for i, it := range items {
		if it.Slug == nil || *it.Slug == "" {
			return nil, fmt.Errorf("branch %d: missing slug", i)
		}
		if it.Ratio == nil {
			return nil, fmt.Errorf("branch %q: missing ratio", *it.Slug)
		}
		out = append(out, Branch{Slug: *it.Slug, Ratio: *it.Ratio})
	}
	return out, nil
}

func parseDate(raw json.RawMessage) (time.Time, error) {
	s, err := parseString(raw)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a YYYY-MM-DD date, got %q", s)
	}
	return t, nil
}

func parseString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("want a string, got %s", raw)
	}
	return s, nil
}

func parseInt(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("want an integer, got %s", raw)
	}
	return n, nil
}
