package internal_test

// The layout test keeps the arrows pointing inward: fronts (mcpserver, cmd)
// and stores depend on the bridge service, never on each other, and the
// leaf packages depend on nothing of ours.

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/agent-bridge/agent-bridge/"

// allowed lists, per package directory under internal/, the packages of
// this module it may import. A directory not listed may import none.
var allowed = map[string][]string{
	"bridge":          {"internal/audit", "internal/lease", "internal/limit", "internal/redact", "internal/termtext", "internal/token", "internal/yolo"},
	"store/sqlite":    {"internal/bridge", "internal/store/migrate", "internal/store/signal", "internal/store/chainlock"},
	"store/postgres":  {"internal/bridge", "internal/store/migrate", "internal/store/signal", "internal/store/chainlock"},
	"store/chainlock": nil,
	"store/migrate":   nil,
	"store/signal":    nil,
	"store/storetest": {"internal/bridge", "internal/token", "internal/audit"},
	"mcpserver":       {"internal/bridge", "internal/redact", "internal/limit"},
	"metrics":         {"internal/bridge"}, // a front's helper: never a store
	"console":         {"internal/bridge"}, // the web front: the service only
	"audit":           nil,
	"limit":           nil,
	"lease":           nil,
	"redact":          nil,
	"termtext":        nil,
	"token":           nil,
	"yolo":            nil, // imports mvdan.cc/sh (shell parser) and x/text, so not a leaf
}

// leaves may import only the standard library.
var leaves = map[string]bool{"audit": true, "lease": true, "limit": true, "redact": true, "token": true, "store/migrate": true, "store/signal": true, "store/chainlock": true, "termtext": true}

func TestImportsPointInward(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		ok, known := allowed[dir]
		if !known {
			t.Errorf("%s: package directory %s has no entry in the layout test; add one", path, dir)
			return nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if leaves[dir] && strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
				t.Errorf("%s: leaf package imports %s; leaves use the standard library only", path, p)
			}
			if !strings.HasPrefix(p, module) {
				continue
			}
			rel := strings.TrimPrefix(p, module)
			if !contains(ok, rel) {
				t.Errorf("%s imports %s: internal/%s may import only %v", path, rel, dir, ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
