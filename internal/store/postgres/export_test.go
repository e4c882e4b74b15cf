package postgres

import (
	"context"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Migrations returns the schema steps, for the upgrade test.
func Migrations() []string { return migrations }

// QueuedWriters counts this process's writers of chain waiting for, or
// holding, its gate.
func QueuedWriters(db *DB, chain string) int {
	db.gates.mu.Lock()
	defer db.gates.mu.Unlock()
	if g := db.gates.m[chain]; g != nil {
		return g.refs
	}
	return 0
}

// SynchronousCommit returns the synchronous_commit setting in force in
// the transaction t.
func SynchronousCommit(t bridge.Tx) (string, error) {
	var v string
	err := t.(*tx).tx.QueryRow(context.Background(), "SHOW synchronous_commit").Scan(&v)
	return v, err
}
