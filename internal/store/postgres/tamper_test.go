package postgres_test

import (
	"context"
	"testing"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/storetest"
)

// Write access to the database alone: every change is reported.
func TestTamperIsReported(t *testing.T) {
	storetest.Tamper(t, func(t *testing.T) (bridge.Store, func(string)) {
		dsn := newDatabase(t)
		db := open(t, dsn)
		raw := connect(t, dsn)
		return db, func(q string) {
			if _, err := raw.Exec(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})
}
