package main

import (
	"context"
	"fmt"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func tokensCommand() command {
	return command{
		name: "tokens", summary: "print a conversation's session tokens", usage: "ID [MEMBER] [--json]",
		help: `Recomputes the tokens of sessions a and b of a conversation from the key file (tokens
are never stored) and prints them, for a person reconnecting an agent; with MEMBER, only
that member's token (any member, joined by invite or not). Tokens are secrets: the
disclosure is recorded in the audit trail and a warning goes to stderr.`,
		flags: jsonFlag("print JSON for scripts"),
		run: adminRun("tokens", 1, 2, conversationArg(func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			if len(pos) == 2 {
				tok, err := svc.MemberToken(ctx, pos[0], bridge.Member(pos[1]))
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stderr, "warning: this token lets anyone who sees it act as that member; do not paste it into shared places.")
				if o.json {
					return printJSON(e.stdout, map[string]string{"conversation_id": pos[0], "member_id": pos[1], "token": tok})
				}
				fmt.Fprintf(e.stdout, "conversation_id: %s\nmember %s token: %s\n", pos[0], pos[1], tok)
				return nil
			}
			a, b, err := svc.Tokens(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stderr, "warning: these tokens let anyone who sees them act as the sessions of this conversation; do not paste them into shared places.")
			if o.json {
				return printJSON(e.stdout, map[string]string{"conversation_id": pos[0], "session_a_token": a, "session_b_token": b})
			}
			fmt.Fprintf(e.stdout, "conversation_id: %s\nsession a token: %s\nsession b token: %s\n", pos[0], a, b)
			return nil
		})),
	}
}
