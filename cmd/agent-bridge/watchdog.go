package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func watchdogCommand() command {
	return command{
		name: "watchdog", summary: "report sessions that fall silent, and their return", usage: "[--silent-after 5m] [--interval 30s] [--reassign-after 5m] [--notify-partner] [--exec CMD] [--json]",
		help: `Checks every --interval until interrupted. When a session that was active makes no call
for --silent-after, it prints one event and records it in the audit trail, once per
silence however many watchdogs run against the database; when the session calls
again it reports its return. Each pass also reopens the tasks of assignees silent
for --reassign-after (or their conversation's own threshold), once per silence, and
prints a REOPENED event for each (event "reopened" with --json). With --notify-partner the partner receives a notice from
the bridge. With --exec the shell command (sh -c; cmd /C on Windows) runs for each event with
AGENT_BRIDGE_EVENT (silent or back), AGENT_BRIDGE_EVENT_CONVERSATION, _SESSION, _ROLE,
_STATUS and _SILENCE_SECONDS in its environment (never a token).`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print each event as a JSON line")
			fs.DurationVar(&o.silentAfter, "silent-after", 5*time.Minute, "a session that made no call for this long is silent")
			fs.DurationVar(&o.interval, "interval", 30*time.Second, "how often to check")
			fs.BoolVar(&o.notifyPartner, "notify-partner", false, "send the silent session's partner a notice from the bridge")
			fs.StringVar(&o.execCmd, "exec", "", "run this shell `command` on each event, with details in AGENT_BRIDGE_EVENT_* variables")
			fs.DurationVar(&o.reassignAfter, "reassign-after", bridge.DefaultReassignAfter, "reopen a task whose assignee made no call for this long (in conversations that set no threshold of their own)")
		},
		run: adminRun("watchdog", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			if o.silentAfter <= 0 || o.interval <= 0 || o.reassignAfter <= 0 {
				return usagef("--silent-after, --interval and --reassign-after must be positive")
			}
			tick := time.NewTicker(o.interval)
			defer tick.Stop()
			for {
				events, err := svc.Watchdog(ctx, o.silentAfter, o.notifyPartner)
				if err != nil && ctx.Err() == nil {
					return err
				}
				for _, ev := range events {
					if err := reportEvent(ctx, e, o, ev); err != nil {
						return err
					}
				}
				reopened, err := svc.Reassign(ctx)
				if err != nil && ctx.Err() == nil {
					return err
				}
				for _, st := range reopened {
					if err := reportReopened(e, o, st); err != nil {
						return err
					}
				}
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
			}
		}),
	}
}

func reportReopened(e env, o *options, st bridge.StaleTask) error {
	if o.json {
		return printJSONLine(e, map[string]any{"event": "reopened", "conversation_id": st.ConversationID, "task_id": st.ID,
			"title": st.Title, "session_id": string(st.Assignee), "last_activity": bridge.FormatTime(st.Heartbeat)})
	}
	_, err := fmt.Fprintf(e.stdout, "%s REOPENED %s task %d %q: assignee %s silent since %s\n",
		time.Now().UTC().Format(time.DateTime), st.ConversationID, st.ID, termtext.Safe(st.Title), st.Assignee, bridge.FormatTime(st.Heartbeat))
	return err
}

func reportEvent(ctx context.Context, e env, o *options, ev bridge.WatchEvent) error {
	if o.json {
		m := activityJSON(ev.Activity)
		m["event"] = ev.Kind
		if err := printJSONLine(e, m); err != nil {
			return err
		}
	} else if ev.Kind == "silent" {
		fmt.Fprintf(e.stdout, "%s SILENT %s session %s (%s): no call for %s, last status %s\n",
			time.Now().UTC().Format(time.DateTime), ev.Conversation.ID, ev.Session, termtext.Safe(ev.Role), ev.Silence.Round(time.Second), ev.Status)
	} else {
		fmt.Fprintf(e.stdout, "%s BACK   %s session %s (%s): status %s\n",
			time.Now().UTC().Format(time.DateTime), ev.Conversation.ID, ev.Session, termtext.Safe(ev.Role), ev.Status)
	}
	if o.execCmd == "" {
		return nil
	}
	cmd := shellCommand(ctx, runtime.GOOS, o.execCmd)
	cmd.Env = append(os.Environ(),
		"AGENT_BRIDGE_EVENT="+ev.Kind,
		"AGENT_BRIDGE_EVENT_CONVERSATION="+ev.Conversation.ID,
		"AGENT_BRIDGE_EVENT_SESSION="+string(ev.Session),
		"AGENT_BRIDGE_EVENT_ROLE="+ev.Role,
		"AGENT_BRIDGE_EVENT_STATUS="+ev.Status,
		"AGENT_BRIDGE_EVENT_SILENCE_SECONDS="+strconv.Itoa(int(ev.Silence.Seconds())),
	)
	cmd.Stdout, cmd.Stderr = e.stderr, e.stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(e.stderr, "agent-bridge watchdog: --exec command failed: %v\n", err)
	}
	return nil
}

// shellCommand runs line with the platform's shell: /bin/sh -c, or cmd /C
// on Windows.
func shellCommand(ctx context.Context, goos, line string) *exec.Cmd {
	if goos == "windows" {
		return exec.CommandContext(ctx, "cmd", "/C", line)
	}
	return exec.CommandContext(ctx, "/bin/sh", "-c", line)
}
