package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A server must not mint a new key beside a database that already has
// data, nor serve it with another key: tokens would stop matching across
// processes and every older audit row would read as edited.
func TestServeRefusesAKeyThatDidNotWriteTheDatabase(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "b.db")
	p := launch(t, home, home, nil, db)
	create(p)
	p.close()

	// The key moved away: serve would create a fresh one.
	if err := os.Rename(db+".key", filepath.Join(home, "moved.key")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, home, "serve", "--db", db)
	if code == 0 || !strings.Contains(stderr, "did not exist and was just created") || !strings.Contains(stderr, "--init-key") {
		t.Fatalf("serve with a new key beside old data: code %d, %q", code, stderr)
	}

	// A key file that exists but is another database's.
	_, stderr, code = runCLI(t, home, "serve", "--db", db, "--key-file", db+".key")
	if code == 0 || !strings.Contains(stderr, "is not the key the database") {
		t.Fatalf("serve with a foreign key: code %d, %q", code, stderr)
	}

	// The right key serves, and so does --init-key when meant.
	if _, stderr, code = runCLI(t, home, "serve", "--db", db, "--key-file", filepath.Join(home, "moved.key")); code != 0 {
		t.Fatalf("serve with the original key: code %d, %q", code, stderr)
	}
	if _, stderr, code = runCLI(t, home, "serve", "--db", db, "--init-key"); code != 0 {
		t.Fatalf("serve --init-key: code %d, %q", code, stderr)
	}
	// After the operator chose the new key, serving with it needs no flag.
	p = launch(t, home, home, nil, db)
	p.ok("create_conversation", map[string]any{"my_role": "backend", "partner_role": "frontend"})
	p.close()
	if _, stderr, code = runCLI(t, home, "serve", "--db", db); code != 0 {
		t.Fatalf("serve after --init-key: code %d, %q", code, stderr)
	}
}
