package experimenter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeExperimenter serves the fixture payloads at Experimenter's paths and records what it
// was asked.
type fakeExperimenter struct {
	t          *testing.T
	mu         sync.Mutex
	paths      []string
	userAgents []string
}

func (f *fakeExperimenter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.userAgents = append(f.userAgents, r.UserAgent())
	f.mu.Unlock()
	file, status := "", http.StatusOK
	switch p := r.URL.Path; {
	case p == "/api/v8/experiments/":
		file = "api_v8_experiments.json"
	case p == "/api/v8/draft-experiments/":
		file = "api_v8_draft_experiments.json"
	case p == "/api/v8/experiments/vertical-tabs-sidebar-launch/":
		file = "api_v8_experiment_detail.json"
	default:
		file, status = "api_v8_not_found.json", http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(readFixture(f.t, file))
}

// serve starts h and returns a client for it with a fast backoff and the fixture clock.
func serve(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{
		BaseURL: srv.URL,
		Timeout: 5 * time.Second,
		Backoff: func(int) time.Duration { return 0 },
		Now:     func() time.Time { return fixtureClock },
	}
}

// counting serves the responses in turn (the last one repeats) and counts requests.
func counting(responses ...func(http.ResponseWriter, *http.Request)) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		responses[min(i, len(responses)-1)](w, r)
	}), &n
}

func respond(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

func fixture(t *testing.T, name string) func(http.ResponseWriter, *http.Request) {
	data := readFixture(t, name)
	return func(w http.ResponseWriter, r *http.Request) { w.Write(data) }
}

func TestClientExperiments(t *testing.T) {
	fake := &fakeExperimenter{t: t}
	c := serve(t, fake)
	exps, rejected, err := c.Experiments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, wantRejected, _ := ParseList(readFixture(t, "api_v8_experiments.json"), fixtureClock)
	if len(exps) != 12 || !reflect.DeepEqual(exps, want) || !reflect.DeepEqual(rejected, wantRejected) {
		t.Errorf("got %d experiments and %v; want the fixture's 12 and its rejected record", len(exps), rejected)
	}
	if len(rejected) != 1 || rejected[0].Slug != "broken-types-experiment" {
		t.Errorf("rejected %v", rejected)
	}
	// The injected clock decides the status: ended 2025-09-09, read on 2025-09-10.
	i := slices.IndexFunc(exps, func(e Experiment) bool { return e.Slug == "search-trending-suggestions-3way" })
	if i < 0 || exps[i].Status != StatusComplete {
		t.Errorf("search-trending-suggestions-3way not Complete: %+v", exps)
	}
	if !slices.Equal(fake.paths, []string{"/api/v8/experiments/"}) || !slices.Equal(fake.userAgents, []string{"jetstream"}) {
		t.Errorf("requests %v with User-Agent %v", fake.paths, fake.userAgents)
	}
}

func TestClientDrafts(t *testing.T) {
	fake := &fakeExperimenter{t: t}
	exps, rejected, err := serve(t, fake).Drafts(context.Background())
	if err != nil || len(rejected) != 0 {
		t.Fatal(err, rejected)
	}
	if len(exps) != 1 || exps[0].Slug != "draft-new-profile-onboarding" || !exps[0].StartDate.IsZero() || exps[0].Status != StatusLive {
		t.Errorf("got %+v", exps)
	}
	if !slices.Equal(fake.paths, []string{"/api/v8/draft-experiments/"}) {
		t.Errorf("requests %v", fake.paths)
	}
}

func TestClientExperimentDetail(t *testing.T) {
	fake := &fakeExperimenter{t: t}
	e, err := serve(t, fake).Experiment(context.Background(), "vertical-tabs-sidebar-launch")
	if err != nil {
		t.Fatal(err)
	}
	if e.Slug != "vertical-tabs-sidebar-launch" || e.EnrollmentPeriod() != 10 || e.AnalysisUnit() != "profile_group_id" || e.Status != StatusLive {
		t.Errorf("got %+v", e)
	}
	if !slices.Equal(fake.paths, []string{"/api/v8/experiments/vertical-tabs-sidebar-launch/"}) {
		t.Errorf("requests %v", fake.paths)
	}
}

// Experimenter answers an unknown slug with 404 and {"detail": "No NimbusExperiment matches
// the given query."}: ErrNotFound, asked once.
func TestClientExperimentNotFound(t *testing.T) {
	fake := &fakeExperimenter{t: t}
	_, err := serve(t, fake).Experiment(context.Background(), "no-such-experiment")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v does not wrap ErrNotFound", err)
	}
	for _, part := range []string{`experiment "no-such-experiment"`, "/api/v8/experiments/no-such-experiment/: 404 Not Found", "No NimbusExperiment matches"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
	if len(fake.paths) != 1 {
		t.Errorf("%d requests, want 1: a 404 is not retried", len(fake.paths))
	}
}

// Transient failures are retried and the next good answer is used.
func TestClientRetriesTransientFailures(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}
	tests := []struct {
		name  string
		first func(http.ResponseWriter, *http.Request)
	}{
		{"503", respond(http.StatusServiceUnavailable, "try later")},
		{"500", respond(http.StatusInternalServerError, "")},
		{"429", respond(http.StatusTooManyRequests, "slow down")},
		{"connection closed", hangUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n := counting(tt.first, fixture(t, "api_v8_experiments.json"))
			var pauses []int
			c := serve(t, h)
			c.Backoff = func(attempt int) time.Duration { pauses = append(pauses, attempt); return 0 }
			exps, rejected, err := c.Experiments(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(exps) != 12 || len(rejected) != 1 {
				t.Errorf("got %d experiments, %d rejected; want 12 and 1", len(exps), len(rejected))
			}
			if n.Load() != 2 || !slices.Equal(pauses, []int{0}) {
				t.Errorf("%d requests with pauses %v, want 2 requests and one pause after attempt 0", n.Load(), pauses)
			}
		})
	}
}

// A server that keeps failing is asked exactly Attempts times; the error says what happened.
func TestClientGivesUp(t *testing.T) {
	h, n := counting(respond(http.StatusInternalServerError, "boom"))
	c := serve(t, h)
	c.Attempts = 4
	var pauses []int
	c.Backoff = func(attempt int) time.Duration { pauses = append(pauses, attempt); return time.Millisecond }
	_, _, err := c.Experiments(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	want := "GET " + c.BaseURL + "/api/v8/experiments/: 4 attempts, last: 500 Internal Server Error: boom"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if n.Load() != 4 || !slices.Equal(pauses, []int{0, 1, 2}) {
		t.Errorf("%d requests, pauses %v; want 4 requests and pauses after attempts 0, 1, 2", n.Load(), pauses)
	}
}

// An attempt that outlives Timeout is abandoned and retried; the final error says it timed out.
func TestClientTimeout(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the client gave up
		case <-time.After(5 * time.Second):
		}
	})
	c := serve(t, h)
	c.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, _, err := c.Experiments(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	prefix := "GET " + c.BaseURL + "/api/v8/experiments/: 3 attempts, last: timed out after 50ms"
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q\nwant it to start with %q", err, prefix)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3", n.Load())
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %s; the per-attempt timeout was not applied", elapsed)
	}
}

// A 4xx other than 429 is the request's fault and would repeat: one request, no retry.
func TestClientDoesNotRetryClientErrors(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		h, n := counting(respond(code, `{"detail": "nope"}`))
		c := serve(t, h)
		_, _, err := c.Experiments(context.Background())
		want := fmt.Sprintf(`GET %s/api/v8/experiments/: %d %s: {"detail":"nope"}`, c.BaseURL, code, http.StatusText(code))
		if err == nil || err.Error() != want {
			t.Errorf("%d: error %v\nwant %s", code, err, want)
		}
		if n.Load() != 1 {
			t.Errorf("%d: %d requests, want 1", code, n.Load())
		}
		if got := errors.Is(err, ErrNotFound); got != (code == http.StatusNotFound) {
			t.Errorf("%d: errors.Is(err, ErrNotFound) = %v", code, got)
		}
	}
}

// A 200 that is not the JSON the endpoint promises is a clear error, not retried.
func TestClientRejectsUnexpectedBodies(t *testing.T) {
	tests := []struct {
		name, body, want string
		call             func(*Client) error
	}{
		{"html list", "<html><body>Maintenance</body></html>", "response is not JSON: <html><body>Maintenance</body></html>",
			func(c *Client) error { _, _, err := c.Experiments(context.Background()); return err }},
		{"object for a list", `{"detail": "oops"}`, `response is JSON but not an array: {"detail":"oops"}`,
			func(c *Client) error { _, _, err := c.Drafts(context.Background()); return err }},
		{"truncated detail", `{"slug": "x", `, `response is not JSON: {"slug": "x",`,
			func(c *Client) error { _, err := c.Experiment(context.Background(), "x"); return err }},
		{"list for a detail", `[]`, `response is JSON but not an object: []`,
			func(c *Client) error { _, err := c.Experiment(context.Background(), "x"); return err }},
		{"malformed detail", `{"slug": "x"}`, `experiment record 0 ("x"): branches: missing`,
			func(c *Client) error { _, err := c.Experiment(context.Background(), "x"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n := counting(respond(http.StatusOK, tt.body))
			err := tt.call(serve(t, h))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tt.want)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests, want 1", n.Load())
			}
		})
	}
}

// Cancelling the context ends the wait between attempts at once.
func TestClientCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, n := counting(respond(http.StatusServiceUnavailable, ""))
	c := serve(t, h)
	c.Backoff = func(int) time.Duration {
		time.AfterFunc(20*time.Millisecond, cancel) // while the client waits
		return time.Hour
	}
	start := time.Now()
	_, _, err := c.Experiments(ctx)
	want := "GET " + c.BaseURL + "/api/v8/experiments/: context canceled after 1 attempt, last: 503 Service Unavailable"
	if !errors.Is(err, context.Canceled) || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second || n.Load() != 1 {
		t.Errorf("%d requests in %s; want 1 and a prompt return", n.Load(), elapsed)
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 10 * time.Second, 100 * time.Second, 180 * time.Second, 180 * time.Second}
	for i, w := range want {
		if got := DefaultBackoff(i); got != w {
			t.Errorf("DefaultBackoff(%d) = %s, want %s", i, got, w)
		}
	}
	if got := DefaultBackoff(60); got != 180*time.Second {
		t.Errorf("DefaultBackoff(60) = %s, want the 180s cap", got)
	}
}

// The zero Client reads production Experimenter with Jetstream's settings.
func TestClientDefaults(t *testing.T) {
	var c Client
	if got := c.url("/api/v8/experiments/"); got != "https://experimenter.services.mozilla.com/api/v8/experiments/" {
		t.Errorf("url %s", got)
	}
	if c.attempts() != 3 || c.timeout() != 30*time.Second || c.backoff(1) != 10*time.Second || c.httpClient().Timeout != 30*time.Second {
		t.Errorf("attempts %d, timeout %s, backoff(1) %s", c.attempts(), c.timeout(), c.backoff(1))
	}
	c.BaseURL = "http://localhost:8080/"
	if got := c.url("/api/v8/experiments/a%2Fb/"); got != "http://localhost:8080/api/v8/experiments/a%2Fb/" {
		t.Errorf("url %s", got)
	}
}
