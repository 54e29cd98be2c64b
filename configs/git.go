package configs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"strings"
	"testing/fstest"
)

// SplitRepo splits a --config-repo argument PATH[@REV] into the folder and the git revision
// ("" for the working tree). Jetstream pins an experiment's configs to the metric-hub
// revision that was current when its analysis began; PATH@REV reads that revision.
func SplitRepo(arg string) (dir, rev string) {
	if i := strings.LastIndex(arg, "@"); i > 0 {
		return arg[:i], arg[i+1:]
	}
	return arg, ""
}

// GitFS returns the TOML files of the git repository at dir, as they are at revision rev,
// as a file system (read through one `git archive`, so nothing is checked out).
func GitFS(dir, rev string) (fs.FS, error) {
	if rev == "" {
		return nil, fmt.Errorf("config repository %s: empty git revision", dir)
	}
	cmd := exec.Command("git", "-C", dir, "archive", "--format=tar", rev)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("config repository %s at %s: git archive: %s", dir, rev, msg)
	}
	files := fstest.MapFS{}
	r := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("config repository %s at %s: %w", dir, rev, err)
		}
		if h.Typeflag != tar.TypeReg || path.Ext(h.Name) != ".toml" {
			continue
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("config repository %s at %s: %s: %w", dir, rev, h.Name, err)
		}
		files[path.Clean(h.Name)] = &fstest.MapFile{Data: data}
	}
	return files, nil
}

// loadRepo loads a metric-hub-shaped repository (its root and, when present, its jetstream/
// folder merged over it), from the working tree or, with a revision, from git.
func loadRepo(arg string) (*Collection, error) {
	dir, rev := SplitRepo(arg)
	if rev == "" {
		return nil, nil
	}
	fsys, err := GitFS(dir, rev)
	if err != nil {
		return nil, err
	}
	roots := []string{"."}
	if matches, _ := fs.Glob(fsys, "jetstream/*.toml"); len(matches) > 0 {
		roots = append(roots, "jetstream")
	}
	c := NewCollection()
	for _, root := range roots {
		one, err := loadRoot(fsys, root, path.Join(dir+"@"+rev, root))
		if err != nil {
			return nil, err
		}
		c.Merge(one)
	}
	return c, nil
}
