package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Store is where published files go: the JSON files Jetstream's consumers read
// (statistics/statistics_<slug>_<period>.json, metadata/metadata_<slug>.json,
// errors/errors_<slug>.json). Locally it is a folder, in production a GCS bucket; the exporters
// write through this interface so both behave the same and tests need no cloud.
//
// Names are slash-separated object names relative to the store's location. They must be valid
// io/fs paths (no leading or trailing slash, no empty, "." or ".." elements), with no element
// starting with "." (the local store reserves those for its in-flight temporary files), no
// backslash or control character, and at most 1024 bytes (GCS's limit). A name outside these
// rules is refused with an error that errors.Is fs.ErrInvalid, by every implementation alike.
//
// A missing object is an error that errors.Is fs.ErrNotExist (Get and Delete), in every
// implementation, so callers need not know which one they have.
type Store interface {
	// Put stores data under name, replacing any previous object atomically: a reader sees the
	// old object or the new one, never a partial one, even if Put fails or ctx is cancelled.
	Put(ctx context.Context, name string, data []byte) error
	// Get returns the object's content.
	Get(ctx context.Context, name string) ([]byte, error)
	// List returns the names starting with prefix (a plain string prefix, as in GCS, not
	// necessarily ending at a "/"), sorted bytewise; no match is an empty list, not an error.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object; a missing one is an fs.ErrNotExist error, so a caller that
	// does not care can ignore exactly that.
	Delete(ctx context.Context, name string) error
	// Close releases the store's resources (the GCS client's connections); the store must not
	// be used afterwards.
	Close() error
	// String is the location, as accepted by OpenStore, for logs and error messages.
	String() string
}

// NoExport is the location that disables publishing, as Jetstream's `--bucket none`.
const NoExport = "none"

// OpenStore opens the store at location:
//
//   - "gs://bucket" or "gs://bucket/prefix": a GCS bucket (objects named prefix/name), through
//     Application Default Credentials, or the emulator named by STORAGE_EMULATOR_HOST when set;
//   - "none": Discard, which drops every write (Jetstream's `--bucket none`);
//   - anything else without a "scheme://": a local folder, created on the first Put (a folder
//     literally called "none" is "./none").
//
// "none" gives a working store rather than nil or a sentinel error so that every caller, including
// code running on Beam workers that only receives the location string, writes through the same
// path without special cases; a caller that wants to say "export disabled" can test IsDiscard.
//
// Opening checks the location's syntax (and, for a folder, that it is not a file) but not that a
// bucket exists or is writable: an object writer may lack the permission to read bucket
// metadata, so access problems are reported by the first operation, naming the location.
func OpenStore(ctx context.Context, location string) (Store, error) {
	switch {
	case location == "":
		return nil, errors.New(`empty store location: want gs://bucket[/prefix], a folder, or "none"`)
	case location == NoExport:
		return Discard{}, nil
	}
	lower := strings.ToLower(location)
	if strings.HasPrefix(lower, "gs:") {
		bucket, prefix, err := parseGCSLocation(location)
		if err != nil {
			return nil, err
		}
		return openGCSStore(ctx, bucket, prefix)
	}
	if scheme, _, ok := strings.Cut(location, "://"); ok {
		return nil, fmt.Errorf("store location %q: unsupported scheme %q (want gs://bucket[/prefix] or a folder path)", location, scheme)
	}
	return NewLocalStore(location)
}

// IsDiscard reports whether s drops what it is given, so callers can say that export is off
// instead of claiming to have published. A GuardedStore is judged by the store it guards.
func IsDiscard(s Store) bool {
	if g, ok := s.(guardedStore); ok {
		s = g.Store
	}
	_, ok := s.(Discard)
	return ok
}

// checkName enforces the name rules of Store; store is the location for the error message.
func checkName(store fmt.Stringer, name string) error {
	why := nameProblem(name)
	if why == "" {
		return nil
	}
	return fmt.Errorf("%s: invalid object name %q: %s: %w", store, name, why, fs.ErrInvalid)
}

func nameProblem(name string) string {
	switch {
	case name == "":
		return "empty"
	case len(name) > 1024:
		return "longer than 1024 bytes"
	case !fs.ValidPath(name) || name == ".":
		return `not a relative slash-separated path without empty, "." or ".." elements`
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "contains a control character or a backslash"
		}
	}
	for elem := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(elem, ".") {
			return `an element starts with "." (reserved for temporary files)`
		}
	}
	return ""
}

// LocalStore is a folder: an object is a file at root/name. It plays the GCS bucket for local
// runs, so names, listing and not-found errors behave as in GCSStore.
type LocalStore struct {
	root string
}

// NewLocalStore returns the store rooted at folder root, which need not exist yet (Put creates
// it) but must not be a file.
func NewLocalStore(root string) (*LocalStore, error) {
	root = filepath.Clean(root)
	if info, err := os.Stat(root); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("store location %q: not a folder", root)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store location %q: %w", root, err)
	}
	return &LocalStore{root: root}, nil
}

func (s *LocalStore) String() string { return s.root }

func (s *LocalStore) Close() error { return nil }

func (s *LocalStore) path(name string) (string, error) {
	if err := checkName(s, name); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(name)), nil
}

// Put writes through a temporary file in the target's folder, synced, then renamed over the
// target, and syncs the folder: a rename within one file system is atomic, and the syncs make
// the new content durable before and after it replaces the old one, so a crash leaves the old
// file or the new one. WriteFileAtomic is not reused because it syncs nothing and leaves the
// temporary file's 0600 mode on the published file.
func (s *LocalStore) Put(ctx context.Context, name string, data []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return writeFileSynced(p, data)
}

func writeFileSynced(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close() // may already be closed; the first error is the one to report
			os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get reads the file; a folder at that path is reported as not found, as GCS has no folders.
func (s *LocalStore) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if info, err := os.Stat(p); err == nil && info.IsDir() {
		return nil, &fs.PathError{Op: "get", Path: p, Err: fs.ErrNotExist}
	}
	return os.ReadFile(p) // its errors name the path; a missing file is fs.ErrNotExist
}

// List walks only the folder named by prefix's part up to its last "/", and skips the temporary
// files of writes in progress (or of crashed ones), which are not objects.
func (s *LocalStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.root, err)
	}
	base := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		if nameProblem(prefix[:i]) != "" {
			return []string{}, nil // no valid name lies under it
		}
		base = filepath.Join(s.root, filepath.FromSlash(prefix[:i]))
	}
	names := []string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if p != base && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.root, err)
	}
	slices.Sort(names)
	return names, nil
}

// Delete removes the file; empty folders are left (they are invisible to List and Get).
func (s *LocalStore) Delete(ctx context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if info, err := os.Stat(p); err == nil && info.IsDir() {
		return &fs.PathError{Op: "delete", Path: p, Err: fs.ErrNotExist}
	}
	return os.Remove(p)
}

// Discard is the store of location "none": Put checks the name and drops the data, nothing is
// ever found. Publishing is then a no-op for every caller without a special case.
type Discard struct{}

func (Discard) String() string { return NoExport }

func (Discard) Close() error { return nil }

func (d Discard) Put(ctx context.Context, name string, data []byte) error {
	return checkName(d, name)
}

func (d Discard) Get(ctx context.Context, name string) ([]byte, error) {
	if err := checkName(d, name); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: %s: export is disabled: %w", d, name, fs.ErrNotExist)
}

func (Discard) List(ctx context.Context, prefix string) ([]string, error) {
	return []string{}, nil
}

func (d Discard) Delete(ctx context.Context, name string) error {
	if err := checkName(d, name); err != nil {
		return err
	}
	return fmt.Errorf("%s: %s: export is disabled: %w", d, name, fs.ErrNotExist)
}
