package warehouse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

func init() { Register("bigquery", openBigQuery) }

// EmulatorHostEnv names the variable that points every BigQuery client at an emulator
// (host:port, plain HTTP, no credentials), like the Cloud SDKs' *_EMULATOR_HOST variables.
const EmulatorHostEnv = "BIGQUERY_EMULATOR_HOST"

// bigQueryClient runs SQL on BigQuery (or the emulator). Location of a warehouse URL:
// "PROJECT" or "PROJECT?endpoint=http://host:port&location=US".
type bigQueryClient struct {
	project string
	bq      *bigquery.Client
	// attempts for a job that fails with a transient error (rate limits, backend errors).
	attempts int
	backoff  func(attempt int) time.Duration
	// emulated is set when the client talks to an endpoint of its own (the emulator): the
	// emulator (goccy v0.6.6) ignores CREATE OR REPLACE, so tables are dropped before being
	// replaced there. Against Google's endpoint the replacement is one atomic statement.
	emulated bool
}

// BigQueryLocation renders the location part of a bigquery: warehouse URL.
func BigQueryLocation(project, endpoint string) string {
	if endpoint == "" {
		return project
	}
	return project + "?" + url.Values{"endpoint": {endpoint}}.Encode()
}

func openBigQuery(location string) (Client, error) {
	project, query, _ := strings.Cut(location, "?")
	if project == "" {
		return nil, fmt.Errorf("want bigquery:PROJECT[?endpoint=URL], got no project")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("parameters %q: %w", query, err)
	}
	endpoint := params.Get("endpoint")
	if endpoint == "" {
		if host := os.Getenv(EmulatorHostEnv); host != "" {
			endpoint = "http://" + host
		}
	}
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint), option.WithoutAuthentication())
	}
	bq, err := bigquery.NewClient(context.Background(), project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery client for project %s: %w", project, err)
	}
	if loc := params.Get("location"); loc != "" {
		bq.Location = loc
	}
	return &bigQueryClient{project: project, bq: bq, emulated: endpoint != "", attempts: 3, backoff: func(a int) time.Duration {
		return time.Duration(1<<a) * time.Second
	}}, nil
}

func (c *bigQueryClient) Dialect() Dialect { return BigQuery{Project: c.project} }

// Exec runs a statement (DDL, or a query whose rows are not wanted) and waits for it.
func (c *bigQueryClient) Exec(ctx context.Context, sql string) error {
	_, err := c.run(ctx, c.bq.Query(sql))
	return err
}

// Query runs a query and streams its rows.
func (c *bigQueryClient) Query(ctx context.Context, sql string, fn func([]string, []any) error) error {
	job, err := c.run(ctx, c.bq.Query(sql))
	if err != nil {
		return err
	}
	it, err := job.Read(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: reading the result: %w\nin query:\n%s", err, sql)
	}
	var columns []string
	values := []any{}
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bigquery: reading a row: %w", err)
		}
		if columns == nil {
			for _, f := range it.Schema {
				columns = append(columns, f.Name)
			}
		}
		values = values[:0]
		for _, v := range row {
			values = append(values, goValue(v))
		}
		if err := fn(columns, values); err != nil {
			return err
		}
	}
}

// DryRun validates sql and returns the bytes it would process.
func (c *bigQueryClient) DryRun(ctx context.Context, sql string) (int64, error) {
	q := c.bq.Query(sql)
	q.DryRun = true
	job, err := q.Run(ctx)
	if err != nil {
		return 0, fmt.Errorf("bigquery: dry run: %w\nin query:\n%s", err, sql)
	}
	stats := job.LastStatus().Statistics
	if stats == nil {
		return 0, nil
	}
	return stats.TotalBytesProcessed, nil
}

// EnsureDataset creates the dataset through the API unless it exists (the emulator runs
// no DDL for datasets, and answers a second creation with a 500, not a 409).
func (c *bigQueryClient) EnsureDataset(ctx context.Context, dataset string) error {
	ds := c.bq.Dataset(dataset)
	_, err := ds.Metadata(ctx)
	var apiErr *googleapi.Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &apiErr) || apiErr.Code != http.StatusNotFound:
		return fmt.Errorf("bigquery: dataset %s: %w", dataset, err)
	}
	if err := ds.Create(ctx, nil); err != nil {
		if errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict {
			return nil // created meanwhile by another run
		}
		return fmt.Errorf("bigquery: creating dataset %s: %w", dataset, err)
	}
	return nil
}

func (c *bigQueryClient) TableExists(ctx context.Context, dataset, table string) (bool, error) {
	_, err := c.bq.Dataset(dataset).Table(table).Metadata(ctx)
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bigquery: table %s.%s: %w", dataset, table, err)
	}
	return true, nil
}

func (c *bigQueryClient) ListTables(ctx context.Context, dataset string) ([]string, error) {
	var names []string
	it := c.bq.Dataset(dataset).Tables(ctx)
	for {
		t, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		var apiErr *googleapi.Error
		if errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery: tables of %s: %w", dataset, err)
		}
		names = append(names, t.TableID)
	}
	slices.Sort(names)
	return names, nil
}

// DropTable deletes dataset.table; a missing table is not an error.
func (c *bigQueryClient) DropTable(ctx context.Context, dataset, table string) error {
	// Asked first: the emulator answers some deletes of missing tables with a 500, which
	// the client retries until the context ends.
	exists, err := c.TableExists(ctx, dataset, table)
	if err != nil || !exists {
		return err
	}
	err = c.bq.Dataset(dataset).Table(table).Delete(ctx)
	var apiErr *googleapi.Error
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound) {
		return fmt.Errorf("bigquery: dropping %s.%s: %w", dataset, table, err)
	}
	return nil
}

func (c *bigQueryClient) replacesInPlace() bool { return !c.emulated }

// run starts the job and waits for it, retrying transient failures.
func (c *bigQueryClient) run(ctx context.Context, q *bigquery.Query) (*bigquery.Job, error) {
	var last error
	for attempt := 0; attempt < c.attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(c.backoff(attempt - 1)):
			}
		}
		job, err := q.Run(ctx)
		if err == nil {
			var status *bigquery.JobStatus
			status, err = job.Wait(ctx)
			if err == nil {
				err = status.Err()
			}
			if err == nil {
				return job, nil
			}
		}
		last = err
		if !transient(err) {
			break
		}
	}
	return nil, fmt.Errorf("bigquery: %w\nin query:\n%s", last, q.Q)
}

// transient tells the errors worth retrying: BigQuery's backendError, rateLimitExceeded and
// internalError, and HTTP 5xx/429 answers.
func transient(err error) bool {
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) {
		if apiErr.Code == http.StatusTooManyRequests || apiErr.Code >= 500 {
			return true
		}
		for _, e := range apiErr.Errors {
			switch e.Reason {
			case "backendError", "rateLimitExceeded", "internalError", "jobBackendError":
				return true
			}
		}
	}
	var bqErr *bigquery.Error
	if errors.As(err, &bqErr) {
		switch bqErr.Reason {
		case "backendError", "rateLimitExceeded", "internalError", "jobBackendError":
			return true
		}
	}
	return false
}

// goValue converts a BigQuery value to the Client interface's Go types.
func goValue(v bigquery.Value) any {
	switch x := v.(type) {
	case civil.Date:
		return x.In(time.UTC)
	case civil.DateTime:
		return x.In(time.UTC)
	}
	return v
}
