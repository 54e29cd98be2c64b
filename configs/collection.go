package configs

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

// metricHub holds the parts of mozilla/metric-hub (MPL-2.0, see metrichub/LICENSE) the
// product needs at run time: definitions/ at the root, and jetstream/ with the platform
// defaults, Jetstream's definitions and the outcomes. Experiment configs are not embedded.
//
//go:embed metrichub
var metricHub embed.FS

// Collection is a set of metric-hub-shaped configuration files. Roles come from the
// location of a file inside a root folder:
//
//	<root>/*.toml                         experiment configs (slug = file stem)
//	<root>/outcomes/<platform>/*.toml     outcomes
//	<root>/defaults/<name>.toml           defaults for a platform or an experiment type
//	<root>/definitions/<platform>.toml    shared definitions
//	<root>/definitions/functions.toml     template helper functions
//
// Several roots can be loaded; a later root is merged over the earlier ones.
type Collection struct {
	Configs     map[string]*Spec            // by slug
	Outcomes    map[string]map[string]*Spec // platform → slug → outcome
	Defaults    map[string]*Spec            // platform or type → defaults
	Definitions map[string]*Spec            // platform → definitions
	Functions   Functions
}

// NewCollection returns an empty collection.
func NewCollection() *Collection {
	return &Collection{
		Configs:     map[string]*Spec{},
		Outcomes:    map[string]map[string]*Spec{},
		Defaults:    map[string]*Spec{},
		Definitions: map[string]*Spec{},
		Functions:   Functions{},
	}
}

var (
	embeddedOnce sync.Once
	embedded     *Collection
	embeddedErr  error
)

// MetricHub returns the embedded metric-hub collection (definitions, Jetstream defaults,
// definitions and outcomes, loaded as Jetstream loads them). The result is shared: do not
// modify it.
func MetricHub() *Collection {
	embeddedOnce.Do(func() {
		embedded, embeddedErr = LoadFS(metricHub, "metrichub", "metrichub/jetstream")
	})
	if embeddedErr != nil {
		panic(fmt.Sprintf("embedded metric-hub files: %v", embeddedErr))
	}
	return embedded
}

// LoadCollection loads one or more folders, later ones merged over earlier ones. For
// Jetstream's set-up pass metric-hub's root and then its jetstream/ folder.
func LoadCollection(roots ...string) (*Collection, error) {
	c := NewCollection()
	for _, root := range roots {
		one, err := loadRoot(os.DirFS(root), ".", root)
		if err != nil {
			return nil, err
		}
		c.Merge(one)
	}
	return c, nil
}

// LoadFS is LoadCollection for folders of a file system.
func LoadFS(fsys fs.FS, roots ...string) (*Collection, error) {
	c := NewCollection()
	for _, root := range roots {
		one, err := loadRoot(fsys, root, root)
		if err != nil {
			return nil, err
		}
		c.Merge(one)
	}
	return c, nil
}

func loadRoot(fsys fs.FS, dir, display string) (*Collection, error) {
	c := NewCollection()
	parse := func(rel string) (*Spec, error) {
		data, err := fs.ReadFile(fsys, path.Join(dir, rel))
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return Parse(path.Join(display, rel), data)
	}
	glob := func(pattern string) ([]string, error) {
		matches, err := fs.Glob(fsys, path.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		out := make([]string, len(matches))
		for i, m := range matches {
			out[i] = strings.TrimPrefix(strings.TrimPrefix(m, dir), "/")
		}
		sort.Strings(out)
		return out, nil
	}
	files, err := glob("*.toml")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		s, err := parse(f)
		if err != nil {
			return nil, err
		}
		c.Configs[stem(f)] = s
	}
	if files, err = glob("outcomes/*/*.toml"); err != nil {
		return nil, err
	}
	for _, f := range files {
		s, err := parse(f)
		if err != nil {
			return nil, err
		}
		if err := s.checkOutcome(); err != nil {
			return nil, err
		}
		platform := path.Base(path.Dir(f))
		if c.Outcomes[platform] == nil {
			c.Outcomes[platform] = map[string]*Spec{}
		}
		c.Outcomes[platform][stem(f)] = s
	}
	if files, err = glob("defaults/*.toml"); err != nil {
		return nil, err
	}
	for _, f := range files {
		s, err := parse(f)
		if err != nil {
			return nil, err
		}
		c.Defaults[stem(f)] = s
	}
	if files, err = glob("definitions/*.toml"); err != nil {
		return nil, err
	}
	for _, f := range files {
		s, err := parse(f)
		if err != nil {
			return nil, err
		}
		if path.Base(f) == "functions.toml" {
			for k, v := range s.Functions {
				c.Functions[k] = v
			}
			continue
		}
		c.Definitions[stem(f)] = s
	}
	return c, nil
}

func (s *Spec) checkOutcome() error {
	var missing []string
	if s.FriendlyName == "" {
		missing = append(missing, "friendly_name")
	}
	if s.Description == "" {
		missing = append(missing, "description")
	}
	if len(missing) > 0 {
		return s.Locate("", fmt.Errorf("outcome is missing %s", strings.Join(missing, " and ")))
	}
	return nil
}

func stem(f string) string { return strings.TrimSuffix(path.Base(f), ".toml") }

// Merge merges other over c: same-slug experiment configs, defaults and definitions are
// merged field by field (other wins); outcomes and functions are replaced by name.
func (c *Collection) Merge(other *Collection) {
	for slug, s := range other.Configs {
		if old, ok := c.Configs[slug]; ok {
			old.merge(s)
		} else {
			c.Configs[slug] = s
		}
	}
	for platform, outs := range other.Outcomes {
		if c.Outcomes[platform] == nil {
			c.Outcomes[platform] = map[string]*Spec{}
		}
		for slug, s := range outs {
			c.Outcomes[platform][slug] = s
		}
	}
	for name, s := range other.Defaults {
		if old, ok := c.Defaults[name]; ok {
			old.merge(s)
		} else {
			c.Defaults[name] = s
		}
	}
	for name, s := range other.Definitions {
		if old, ok := c.Definitions[name]; ok {
			old.mergeDefinitions(s)
		} else {
			c.Definitions[name] = s
		}
	}
	for name, f := range other.Functions {
		c.Functions[name] = f
	}
}

// mergeDefinitions merges another definitions file over s (metrics, data sources,
// segments).
func (s *Spec) mergeDefinitions(other *Spec) {
	s.mergeMetrics(other)
	mergeDefs(s.DataSources, other.DataSources, (*DataSourceSpec).merge)
	for k, v := range other.SegmentData {
		s.SegmentData[k] = v
	}
	for k, v := range other.Segments {
		s.Segments[k] = v
	}
}

// Platforms lists the platforms that have definitions, sorted.
func (c *Collection) Platforms() []string {
	return sortedMapKeys(c.Definitions)
}

// Outcome returns an outcome of a platform.
func (c *Collection) Outcome(platform, slug string) (*Spec, bool) {
	s, ok := c.Outcomes[platform][slug]
	return s, ok
}

var errNotFound = errors.New("not found")

// MetricHubWith returns a private copy of the embedded metric-hub with config repositories
// merged over it, in order. A repository is laid out as mozilla/metric-hub: its root (with
// definitions/) and, when present, its jetstream/ folder (experiment configs, defaults,
// outcomes) are both loaded; a folder of experiment configs alone works too.
func MetricHubWith(repos ...string) (*Collection, error) {
	c, err := LoadFS(metricHub, "metrichub", "metrichub/jetstream")
	if err != nil {
		return nil, err
	}
	for _, repo := range repos {
		if git, err := loadRepo(repo); err != nil {
			return nil, err
		} else if git != nil {
			c.Merge(git)
			continue
		}
		if fi, err := os.Stat(repo); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("config repository %s: not a folder", repo)
		}
		roots := []string{repo}
		if fi, err := os.Stat(path.Join(repo, "jetstream")); err == nil && fi.IsDir() {
			roots = append(roots, path.Join(repo, "jetstream"))
		}
		one, err := LoadCollection(roots...)
		if err != nil {
			return nil, err
		}
		c.Merge(one)
	}
	return c, nil
}
