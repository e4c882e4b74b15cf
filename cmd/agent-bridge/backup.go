package main

import (
	"context"
	"fmt"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

func backupCommand() command {
	return command{
		name: "backup", summary: "copy the live database consistently", usage: "DEST",
		help: `Writes a consistent copy of the database to DEST (which must not exist) while agents
keep writing, checks it with integrity_check, and copies the key file to DEST.key so
that tokens stay valid after a restore. Both files are created 0600.

To restore: stop the agents' servers, then copy DEST over the database file and
DEST.key over its key file (default: the database path plus .key), and remove any
-wal and -shm files left beside the old database.`,
		flags: dbFlags,
		run: func(ctx context.Context, e env, args []string) error {
			o, pos, err := parse(e, "backup", args)
			if err != nil {
				return err
			}
			if len(pos) != 1 {
				return usagef("usage: agent-bridge backup DEST")
			}
			path, err := o.dbPath(e.getenv)
			if err != nil {
				return err
			}
			if postgres.IsURL(path) {
				return errBackupPostgres
			}
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no database at %s: %w", path, err)
			}
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(ctx, pos[0]); err != nil {
				return err
			}
			key, err := os.ReadFile(o.keyPath(path))
			if err != nil {
				return fmt.Errorf("backup: read key file: %w", err)
			}
			if err := writeNew(pos[0]+".key", key); err != nil {
				return fmt.Errorf("backup: write key file: %w", err)
			}
			fmt.Fprintf(e.stdout, "backed up %s to %s (integrity ok) and its key to %s.key\n", path, pos[0], pos[0])
			return nil
		},
	}
}

// writeNew writes data to a new file, mode 0600; it never overwrites.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
