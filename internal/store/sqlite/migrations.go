package sqlite

import (
	"embed"

	"github.com/agent-bridge/agent-bridge/internal/store/migrate"
)

// migrationFiles are the schema's ordered steps (see package migrate); the
// version is PRAGMA user_version.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = migrate.MustLoad(migrationFiles, "migrations")
