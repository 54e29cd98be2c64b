package export

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// storeBehaviour is the contract of Store, run against every implementation that keeps data
// (LocalStore here, GCSStore against the fake server in store_gcs_test.go): the exporters must
// not be able to tell them apart.
var storeBehaviour = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"put then get", func(t *testing.T, s Store) {
		const name = "statistics/statistics_my_exp_weekly.json"
		want := []byte(`[{"metric":"active_hours","statistic":"mean","point":1.5}]`)
		mustPut(t, s, name, want)
		if got := mustGet(t, s, name); !bytes.Equal(got, want) {
			t.Fatalf("Get = %q, want %q", got, want)
		}
	}},
	{"overwrite replaces the whole object", func(t *testing.T, s Store) {
		const name = "metadata/metadata_my_exp.json"
		mustPut(t, s, name, []byte(`{"version": 1, "long": "xxxxxxxxxxxxxxxxxxxx"}`))
		mustPut(t, s, name, []byte(`{"version": 2}`))
		if got := mustGet(t, s, name); string(got) != `{"version": 2}` {
			t.Fatalf("Get after overwrite = %q, want the second content only", got)
		}
		if got := mustList(t, s, ""); !slices.Equal(got, []string{name}) {
			t.Fatalf("List after overwrite = %q, want only %q", got, name)
		}
	}},
	{"empty object", func(t *testing.T, s Store) {
		mustPut(t, s, "errors/errors_my_exp.json", nil)
		got, err := s.Get(t.Context(), "errors/errors_my_exp.json")
		if err != nil || len(got) != 0 {
			t.Fatalf("Get = %q, %v; want empty content and no error", got, err)
		}
	}},
	{"large binary object", func(t *testing.T, s Store) {
		// Larger than the chunk size the GCS tests set, so GCS takes a multi-request upload.
		want := randomBytes(1<<20 + 17)
		mustPut(t, s, "statistics/big.bin", want)
		if got := mustGet(t, s, "statistics/big.bin"); !bytes.Equal(got, want) {
			t.Fatalf("Get returned %d bytes differing from the %d put", len(got), len(want))
		}
	}},
	{"names with spaces and non-ASCII", func(t *testing.T, s Store) {
		const name = "statistics/é ü/statistics_x y.json"
		mustPut(t, s, name, []byte("1"))
		if got := mustGet(t, s, name); string(got) != "1" {
			t.Fatalf("Get = %q, want %q", got, "1")
		}
		if got := mustList(t, s, "statistics/é"); !slices.Equal(got, []string{name}) {
			t.Fatalf("List = %q, want [%q]", got, name)
		}
	}},
	{"get missing", func(t *testing.T, s Store) {
		mustPut(t, s, "statistics/statistics_other_daily.json", []byte("{}"))
		for _, name := range []string{"statistics/statistics_my_exp_daily.json", "statistics", "nothing/here.json"} {
			_, err := s.Get(t.Context(), name)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Get(%q) error = %v, want fs.ErrNotExist", name, err)
			}
			if !strings.Contains(err.Error(), s.String()) || !strings.Contains(err.Error(), name) {
				t.Errorf("Get(%q) error %q does not name the store %q and the object", name, err, s)
			}
		}
	}},
	{"list by prefix", func(t *testing.T, s Store) {
		names := []string{
			"statistics/statistics_my_exp_weekly.json",
			"statistics/statistics_my_exp_daily.json",
			"statistics/statistics_my_exp_overall.json",
			"statistics/statistics_other_daily.json",
			"metadata/metadata_my_exp.json",
			"errors/errors_my_exp.json",
			"statistics.json",
		}
		for _, n := range names {
			mustPut(t, s, n, []byte(n))
		}
		for prefix, want := range map[string][]string{
			"": {"errors/errors_my_exp.json", "metadata/metadata_my_exp.json", "statistics.json",
				"statistics/statistics_my_exp_daily.json", "statistics/statistics_my_exp_overall.json",
				"statistics/statistics_my_exp_weekly.json", "statistics/statistics_other_daily.json"},
			"statistics/statistics_my_exp_": {"statistics/statistics_my_exp_daily.json",
				"statistics/statistics_my_exp_overall.json", "statistics/statistics_my_exp_weekly.json"},
			"statistics/": {"statistics/statistics_my_exp_daily.json", "statistics/statistics_my_exp_overall.json",
				"statistics/statistics_my_exp_weekly.json", "statistics/statistics_other_daily.json"},
			// A prefix need not end at a "/": it matches files and folders alike.
			"stat": {"statistics.json", "statistics/statistics_my_exp_daily.json",
				"statistics/statistics_my_exp_overall.json", "statistics/statistics_my_exp_weekly.json",
				"statistics/statistics_other_daily.json"},
			"metadata/metadata_my_exp.json":  {"metadata/metadata_my_exp.json"},
			"metadata/metadata_my_exp.jsonx": {},
			"nothing/":                       {},
			"../":                            {},
			"/statistics":                    {},
		} {
			if got := mustList(t, s, prefix); !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
	}},
	{"delete", func(t *testing.T, s Store) {
		mustPut(t, s, "errors/errors_a.json", []byte("a"))
		mustPut(t, s, "errors/errors_b.json", []byte("b"))
		if err := s.Delete(t.Context(), "errors/errors_a.json"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(t.Context(), "errors/errors_a.json"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get after Delete: error = %v, want fs.ErrNotExist", err)
		}
		if got := mustList(t, s, "errors/"); !slices.Equal(got, []string{"errors/errors_b.json"}) {
			t.Fatalf("List after Delete = %q, want only errors/errors_b.json", got)
		}
		if got := mustGet(t, s, "errors/errors_b.json"); string(got) != "b" {
			t.Fatalf("the other object changed: %q", got)
		}
		for _, name := range []string{"errors/errors_a.json", "errors"} {
			err := s.Delete(t.Context(), name)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Delete(%q) of a missing object: error = %v, want fs.ErrNotExist", name, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("Delete(%q) error %q does not name the object", name, err)
			}
		}
	}},
	{"invalid names are refused", func(t *testing.T, s Store) {
		for _, name := range []string{"", "/statistics/a.json", "statistics/", "statistics//a.json",
			"../a.json", "statistics/../../a.json", "./a.json", ".hidden.json", "statistics/.a.json.tmp-1",
			`statistics\a.json`, "a\nb.json", strings.Repeat("x", 1025)} {
			if err := s.Put(t.Context(), name, []byte("x")); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Put(%q) error = %v, want fs.ErrInvalid", name, err)
			}
			if _, err := s.Get(t.Context(), name); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Get(%q) error = %v, want fs.ErrInvalid", name, err)
			}
			if err := s.Delete(t.Context(), name); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Delete(%q) error = %v, want fs.ErrInvalid", name, err)
			}
		}
		if got := mustList(t, s, ""); len(got) != 0 {
			t.Fatalf("refused names left objects: %q", got)
		}
	}},
	{"cancelled context writes nothing", func(t *testing.T, s Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Put(ctx, "statistics/statistics_my_exp_daily.json", []byte("{}"))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context: error = %v, want context.Canceled", err)
		}
		if _, err := s.Get(t.Context(), "statistics/statistics_my_exp_daily.json"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get after a cancelled Put: error = %v, want fs.ErrNotExist", err)
		}
	}},
}

func runStoreBehaviour(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range storeBehaviour {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

func mustPut(t *testing.T, s Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), name, data); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func mustGet(t *testing.T, s Store, name string) []byte {
	t.Helper()
	data, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return data
}

func mustList(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	names, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return names
}

// randomBytes is deterministic, so a failure reproduces.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1, 2, 3}).Read(b)
	return b
}

func TestLocalStoreBehaviour(t *testing.T) {
	runStoreBehaviour(t, func(t *testing.T) Store {
		// A folder that does not exist yet: the first Put creates it.
		s, err := OpenStore(t.Context(), filepath.Join(t.TempDir(), "output", "published"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// A crashed Put leaves its temporary file beside the target: it must be invisible, and the
// published file must keep its previous content.
func TestLocalStoreIgnoresTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	s, err := NewLocalStore(root)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "statistics/statistics_my_exp_daily.json", []byte("v1"))
	leftover := filepath.Join(root, "statistics", ".statistics_my_exp_daily.json.tmp-123")
	if err := os.WriteFile(leftover, []byte("v2, half writ"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustList(t, s, ""); !slices.Equal(got, []string{"statistics/statistics_my_exp_daily.json"}) {
		t.Fatalf("List = %q, want only the published file", got)
	}
	if got := mustGet(t, s, "statistics/statistics_my_exp_daily.json"); string(got) != "v1" {
		t.Fatalf("Get = %q, want v1", got)
	}
	mustPut(t, s, "statistics/statistics_my_exp_daily.json", []byte("v2"))
	entries, err := os.ReadDir(filepath.Join(root, "statistics"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	// The successful Put left no temporary file of its own (only the planted one remains).
	if want := []string{".statistics_my_exp_daily.json.tmp-123", "statistics_my_exp_daily.json"}; !slices.Equal(files, want) {
		t.Fatalf("folder holds %q, want %q", files, want)
	}
	info, err := os.Stat(filepath.Join(root, "statistics", "statistics_my_exp_daily.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Fatalf("published file mode %v, want -rw-r--r-- (readable by whoever serves the folder)", info.Mode().Perm())
	}
}

// A Put that fails after writing its temporary file (here: the rename, because a non-empty
// folder has the target's name) removes that file and reports the target.
func TestLocalStoreFailedPutCleansUp(t *testing.T) {
	root := t.TempDir()
	s, err := NewLocalStore(root)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "statistics/statistics_my_exp_daily.json/blocker", []byte("x"))
	err = s.Put(t.Context(), "statistics/statistics_my_exp_daily.json", []byte("v1"))
	if err == nil {
		t.Fatal("Put over a non-empty folder succeeded")
	}
	target := filepath.Join(root, "statistics", "statistics_my_exp_daily.json")
	if !strings.Contains(err.Error(), target) {
		t.Errorf("error %q does not name %s", err, target)
	}
	entries, err := os.ReadDir(filepath.Join(root, "statistics"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "statistics_my_exp_daily.json" || !entries[0].IsDir() {
		t.Fatalf("folder holds %v, want only the blocking folder (temporary file removed)", entries)
	}
}

func TestDiscard(t *testing.T) {
	s, err := OpenStore(t.Context(), "none")
	if err != nil {
		t.Fatal(err)
	}
	if !IsDiscard(s) || s.String() != "none" {
		t.Fatalf("OpenStore(none) = %T %q, want Discard", s, s)
	}
	mustPut(t, s, "statistics/statistics_my_exp_daily.json", []byte("{}"))
	if _, err := s.Get(t.Context(), "statistics/statistics_my_exp_daily.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get from Discard: error = %v, want fs.ErrNotExist", err)
	}
	if got := mustList(t, s, ""); len(got) != 0 {
		t.Fatalf("List from Discard = %q, want nothing", got)
	}
	if err := s.Delete(t.Context(), "statistics/statistics_my_exp_daily.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Delete from Discard: error = %v, want fs.ErrNotExist", err)
	}
	// Names are still checked, so a bug shows up with export off too.
	if err := s.Put(t.Context(), "../x.json", nil); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("Put(../x.json) to Discard: error = %v, want fs.ErrInvalid", err)
	}
	local, err := NewLocalStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if IsDiscard(local) {
		t.Fatal("IsDiscard(LocalStore) = true")
	}
}

func TestOpenStoreLocations(t *testing.T) {
	// Opening a GCS store builds a client; point it at a closed local port so that no test ever
	// looks for real credentials (nothing is sent: opening does not contact the server).
	t.Setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
	dir := t.TempDir()
	file := filepath.Join(dir, "file.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		location, bucket, prefix, str string
	}{
		{"gs://moz-fx-data-experiments", "moz-fx-data-experiments", "", "gs://moz-fx-data-experiments"},
		{"gs://moz-fx-data-experiments/", "moz-fx-data-experiments", "", "gs://moz-fx-data-experiments"},
		{"gs://my_bucket.example.com/jetstream/v1/", "my_bucket.example.com", "jetstream/v1/", "gs://my_bucket.example.com/jetstream/v1"},
		{"gs://abc/p", "abc", "p/", "gs://abc/p"},
	} {
		s, err := OpenStore(t.Context(), c.location)
		if err != nil {
			t.Fatalf("OpenStore(%q): %v", c.location, err)
		}
		g, ok := s.(*GCSStore)
		if !ok {
			t.Fatalf("OpenStore(%q) = %T, want *GCSStore", c.location, s)
		}
		if g.bucket != c.bucket || g.prefix != c.prefix || g.String() != c.str {
			t.Errorf("OpenStore(%q) = bucket %q prefix %q %q, want %q %q %q", c.location, g.bucket, g.prefix, g, c.bucket, c.prefix, c.str)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}

	for location, want := range map[string]string{
		filepath.Join(dir, "out"):       filepath.Join(dir, "out"),
		filepath.Join(dir, "out") + "/": filepath.Join(dir, "out"),
		dir + "/./a/../b":               filepath.Join(dir, "b"),
	} {
		s, err := OpenStore(t.Context(), location)
		if err != nil {
			t.Fatalf("OpenStore(%q): %v", location, err)
		}
		if _, ok := s.(*LocalStore); !ok || s.String() != want {
			t.Errorf("OpenStore(%q) = %T %q, want *LocalStore %q", location, s, s, want)
		}
	}

	for location, why := range map[string]string{
		"":                                "empty store location",
		"gs://":                           "no bucket",
		"gs:///jetstream":                 "no bucket",
		"gs:/bucket":                      `does not start with "gs://"`,
		"GS://bucket":                     `does not start with "gs://"`,
		"gs://My_Bucket":                  "lowercase",
		"gs://bucket!":                    "lowercase",
		"gs://ab":                         "shorter than 3",
		"gs://-bucket":                    "start and end with a letter or digit",
		"gs://" + strings.Repeat("a", 64): "longer than 63",
		"gs://a..b":                       "dot-separated part",
		"gs://bucket//jetstream":          `prefix "/jetstream"`,
		"gs://bucket/a/../b":              `prefix "a/../b"`,
		"gs://bucket/.staging":            "reserved",
		"s3://bucket/jetstream":           `unsupported scheme "s3"`,
		"file:///tmp/out":                 `unsupported scheme "file"`,
		file:                              "not a folder",
	} {
		s, err := OpenStore(t.Context(), location)
		if err == nil {
			t.Errorf("OpenStore(%q) = %v, want an error", location, s)
			continue
		}
		if !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), `"`+location+`"`) && location != "" {
			t.Errorf("OpenStore(%q) error %q, want it to name the location and say %q", location, err, why)
		}
	}
}
