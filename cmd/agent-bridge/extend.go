package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func extendCommand() command {
	return command{
		name: "extend", summary: "make a conversation last longer", usage: "ID [--by 1h] [--json]",
		help: `Moves the conversation's expiry later by --by (from now if it already expired), never
past its creation plus the maximum lifetime (24 h). Agents can do the same with the
extend_conversation tool.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
			fs.DurationVar(&o.by, "by", time.Hour, "how much longer the conversation lasts")
		},
		run: adminRun("extend", 1, 1, conversationArg(func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			x, err := svc.Extend(ctx, pos[0], nil, o.by)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(e.stdout, map[string]any{"conversation_id": x.Conversation.ID, "expires_at": bridge.FormatTime(x.Conversation.ExpiresAt), "capped": x.Capped})
			}
			fmt.Fprintf(e.stdout, "%s now expires at %s", x.Conversation.ID, bridge.FormatTime(x.Conversation.ExpiresAt))
			if x.Capped {
				fmt.Fprint(e.stdout, " (its maximum lifetime)")
			}
			fmt.Fprintln(e.stdout)
			return nil
		})),
	}
}
