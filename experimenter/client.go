package experimenter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is production Experimenter, the instance Jetstream reads.
const DefaultBaseURL = "https://experimenter.services.mozilla.com"

// Client defaults, mirroring Jetstream's retry_get: three tries, User-Agent "jetstream".
const (
	DefaultTimeout  = 30 * time.Second
	DefaultAttempts = 3
	userAgent       = "jetstream"
	maxBackoff      = 180 * time.Second
)

// ErrNotFound is wrapped by the error for a 404 answer, such as a detail request for a slug
// Experimenter does not know. Test with errors.Is.
var ErrNotFound = errors.New("not found in Experimenter")

// Client reads experiments from Experimenter's v8 API. The zero value is ready to use and
// talks to DefaultBaseURL.
//
// Experimenter is an ordinary web service behind a load balancer: it has brief outages and
// slow moments, and the daily analysis should not be lost to one of them. So every request is
// tried up to Attempts times, pausing Backoff between tries, when the failure looks transient
// (network error, timeout, 5xx, 429). A 4xx other than 429 is the request's own fault and
// would fail the same way again, so it is returned at once.
type Client struct {
	// BaseURL is the Experimenter origin, without a trailing path; default DefaultBaseURL.
	BaseURL string
	// HTTP sends the requests; nil means a client whose Timeout is the per-attempt Timeout.
	HTTP *http.Client
	// Timeout bounds each attempt (connecting, waiting and reading the body); default 30s.
	Timeout time.Duration
	// Attempts is the number of tries per request; default 3.
	Attempts int
	// Backoff is the pause after the failed attempt with 0-based index attempt; default
	// DefaultBackoff. Tests inject a fast one.
	Backoff func(attempt int) time.Duration
	// Now is the clock that decides Live versus Complete; default time.Now. Jetstream uses the
	// wall clock at fetch time, not the analysis date.
	Now func() time.Time
}

// DefaultBackoff is Jetstream's pause after failed attempt i (0-based): min(10^i, 180) seconds,
// that is 1s, 10s, 100s, then 180s. Pauses grow fast because a failing Experimenter usually
// needs minutes, not seconds, to recover, and the daily run has hours to spare.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second
	for range attempt {
		d *= 10
		if d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}

// Experiments reads every published experiment (GET /api/v8/experiments/). Malformed records
// come back as RecordErrors next to the good ones, to be logged rather than to stop the run.
func (c *Client) Experiments(ctx context.Context) ([]Experiment, []RecordError, error) {
	return c.list(ctx, "/api/v8/experiments/")
}

// Drafts reads the draft experiments (GET /api/v8/draft-experiments/), which only previews
// look at: drafts have no start date yet.
func (c *Client) Drafts(ctx context.Context) ([]Experiment, []RecordError, error) {
	return c.list(ctx, "/api/v8/draft-experiments/")
}

// Experiment reads one experiment (GET /api/v8/experiments/<slug>/). A slug Experimenter does
// not know is an error wrapping ErrNotFound; a malformed record is an error too (a
// RecordError), since there is no other record to fall back on.
func (c *Client) Experiment(ctx context.Context, slug string) (Experiment, error) {
	if slug == "" {
		return Experiment{}, errors.New("experiment: empty slug")
	}
	u := c.url("/api/v8/experiments/" + url.PathEscape(slug) + "/")
	body, err := c.get(ctx, u)
	if err != nil {
		return Experiment{}, fmt.Errorf("experiment %q: %w", slug, err)
	}
	if err := wantJSON(body, '{', "an object"); err != nil {
		return Experiment{}, fmt.Errorf("experiment %q: GET %s: %w", slug, u, err)
	}
	exps, err := Parse(body, c.now())
	if err != nil {
		return Experiment{}, fmt.Errorf("experiment %q: GET %s: %w", slug, u, err)
	}
	return exps[0], nil
}

func (c *Client) list(ctx context.Context, path string) ([]Experiment, []RecordError, error) {
	u := c.url(path)
	body, err := c.get(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	// A list endpoint answering with an object (an error document, say) must not be taken
	// for a single experiment.
	if err := wantJSON(body, '[', "an array"); err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	exps, rejected, err := ParseList(body, c.now())
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return exps, rejected, nil
}

// wantJSON checks that a 200 body is JSON of the expected kind. Proxies and maintenance pages
// answer 200 with HTML; saying so beats a JSON syntax error at some offset.
func wantJSON(body []byte, first byte, kind string) error {
	if !json.Valid(body) {
		return fmt.Errorf("response is not JSON: %s", excerpt(body))
	}
	trimmed := strings.TrimSpace(string(body))
	if trimmed[0] != first {
		return fmt.Errorf("response is JSON but not %s: %s", kind, excerpt(body))
	}
	return nil
}

// get fetches u, retrying transient failures. The error names the URL; after retries it also
// gives the number of attempts and the last status or cause.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	attempts := c.attempts()
	var last error
	for i := range attempts {
		if i > 0 {
			if err := sleep(ctx, c.backoff(i-1)); err != nil {
				return nil, fmt.Errorf("GET %s: %w after %s, last: %w", u, err, plural(i, "attempt"), last)
			}
		}
		body, retry, err := c.try(ctx, u)
		if err == nil {
			return body, nil
		}
		if !retry {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		last = err
	}
	return nil, fmt.Errorf("GET %s: %s, last: %w", u, plural(attempts, "attempt"), last)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// try makes one attempt and says whether its failure is worth retrying. Any transport failure
// (refused connection, reset, DNS, timeout, truncated body) may go away on its own, unless it
// is the caller's context that ended: then nobody wants the answer any more.
func (c *Client) try(ctx context.Context, u string) (body []byte, retry bool, err error) {
	timeout := c.timeout()
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, c.describe(ctx, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("%s, reading body: %w", resp.Status, c.describe(ctx, err))
	}
	if resp.StatusCode != http.StatusOK {
		err := &statusError{code: resp.StatusCode, status: resp.Status, body: excerpt(body)}
		return nil, err.transient(), err
	}
	return body, false, nil
}

// describe turns a transport error into a message without the URL (get adds it once) and
// says "timed out" plainly, since the standard errors for it vary with where the time ran out.
func (c *Client) describe(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("timed out after %s: %w", c.timeout(), err)
	}
	return err
}

// statusError is a response other than 200 OK.
type statusError struct {
	code   int
	status string // "503 Service Unavailable"
	body   string // excerpt, for the server's explanation of a 4xx
}

func (e *statusError) Error() string {
	if e.body == "" {
		return e.status
	}
	return e.status + ": " + e.body
}

// Is makes errors.Is(err, ErrNotFound) hold for a 404.
func (e *statusError) Is(target error) bool {
	return target == ErrNotFound && e.code == http.StatusNotFound
}

// transient: server errors and rate limiting may pass; other answers would repeat.
func (e *statusError) transient() bool {
	return e.code >= 500 || e.code == http.StatusTooManyRequests
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) url(path string) string {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return strings.TrimRight(base, "/") + path
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: c.timeout()}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) attempts() int {
	if c.Attempts > 0 {
		return c.Attempts
	}
	return DefaultAttempts
}

func (c *Client) backoff(attempt int) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
