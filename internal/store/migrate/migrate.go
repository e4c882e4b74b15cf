// Package migrate loads a store's schema steps: ordered SQL files named
// NNNN_name.sql, embedded in the store's binary. Step N moves a database
// from schema version N-1 to N. Forward only: never edit a step that has
// shipped; add the next one. Each store applies the steps its own way,
// under its own write lock.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// MustLoad returns the contents of dir/*.sql in fsys, in order. It panics
// when the files are not numbered 0001, 0002, ... without gaps: a mistake
// in the build, caught by any test that loads the store.
func MustLoad(fsys fs.FS, dir string) []string {
	steps, err := Load(fsys, dir)
	if err != nil {
		panic(err)
	}
	return steps
}

// Load is MustLoad returning the error.
func Load(fsys fs.FS, dir string) ([]string, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, name := range names {
		want := fmt.Sprintf("%04d_", i+1)
		if base := path.Base(name); len(base) < len(want) || base[:len(want)] != want {
			return nil, fmt.Errorf("migration %s is out of sequence: want prefix %s", name, want)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}
