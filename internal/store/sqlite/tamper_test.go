package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
)

// Write access to the database file alone: every change is reported.
func TestTamperIsReported(t *testing.T) {
	storetest.Tamper(t, func(t *testing.T) (bridge.Store, func(string)) {
		path := filepath.Join(t.TempDir(), "b.db")
		db := open(t, path)
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, func(q string) {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})
}
