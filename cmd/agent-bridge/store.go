package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

// database is an open store of either kind. --db selects it: a postgres://
// or postgresql:// URL is PostgreSQL (teams across machines), anything
// else a SQLite file (one machine).
type database interface {
	bridge.Store
	// Path says where the database is, for logs and messages: a file's
	// absolute path, or a URL without its password.
	Path() string
}

// pgDatabase is a PostgreSQL store whose Path is its redacted URL.
type pgDatabase struct{ *postgres.DB }

func (d pgDatabase) Path() string { return d.String() }

// openDatabase opens the database at path, migrating it to the current
// schema. A SQLite file is created if missing.
func openDatabase(ctx context.Context, path string) (database, error) {
	if postgres.IsURL(path) {
		db, err := postgres.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return pgDatabase{db}, nil
	}
	return sqlite.Open(ctx, path)
}

// keyFileFor returns the token key file for the database at path:
// --key-file (or $AGENT_BRIDGE_KEY_FILE), else the SQLite file's path plus
// .key. PostgreSQL has no file to sit beside, and every node must hold the
// same key, so it needs the flag.
func (o *options) keyFileFor(path string) (string, error) {
	if postgres.IsURL(path) && o.keyFile == "" {
		return "", usagef("a PostgreSQL database needs --key-file FILE (or AGENT_BRIDGE_KEY_FILE): tokens are HMACs under that key, so every agent-bridge using %s must use a copy of the same file (serve creates it, mode 0600, if missing)", postgres.Redact(path))
	}
	return o.keyPath(path), nil
}

// checkExists fails when the SQLite file at path does not exist: the
// management commands never create a database. A PostgreSQL database is
// created by its administrator, so there is nothing to check here.
func checkExists(path string) error {
	if postgres.IsURL(path) {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no database at %s: the server creates it when an agent first connects; pass --db PATH or set AGENT_BRIDGE_DB to use another", path)
		}
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// neverUsed reports whether the bridge was clearly never used with this
// database: a SQLite file that does not exist.
func neverUsed(path string) bool {
	if postgres.IsURL(path) {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// errBackupPostgres is backup's answer for a PostgreSQL database.
var errBackupPostgres = errors.New("backup copies a SQLite file; a PostgreSQL database is backed up with the server's tools, e.g. pg_dump --format=custom --file=bridge.dump DBNAME (restore with pg_restore). Keep a copy of the --key-file with it: tokens stay valid only under the same key")
