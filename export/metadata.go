package export

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// MetadataSchemaVersion is the schema_version of the metadata document (mozilla_nimbus_schemas
// jetstream Metadata), which Experimenter checks before reading it.
const MetadataSchemaVersion = 4

// MetricHubConfigURL is where the metric-hub config of an experiment is published; the
// metadata links to it when the config overrides Experimenter's values, so that readers can
// see why the analysis disagrees with the experiment's page.
const MetricHubConfigURL = "https://github.com/mozilla/metric-hub/blob/main/jetstream/"

// ErrPrivate is returned by NewMetadata for a private experiment ([experiment] is_private):
// Jetstream publishes no metadata for it, as the bucket is public. It is not a failure;
// callers test for it with errors.Is and skip the file.
var ErrPrivate = errors.New("private experiment: no metadata is published")

// Metadata is the document Jetstream publishes to gs://<bucket>/metadata/metadata_<slug>.json
// after each successful analysis: what Experimenter needs to present the results (metric
// names and descriptions, which direction is good, outcomes, and the config's overrides of
// the experiment's own values). MetadataJSON renders it.
type Metadata struct {
	// AnalysisStartTime is when the analysis run began; zero is written as null (as
	// Jetstream's stand-alone export command does).
	AnalysisStartTime time.Time
	ExternalConfig    *ExternalConfig // nil: null (the config overrides nothing)
	Metrics           []MetricMetadata
	Outcomes          []OutcomeMetadata
	// Publishing is the small-group suppression applied to the published statistics (nil: none
	// recorded). MetadataJSON does not write it: the metadata schema (metadata.schema.json,
	// additionalProperties false) allows no key beyond its seven. SuppressionsJSON renders it
	// as a document of its own.
	Publishing *Publishing
}

// MetricMetadata is one entry of the document's metrics object, keyed by Slug.
type MetricMetadata struct {
	Slug           string
	AnalysisBases  []string
	BiggerIsBetter bool
	Description    string // "" when the config has none
	FriendlyName   string // the config's, else the slug in Title Case
}

// OutcomeMetadata is one entry of the document's outcomes object, keyed by Slug.
type OutcomeMetadata struct {
	Slug           string
	FriendlyName   string
	Description    string
	Metrics        []string // the metrics the outcome file defines, in file order
	DefaultMetrics []string
	CommitHash     string // metric-hub commit of the outcome file; "" is written as null
}

// ExternalConfig tells which of Experimenter's values the metric-hub config overrides.
// Empty / zero / nil fields are written as null.
type ExternalConfig struct {
	ReferenceBranch  string
	EndDate          time.Time
	StartDate        time.Time
	EnrollmentPeriod *int
	Skip             bool
	URL              string
}

// MetadataOptions are the facts of a run that the resolved configuration does not hold.
type MetadataOptions struct {
	AnalysisStartTime time.Time
	// OutcomeCommits maps an outcome slug to the metric-hub commit its file was read at.
	// Jetstream records it from its git checkout; the embedded metric-hub has no history,
	// so a missing entry is written as null (the schema allows it).
	OutcomeCommits map[string]string
	// Publishing is the threshold SuppressPeriod applied to this run's statistics documents
	// and the groups it suppressed; nil when the run applied none. It is copied into
	// Metadata.Publishing.
	Publishing *Publishing
}

// NewMetadata builds the metadata document of an analysed experiment from its resolved
// configuration a, the Experimenter record exp it was resolved against, and the collection c
// it was resolved with (for the outcome files). It returns ErrPrivate for a private
// experiment.
//
// As Jetstream (jetstream/metadata.py):
//   - metrics: every metric of every period, in the order of the periods and of the
//     period's metrics, each once;
//   - outcomes: every outcome applied to the analysis (Experimenter's and the config's);
//   - external_config: only when the config overrides the reference branch, the start or
//     end date, or the enrollment period (metric-config-parser's
//     has_external_config_overrides); then each value that differs from Experimenter's, or
//     null, the config's skip flag and the config's URL.
func NewMetadata(a *configs.Analysis, exp experimenter.Experiment, c *configs.Collection, opts MetadataOptions) (*Metadata, error) {
	if a == nil {
		return nil, errors.New("metadata: no resolved configuration")
	}
	if a.Slug == "" {
		return nil, errors.New("metadata: the resolved configuration has no experiment slug")
	}
	if a.IsPrivate {
		return nil, fmt.Errorf("metadata of %s: %w", a.Slug, ErrPrivate)
	}
	m := &Metadata{AnalysisStartTime: opts.AnalysisStartTime, ExternalConfig: externalConfig(a, exp)}
	if p := opts.Publishing; p != nil {
		m.Publishing = &Publishing{MinClients: p.MinClients, Suppressed: slices.Clone(p.Suppressed)}
	}

	seen := map[string]bool{}
	for _, p := range configs.Periods {
		for _, s := range a.Summaries[p] {
			metric := s.Metric
			if metric == nil || seen[metric.Name] {
				continue
			}
			seen[metric.Name] = true
			friendly := metric.FriendlyName
			if friendly == "" {
				friendly = titleCase(strings.ReplaceAll(metric.Name, "_", " "))
			}
			m.Metrics = append(m.Metrics, MetricMetadata{
				Slug:           metric.Name,
				AnalysisBases:  slices.Clone(metric.AnalysisBases),
				BiggerIsBetter: metric.BiggerIsBetter,
				Description:    metric.Description,
				FriendlyName:   friendly,
			})
		}
	}

	for _, slug := range a.Outcomes {
		if c == nil {
			return nil, fmt.Errorf("metadata of %s: outcome %s: no config collection to read it from", a.Slug, slug)
		}
		o, ok := c.Outcome(a.AppName, slug)
		if !ok {
			return nil, fmt.Errorf("metadata of %s: outcome %s is not in the collection for platform %s (was the analysis resolved with another collection?)", a.Slug, slug, a.AppName)
		}
		m.Outcomes = append(m.Outcomes, OutcomeMetadata{
			Slug:         slug,
			FriendlyName: o.FriendlyName,
			Description:  o.Description,
			Metrics:      o.DefinedMetrics(),
			// Outcome files may name default_metrics (metric-config-parser reads a top-level
			// list), but no metric-hub outcome does, and configs.Parse rejects the key as an
			// unknown top-level key, so a parsed outcome never has any: [] as Jetstream
			// writes for every outcome today.
			DefaultMetrics: []string{},
			CommitHash:     opts.OutcomeCommits[slug],
		})
	}
	return m, nil
}

// externalConfig compares the resolved values with Experimenter's the way
// metric-config-parser's ExperimentConfiguration does. Its enrollment check compares
// "proposed_enrollment" (the config's enrollment_period when set and non-zero, else
// Experimenter's proposedEnrollment) with proposedEnrollment; the value reported is the
// effective enrollment period, which may come from Experimenter's enrollmentEndDate.
func externalConfig(a *configs.Analysis, exp experimenter.Experiment) *ExternalConfig {
	proposed := exp.ProposedEnrollment
	if a.EnrollmentPeriodSource == "config" && a.EnrollmentPeriod != 0 {
		proposed = a.EnrollmentPeriod
	}
	overrides := a.ReferenceBranch != exp.ReferenceBranch ||
		!a.StartDate.Equal(exp.StartDate) ||
		!a.EndDate.Equal(exp.EndDate) ||
		proposed != exp.ProposedEnrollment
	if !overrides {
		return nil
	}
	x := &ExternalConfig{Skip: a.Skip, URL: MetricHubConfigURL + a.Slug + ".toml"}
	if a.ReferenceBranch != exp.ReferenceBranch {
		x.ReferenceBranch = a.ReferenceBranch
	}
	if !a.EndDate.IsZero() && !a.EndDate.Equal(exp.EndDate) {
		x.EndDate = a.EndDate
	}
	if !a.StartDate.IsZero() && !a.StartDate.Equal(exp.StartDate) {
		x.StartDate = a.StartDate
	}
	if a.EnrollmentPeriod != exp.ProposedEnrollment {
		p := a.EnrollmentPeriod
		x.EnrollmentPeriod = &p
	}
	return x
}

// titleCase is Python's str.title(): a cased letter is upper (title) case when it follows
// an uncased character (space, digit, punctuation) and lower case otherwise. So
// "active_in_last_3_days" becomes "Active In Last 3 Days" and "3rd" becomes "3Rd".
func titleCase(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		cased := unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
		switch {
		case cased && !prevCased:
			b.WriteRune(unicode.ToTitle(r))
		case cased:
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		prevCased = cased
	}
	return b.String()
}

// PythonTime renders t in UTC as Python's str() of an aware UTC datetime, the form
// analysis_start_time has in the metadata: "2025-09-10 04:31:12.551234+00:00", the
// microseconds only when non-zero (Python keeps no finer precision).
func PythonTime(t time.Time) string {
	t = t.UTC()
	s := t.Format(time.DateTime)
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// MetadataJSON renders the document as Jetstream's pydantic model writes it: compact, every
// key present in the model's order (analysis_start_time, external_config, metrics, outcomes,
// version_info, version_date, schema_version), null where unset, metrics and outcomes in
// the document's order, dates as YYYY-MM-DD. version_info and version_date are defined by
// the schema but Jetstream never fills them.
func MetadataJSON(m *Metadata) []byte {
	var b bytes.Buffer
	w := objectWriter{b: &b}
	b.WriteByte('{')
	if m.AnalysisStartTime.IsZero() {
		w.raw("analysis_start_time", []byte("null"))
	} else {
		w.str("analysis_start_time", PythonTime(m.AnalysisStartTime))
	}
	w.raw("external_config", externalConfigJSON(m.ExternalConfig))

	w.key("metrics")
	b.WriteByte('{')
	for i, x := range m.Metrics {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, x.Slug)
		b.WriteByte(':')
		mw := objectWriter{b: &b}
		b.WriteByte('{')
		mw.raw("analysis_bases", stringsJSON(x.AnalysisBases))
		mw.raw("bigger_is_better", []byte(strconv.FormatBool(x.BiggerIsBetter)))
		mw.str("description", x.Description)
		mw.str("friendly_name", x.FriendlyName)
		b.WriteByte('}')
	}
	b.WriteByte('}')

	w.key("outcomes")
	b.WriteByte('{')
	for i, o := range m.Outcomes {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, o.Slug)
		b.WriteByte(':')
		ow := objectWriter{b: &b}
		b.WriteByte('{')
		ow.nullable("commit_hash", o.CommitHash)
		ow.raw("default_metrics", stringsJSON(o.DefaultMetrics))
		ow.str("description", o.Description)
		ow.str("friendly_name", o.FriendlyName)
		ow.raw("metrics", stringsJSON(o.Metrics))
		ow.str("slug", o.Slug)
		b.WriteByte('}')
	}
	b.WriteByte('}')

	w.raw("version_info", []byte("null"))
	w.raw("version_date", []byte("null"))
	w.raw("schema_version", []byte(strconv.Itoa(MetadataSchemaVersion)))
	b.WriteByte('}')
	return b.Bytes()
}

func externalConfigJSON(x *ExternalConfig) []byte {
	if x == nil {
		return []byte("null")
	}
	var b bytes.Buffer
	w := objectWriter{b: &b}
	date := func(k string, t time.Time) {
		if t.IsZero() {
			w.raw(k, []byte("null"))
		} else {
			w.str(k, t.UTC().Format(time.DateOnly))
		}
	}
	b.WriteByte('{')
	w.nullable("reference_branch", x.ReferenceBranch)
	date("end_date", x.EndDate)
	date("start_date", x.StartDate)
	if x.EnrollmentPeriod == nil {
		w.raw("enrollment_period", []byte("null"))
	} else {
		w.raw("enrollment_period", []byte(strconv.Itoa(*x.EnrollmentPeriod)))
	}
	w.raw("skip", []byte(strconv.FormatBool(x.Skip)))
	w.str("url", x.URL)
	b.WriteByte('}')
	return b.Bytes()
}

// stringsJSON renders a list of strings; nil is [] (the schema's lists are never null).
func stringsJSON(list []string) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, s)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// MetadataFile is the file name of an experiment's published metadata document, given the
// normalised slug (metadata_<slug>.json).
func MetadataFile(tableSlug string) string { return "metadata_" + tableSlug + ".json" }
