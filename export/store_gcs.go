package export

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"mime"
	"path"
	"slices"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// GCSStore is a GCS bucket, optionally below a prefix: an object is gs://bucket/prefix/name.
// It is the production home of the published JSON files.
type GCSStore struct {
	client *storage.Client
	bucket string
	prefix string // "" or ending in "/"
	// chunkSize overrides the upload chunk size when non-zero (tests force multi-request
	// uploads with it); zero keeps the client's default (16 MiB, one request below that).
	chunkSize int
}

// parseGCSLocation splits "gs://bucket[/prefix]" and checks both parts, so a typo is reported
// at open time naming the location rather than as an API error at the first write.
func parseGCSLocation(location string) (bucket, prefix string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("store location %q: %s (want gs://bucket or gs://bucket/prefix)", location, why)
	}
	if !strings.HasPrefix(location, "gs://") {
		return bad(`does not start with "gs://"`)
	}
	bucket, prefix, _ = strings.Cut(strings.TrimPrefix(location, "gs://"), "/")
	if bucket == "" {
		return bad("no bucket")
	}
	if why := bucketProblem(bucket); why != "" {
		return bad(fmt.Sprintf("bucket %q: %s", bucket, why))
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		if why := nameProblem(prefix); why != "" {
			return bad(fmt.Sprintf("prefix %q: %s", prefix, why))
		}
		prefix += "/"
	}
	return bucket, prefix, nil
}

// bucketProblem checks GCS's bucket naming rules (lowercase letters, digits, "-", "_" and ".",
// starting and ending with a letter or digit, 3–63 characters, or up to 222 with dots when no
// dot-separated part exceeds 63).
func bucketProblem(b string) string {
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "may only hold lowercase letters, digits, '-', '_' and '.'"
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return "must start and end with a letter or digit"
	}
	if len(b) < 3 {
		return "shorter than 3 characters"
	}
	limit := 63
	if strings.Contains(b, ".") {
		limit = 222
		for part := range strings.SplitSeq(b, ".") {
			if part == "" || len(part) > 63 {
				return "each dot-separated part must hold 1 to 63 characters"
			}
		}
	}
	if len(b) > limit {
		return fmt.Sprintf("longer than %d characters", limit)
	}
	return ""
}

// openGCSStore makes a client the standard way: storage.NewClient talks to the emulator at
// STORAGE_EMULATOR_HOST (without authentication) when that variable is set, and otherwise to
// GCS with Application Default Credentials; nothing here needs to handle either case.
func openGCSStore(ctx context.Context, bucket, prefix string) (*GCSStore, error) {
	client, err := storage.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("gs://%s: %w", bucket, err)
	}
	return NewGCSStore(client, bucket, prefix), nil
}

// NewGCSStore uses an existing client (e.g. one configured by the caller); prefix is "" or
// a folder-like path, with or without the trailing "/". Close closes the client.
func NewGCSStore(client *storage.Client, bucket, prefix string) *GCSStore {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &GCSStore{client: client, bucket: bucket, prefix: prefix}
}

func (s *GCSStore) String() string {
	if s.prefix == "" {
		return "gs://" + s.bucket
	}
	return "gs://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *GCSStore) Close() error { return s.client.Close() }

// object checks name and returns its handle and its gs:// URL for error messages.
func (s *GCSStore) object(name string) (*storage.ObjectHandle, string, error) {
	if err := checkName(s, name); err != nil {
		return nil, "", err
	}
	full := s.prefix + name
	return s.client.Bucket(s.bucket).Object(full), fmt.Sprintf("gs://%s/%s", s.bucket, full), nil
}

// Put is one object upload: GCS makes an object visible only once its upload is complete, so an
// interrupted Put leaves the previous version (or nothing). On a failed Write the upload's
// context is cancelled before Close, which abandons the upload instead of finalising a prefix
// of data. The CRC32C is sent so the server refuses content damaged on the way. Uploads are
// retried on transient errors even without a generation precondition: replacing the whole
// object with the same bytes is idempotent (last writer wins, as in Jetstream's export).
func (s *GCSStore) Put(ctx context.Context, name string, data []byte) error {
	obj, url, err := s.object(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.Retryer(storage.WithPolicy(storage.RetryAlways)).NewWriter(ctx)
	w.ContentType = contentType(name)
	w.CRC32C = crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	w.SendCRC32C = true
	if s.chunkSize != 0 {
		w.ChunkSize = s.chunkSize
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		w.Close()
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", url, gcsError(err))
	}
	return nil
}

// contentType is what browsers and the GCS console show; JSON is fixed rather than taken from
// the mime package, whose answer depends on the machine's mime.types files.
func contentType(name string) string {
	ext := path.Ext(name)
	if ext == ".json" {
		return "application/json"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (s *GCSStore) Get(ctx context.Context, name string) ([]byte, error) {
	obj, url, err := s.object(name)
	if err != nil {
		return nil, err
	}
	r, err := obj.NewReader(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, gcsError(err))
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return data, nil
}

func (s *GCSStore) List(ctx context.Context, prefix string) ([]string, error) {
	q := &storage.Query{Prefix: s.prefix + prefix}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	it := s.client.Bucket(s.bucket).Objects(ctx, q)
	names := []string{}
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing gs://%s/%s: %w", s.bucket, q.Prefix, gcsError(err))
		}
		names = append(names, strings.TrimPrefix(attrs.Name, s.prefix))
	}
	slices.Sort(names) // GCS lists in this order already; the contract should not depend on it
	return names, nil
}

func (s *GCSStore) Delete(ctx context.Context, name string) error {
	obj, url, err := s.object(name)
	if err != nil {
		return err
	}
	if err := obj.Delete(ctx); err != nil {
		return fmt.Errorf("%s: %w", url, gcsError(err))
	}
	return nil
}

// gcsError makes the client's missing-object error also fs.ErrNotExist, so callers check one
// error whatever the store; the client's own error stays reachable through errors.Is and
// errors.As. A missing bucket is left alone: it is a misconfiguration, not an absent object that
// a caller may legitimately ignore (the read API cannot tell them apart, though, so Get in a
// missing bucket is reported as a missing object).
func gcsError(err error) error {
	if errors.Is(err, storage.ErrObjectNotExist) {
		return notFound{err}
	}
	return err
}

type notFound struct{ err error }

func (e notFound) Error() string   { return e.err.Error() }
func (e notFound) Unwrap() []error { return []error{e.err, fs.ErrNotExist} }
