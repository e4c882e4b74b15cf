package postgres

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
