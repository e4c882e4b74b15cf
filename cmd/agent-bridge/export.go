package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func exportCommand() command {
	return command{
		name: "export", summary: "write a conversation as JSON lines", usage: "ID [--out FILE]",
		help: `Writes the conversation, its members (role, generation, status, when each joined and
left), its open invites, its messages (as stored, redacted) with who received and read
each, its tasks, its live file leases and its audit rows, as JSON lines after a header
naming the format and its version. Tokens and invite codes are not exported: tokens
derive from the key of the database a conversation lives in, and an invite is stored
(and exported) only as a keyed hash of its code with its expiry.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.StringVar(&o.out, "out", "", "write to `file` (created 0600; default stdout)")
		},
		run: adminRun("export", 1, 1, conversationArg(func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			snap, err := svc.Export(ctx, pos[0])
			if err != nil {
				return err
			}
			w := e.stdout
			if o.out != "" {
				f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				defer f.Close()
				w = f
			}
			return bridge.WriteSnapshot(w, snap, time.Now())
		})),
	}
}
