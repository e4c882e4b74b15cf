package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func importCommand() command {
	return command{
		name: "import", summary: "load an exported conversation", usage: "FILE [--rename] [--json]",
		help: `Loads a conversation written by export into this database, keeping its ids, times,
members (with their roles, generations, and when they joined and left), open invites,
and who received and read which message, so every member's inbox and unread count are
as they were. The whole file is checked first; a refusal names the problem and stores
nothing. It never overwrites: a conversation or message id that exists is refused,
unless --rename imports under new ids (open invites are then left out: a code names one
conversation). The source's audit rows stay in the file (their digests belong to the
source's key); the import is audited here. Tokens and invite codes derive from the key:
with the source's key file every member's token and every open code keep working;
otherwise run 'tokens ID' for the members' tokens in this database.

A SQLite database that does not exist yet is created, with a new key (restoring onto a
new machine): agents then need the tokens that 'tokens ID' prints there. To keep the old
tokens, restore a backup with its key instead (see 'agent-bridge help backup').`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
			fs.BoolVar(&o.rename, "rename", false, "import under a new conversation id (and new message ids) if the id exists")
		},
		run: func(ctx context.Context, e env, args []string) error {
			o, pos, err := parse(e, "import", args)
			if err != nil {
				return err
			}
			if len(pos) != 1 {
				return usagef("usage: agent-bridge import FILE [--rename] [--json]")
			}
			f, err := os.Open(pos[0])
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer f.Close()
			snap, err := bridge.ReadSnapshot(f)
			if err != nil {
				return fmt.Errorf("import %s: %w", pos[0], err)
			}
			// Restoring onto a new machine is the main use: a database that
			// does not exist yet is created, with a new key.
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			deps, created, err := openOrCreate(ctx, o, e.getenv, log)
			if err != nil {
				return err
			}
			defer deps.Close()
			if created {
				fmt.Fprintf(e.stderr, "created a new database at %s\n", deps.db.Path())
			}
			conv, err := deps.svc.Import(ctx, snap, o.rename)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(e.stdout, map[string]any{"conversation_id": conv.ID, "source_id": snap.Conversation.ID,
					"members": len(snap.Members), "messages": len(snap.Messages), "tasks": len(snap.Tasks), "leases": len(snap.Leases)})
			}
			fmt.Fprintf(e.stdout, "imported %s as %s: %d members, %d messages, %d tasks, %d leases\n", snap.Conversation.ID, conv.ID,
				len(snap.Members), len(snap.Messages), len(snap.Tasks), len(snap.Leases))
			return nil
		},
	}
}
