package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func activityJSON(a bridge.Activity) map[string]any {
	var last, silence, task any
	if !a.LastSeen.IsZero() {
		last, silence = bridge.FormatTime(a.LastSeen), int64(a.Silence.Seconds())
	}
	if a.Task.ID != 0 {
		task = map[string]any{"id": a.Task.ID, "title": a.Task.Title, "state": a.Task.State}
	}
	return map[string]any{
		"conversation_id": a.Conversation.ID, "session_id": string(a.Session), "role": a.Role, "status": a.Status,
		"last_activity": last, "silence_seconds": silence, "silent": a.Silent, "unread_messages": a.Unread,
		"expires_at": bridge.FormatTime(a.Conversation.ExpiresAt), "task": task,
	}
}

// ago renders a duration the way a person reads a status board.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds ago", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
}

func statusCommand() command {
	return command{
		name: "status", summary: "show every live session: status, last activity, silence, unread", usage: "[--silent-after 5m] [--json]",
		help: `Shows each session of every unexpired conversation: its role, the status it last set,
when it last made any call, and how many messages wait for it. A session that called
before but not within --silent-after is marked SILENT.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
			fs.DurationVar(&o.silentAfter, "silent-after", 5*time.Minute, "a session that made no call for this long is silent")
		},
		run: adminRun("status", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			acts, err := svc.Activity(ctx, o.silentAfter)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]map[string]any, len(acts))
				for i, a := range acts {
					out[i] = activityJSON(a)
				}
				return printJSON(e.stdout, out)
			}
			if len(acts) == 0 {
				fmt.Fprintln(e.stdout, "no live conversations")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CONVERSATION\tSESSION\tROLE\tSTATUS\tLAST ACTIVITY\tUNREAD\tTASK\t")
			for _, a := range acts {
				last, flag := "never", ""
				if !a.LastSeen.IsZero() {
					last = ago(a.Silence)
				}
				if a.Silent {
					flag = "SILENT"
				}
				task := "-"
				if a.Task.ID != 0 {
					task = fmt.Sprintf("%d %s", a.Task.ID, termtext.Safe(clip(a.Task.Title, 40)))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.Conversation.ID, a.Session, termtext.Safe(a.Role), a.Status, last, a.Unread, task, flag)
			}
			return tw.Flush()
		}),
	}
}
