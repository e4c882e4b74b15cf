package main

import (
	"context"
	"fmt"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func cleanupCommand() command {
	return command{
		name: "cleanup", summary: "remove expired conversations", usage: "[--json]",
		help:  "Removes expired conversations with their messages and statuses and reports the counts. Audit rows are kept.",
		flags: jsonFlag("print JSON for scripts"),
		run: adminRun("cleanup", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			c, err := svc.Cleanup(ctx)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(e.stdout, map[string]int{"conversations": c.Conversations, "messages": c.Messages, "statuses": c.Statuses, "ended_sessions": c.Sessions})
			}
			fmt.Fprintf(e.stdout, "removed %d expired conversations, %d messages, %d statuses; audit rows kept\n", c.Conversations, c.Messages, c.Statuses)
			return nil
		}),
	}
}
