package postgres

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// migrationFiles are the schema's ordered steps, NNNN_name.sql. Step N moves
// the database from schema version N-1 to N (the agent_bridge_schema
// table). Forward only: never edit a step that has shipped; add the next
// one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = mustLoadMigrations()

func mustLoadMigrations() []string {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, name := range names {
		if want := fmt.Sprintf("migrations/%04d_", i+1); len(name) < len(want) || name[:len(want)] != want {
			panic(fmt.Sprintf("migration %s is out of sequence: want prefix %s", name, want))
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out[i] = string(b)
	}
	return out
}
