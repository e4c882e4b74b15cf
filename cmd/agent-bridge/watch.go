package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func watchCommand() command {
	return command{
		name: "watch", summary: "print a member's messages as they arrive", usage: "--conversation ID --session MEMBER [--token-file FILE] [--json]",
		help: `Prints every message addressed to the member (broadcasts included), then each new
one the moment it is
stored (by any process sharing the database), until interrupted. It marks nothing
read: the agent still receives each message from check_messages. It replaces the
original project's keep-alive and file-watcher scripts.

The member's token is read from --token-file or $AGENT_BRIDGE_TOKEN, never from a
flag (other users could read it in the process list). Exits 1 with a message when the
token is wrong or the conversation expires or is removed; 0 when interrupted.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print one JSON object per message")
			fs.StringVar(&o.conversation, "conversation", "", "the conversation `ID` to watch")
			fs.StringVar(&o.session, "session", "", "the `member` to watch for (a, b, or a member id from join_conversation)")
			fs.StringVar(&o.tokenFile, "token-file", "", "`file` holding the member's token (else $AGENT_BRIDGE_TOKEN; never a flag, which ps would show)")
		},
		run: adminRun("watch", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			if o.conversation == "" || o.session == "" {
				return usagef("watch needs --conversation ID and --session MEMBER (a, b, or the member id join_conversation gave)")
			}
			tok := e.getenv("AGENT_BRIDGE_TOKEN")
			if o.tokenFile != "" {
				b, err := os.ReadFile(o.tokenFile)
				if err != nil {
					return fmt.Errorf("token file: %w", err)
				}
				tok = strings.TrimSpace(string(b))
			}
			if tok == "" {
				return usagef("watch needs the member's token in --token-file FILE or $AGENT_BRIDGE_TOKEN")
			}
			c := bridge.Caller{ConversationID: o.conversation, Session: bridge.Session(o.session), Token: tok}
			err := svc.Watch(ctx, c, 0, func(m bridge.Message) error {
				if o.json {
					return printJSONLine(e, messageJSONOf(m))
				}
				fmt.Fprintf(e.stdout, "#%d %s -> %s  %s  %s\n", m.ID, m.From, m.To, m.ActionType, bridge.FormatTime(m.CreatedAt))
				if len(m.Files) > 0 {
					fmt.Fprintf(e.stdout, "files: %q\n", m.Files) // %q escapes control characters
				}
				_, err := fmt.Fprintf(e.stdout, "%s\n\n", termtext.Block(m.Body))
				return err
			})
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil // interrupted
			}
			return err
		}),
	}
}
