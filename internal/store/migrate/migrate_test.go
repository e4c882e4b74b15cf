package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadKeepsOrderAndRefusesGaps(t *testing.T) {
	ok := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README":     {Data: []byte("not a step")},
	}
	steps, err := Load(ok, "m")
	if err != nil || strings.Join(steps, ",") != "A,B" {
		t.Fatalf("Load = %q, %v; want A,B in order", steps, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number": {"m/0001_a.sql": {}, "m/extra.sql": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), "out of sequence") {
			t.Errorf("%s: err %v, want out of sequence", name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustLoad did not panic on a gap")
		}
	}()
	MustLoad(fstest.MapFS{"m/0002_b.sql": {}}, "m")
}
