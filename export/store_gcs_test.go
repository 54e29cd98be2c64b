package export

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

const testBucket = "jetstream-test"

// newFakeGCS starts fake-gcs-server in this process, over plain HTTP on the loopback, with
// testBucket created, and points STORAGE_EMULATOR_HOST at it: stores are then made by OpenStore
// exactly as in production, and the tests check that the client really honours the variable.
func newFakeGCS(t *testing.T) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	return srv
}

// openGCS opens location through OpenStore, with a small upload chunk so that objects above
// 256 KiB take a multi-request resumable upload (the client's minimum chunk).
func openGCS(t *testing.T, location string) *GCSStore {
	t.Helper()
	s, err := OpenStore(t.Context(), location)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := s.(*GCSStore)
	if !ok {
		t.Fatalf("OpenStore(%q) = %T, want *GCSStore", location, s)
	}
	g.chunkSize = 256 << 10
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return g
}

func TestGCSStoreBehaviour(t *testing.T) {
	for _, location := range []string{"gs://" + testBucket, "gs://" + testBucket + "/jetstream/v1"} {
		t.Run(location, func(t *testing.T) {
			runStoreBehaviour(t, func(t *testing.T) Store {
				newFakeGCS(t)
				return openGCS(t, location)
			})
		})
	}
}

// The objects land in the emulator's bucket under the location's prefix, with a JSON content
// type; stores at other prefixes of the same bucket do not see each other's objects.
func TestGCSStoreEmulatorAndPrefix(t *testing.T) {
	srv := newFakeGCS(t)
	s := openGCS(t, "gs://"+testBucket+"/jetstream/v1/")
	mustPut(t, s, "statistics/statistics_my_exp_weekly.json", []byte(`[{"point":1}]`))

	obj, err := srv.GetObject(testBucket, "jetstream/v1/statistics/statistics_my_exp_weekly.json")
	if err != nil {
		t.Fatalf("object not in the emulator under the prefix: %v", err)
	}
	if string(obj.Content) != `[{"point":1}]` || obj.ContentType != "application/json" {
		t.Fatalf("emulator holds %q (%s), want the JSON put with type application/json", obj.Content, obj.ContentType)
	}

	// An object written by someone else (e.g. a previous run) is read through the store.
	srv.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: testBucket, Name: "jetstream/v1/metadata/metadata_my_exp.json"},
		Content:     []byte(`{"metrics":{}}`),
	})
	if got := mustGet(t, s, "metadata/metadata_my_exp.json"); string(got) != `{"metrics":{}}` {
		t.Fatalf("Get = %q", got)
	}

	parent := openGCS(t, "gs://"+testBucket+"/jetstream")
	if got, want := mustList(t, parent, ""), []string{"v1/metadata/metadata_my_exp.json", "v1/statistics/statistics_my_exp_weekly.json"}; !slices.Equal(got, want) {
		t.Fatalf("List at the parent prefix = %q, want %q", got, want)
	}
	// "jetstream/v" is a string prefix of "jetstream/v1/…", but not a folder of it.
	sibling := openGCS(t, "gs://"+testBucket+"/jetstream/v")
	if got := mustList(t, sibling, ""); len(got) != 0 {
		t.Fatalf("List at gs://%s/jetstream/v = %q, want nothing", testBucket, got)
	}
	if _, err := sibling.Get(t.Context(), "1/statistics/statistics_my_exp_weekly.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get across prefixes: error = %v, want fs.ErrNotExist", err)
	}
}

// A Put interrupted after part of its upload reached the server leaves the previous version
// readable, and a new name absent: GCS (and the emulator) only create the object when the
// upload completes.
func TestGCSStoreInterruptedPut(t *testing.T) {
	// The emulator behind a hook that cancels the writer's context once the first chunk of a
	// resumable upload has been accepted. The fake server must know its external URL, since the
	// upload session URL it returns is where the client sends the next chunks.
	var fake *fakestorage.Server
	var cancelUpload atomic.Value // context.CancelFunc of the upload in flight
	var chunks atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.HTTPHandler().ServeHTTP(w, r)
		if r.URL.Query().Get("upload_id") != "" { // a chunk of a resumable upload session
			chunks.Add(1)
			if cancel, ok := cancelUpload.Load().(context.CancelFunc); ok {
				cancel()
			}
		}
	}))
	t.Cleanup(ts.Close)
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true, ExternalURL: ts.URL, PublicHost: "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	t.Setenv("STORAGE_EMULATOR_HOST", ts.URL)
	s := openGCS(t, "gs://"+testBucket+"/jetstream")

	const name = "statistics/statistics_my_exp_overall.json"
	old := []byte(`{"version":1}`)
	mustPut(t, s, name, old) // below the chunk size: one request, no hook
	if n := chunks.Load(); n != 0 {
		t.Fatalf("a small Put took %d chunk requests, want a single-request upload", n)
	}

	for _, target := range []string{name, "statistics/statistics_my_exp_weekly.json"} {
		chunks.Store(0)
		ctx, cancel := context.WithCancel(t.Context())
		cancelUpload.Store(context.CancelFunc(cancel))
		err := s.Put(ctx, target, randomBytes(1<<20))
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Put(%q): error = %v, want context.Canceled", target, err)
		}
		if !strings.Contains(err.Error(), "gs://"+testBucket+"/jetstream/"+target) {
			t.Errorf("error %q does not name the object", err)
		}
		if n := chunks.Load(); n < 1 || n >= 4 {
			t.Fatalf("the server received %d of the 4 chunks before the cancel, want a partial upload", n)
		}
	}
	cancelUpload.Store(context.CancelFunc(func() {}))

	if got := mustGet(t, s, name); !bytes.Equal(got, old) {
		t.Fatalf("after an interrupted overwrite Get = %d bytes, want the previous version %q", len(got), old)
	}
	if _, err := s.Get(t.Context(), "statistics/statistics_my_exp_weekly.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after an interrupted first write Get: error = %v, want fs.ErrNotExist", err)
	}
	if got := mustList(t, s, ""); !slices.Equal(got, []string{name}) {
		t.Fatalf("List = %q, want only %q", got, name)
	}
	// The store still works once nothing interrupts it.
	big := randomBytes(1 << 20)
	mustPut(t, s, name, big)
	if got := mustGet(t, s, name); !bytes.Equal(got, big) {
		t.Fatal("a complete multi-chunk Put did not replace the object")
	}
}

// A missing bucket is an error naming the object, not a missing object that a caller would
// ignore.
func TestGCSStoreMissingBucket(t *testing.T) {
	newFakeGCS(t)
	s := openGCS(t, "gs://no-such-bucket/jetstream")
	err := s.Put(t.Context(), "errors/errors_my_exp.json", []byte("{}"))
	if err == nil {
		t.Fatal("Put into a missing bucket succeeded")
	}
	if !strings.Contains(err.Error(), "gs://no-such-bucket/jetstream/errors/errors_my_exp.json") {
		t.Errorf("error %q does not name the object", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Put into a missing bucket reported as a missing object: %v", err)
	}
	if _, err := s.List(t.Context(), ""); err == nil || !strings.Contains(err.Error(), "gs://no-such-bucket/jetstream/") {
		t.Errorf("List in a missing bucket: error = %v, want one naming the location", err)
	}
}
