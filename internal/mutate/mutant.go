// mutant.go: a named mutant as data (mutants.toml), loading the list, and
// applying one mutant to a file tree. Applying is exact: the original
// snippet must occur exactly once in the file, or the mutant is stale (the
// code moved on and the list must be updated) — never silently skipped.

package mutate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Mutant is one plausible bug, written down as an exact edit of one file.
type Mutant struct {
	Name string `toml:"name"` // short, unique, kebab-case: what the bug is
	// Why says which rule the bug breaks (the invariant or promise).
	Why string `toml:"why"`
	// File is the file to edit, slash-separated, relative to the module root.
	File string `toml:"file"`
	// Original is the exact snippet the file must contain once; Mutated
	// replaces it.
	Original string `toml:"original"`
	Mutated  string `toml:"mutated"`
	// Packages are the packages whose tests must kill the mutant (go test
	// patterns relative to the module root, e.g. "./limits"). The rule is
	// the package the mutant lives in; an empty list means the file's own
	// directory.
	Packages []string `toml:"packages"`
	// Run, when set, is go test's -run pattern (only to keep the suite
	// within CI's time where a package's full tests are slow).
	Run string `toml:"run"`
}

// List is the file format: a sequence of [[mutant]] tables.
type List struct {
	Mutants []Mutant `toml:"mutant"`
}

var namePat = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Load reads and checks a mutant list: every field present, names unique,
// files relative and inside the module, the mutation an actual change.
func Load(file string) ([]Mutant, error) {
	var l List
	md, err := toml.DecodeFile(file, &l)
	if err != nil {
		return nil, fmt.Errorf("mutate: %s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("mutate: %s: unknown key %s", file, und[0])
	}
	return l.Mutants, Check(l.Mutants)
}

// Check validates a list (Load calls it).
func Check(ms []Mutant) error {
	if len(ms) == 0 {
		return errors.New("mutate: the list has no mutants")
	}
	seen := map[string]bool{}
	for i := range ms {
		m := &ms[i]
		where := fmt.Sprintf("mutant %d (%q)", i+1, m.Name)
		switch {
		case !namePat.MatchString(m.Name):
			return fmt.Errorf("mutate: %s: name must be kebab-case", where)
		case seen[m.Name]:
			return fmt.Errorf("mutate: %s: duplicate name", where)
		case strings.TrimSpace(m.Why) == "":
			return fmt.Errorf("mutate: %s: no why", where)
		case m.File == "" || path.IsAbs(m.File) || strings.Contains(m.File, `\`) ||
			path.Clean(m.File) != m.File || strings.HasPrefix(m.File, "../"):
			return fmt.Errorf("mutate: %s: file %q must be a clean slash path inside the module", where, m.File)
		case !strings.HasSuffix(m.File, ".go") || strings.HasSuffix(m.File, "_test.go"):
			return fmt.Errorf("mutate: %s: file %q: mutants go into non-test Go source", where, m.File)
		case m.Original == "":
			return fmt.Errorf("mutate: %s: empty original", where)
		case m.Original == m.Mutated:
			return fmt.Errorf("mutate: %s: mutated equals original", where)
		}
		for _, p := range m.Packages {
			if !strings.HasPrefix(p, "./") {
				return fmt.Errorf("mutate: %s: package %q must start with ./", where, p)
			}
		}
		seen[m.Name] = true
	}
	return nil
}

// Pkgs is the packages whose tests run against the mutant.
func (m *Mutant) Pkgs() []string {
	if len(m.Packages) > 0 {
		return m.Packages
	}
	return []string{"./" + path.Dir(m.File)}
}

// ErrStale means the original snippet is no longer in the file exactly
// once: the code changed and the mutant must be rewritten for it.
var ErrStale = errors.New("mutate: stale mutant")

// Locate checks that m's snippet occurs exactly once in its file under
// root and returns the file's content.
func (m *Mutant) Locate(root string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrStale, m.Name, err)
	}
	switch n := bytes.Count(src, []byte(m.Original)); n {
	case 1:
		return src, nil
	case 0:
		return nil, fmt.Errorf("%w %s: its original snippet is not in %s (update the mutant for the code)", ErrStale, m.Name, m.File)
	default:
		return nil, fmt.Errorf("%w %s: its original snippet occurs %d times in %s (make it unique)", ErrStale, m.Name, n, m.File)
	}
}

// Apply writes the mutant into its file under root (a copy of the
// module, never the working tree).
func (m *Mutant) Apply(root string) error {
	src, err := m.Locate(root)
	if err != nil {
		return err
	}
	out := bytes.Replace(src, []byte(m.Original), []byte(m.Mutated), 1)
	name := filepath.Join(root, filepath.FromSlash(m.File))
	st, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("mutate: apply %s: %w", m.Name, err)
	}
	if err := os.WriteFile(name, out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("mutate: apply %s: %w", m.Name, err)
	}
	return nil
}

// CopyTree copies the module at src into dst (which must not exist):
// every regular file and directory except version control and the
// directories named in skip (base names). Symbolic links are copied as
// links.
func CopyTree(src, dst string, skip ...string) error {
	skipSet := map[string]bool{".git": true}
	for _, s := range skip {
		skipSet[s] = true
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("mutate: copy: %s exists", dst)
	}
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skipSet[d.Name()] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.Type().IsRegular():
			return copyFile(p, to)
		}
		return nil // sockets, FIFOs: not part of a module
	})
}

func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, st.Mode().Perm())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}
