package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
)

func activityJSON(a bridge.Activity) map[string]any {
	var last, silence any
	if !a.LastSeen.IsZero() {
		last, silence = bridge.FormatTime(a.LastSeen), int64(a.Silence.Seconds())
	}
	return map[string]any{
		"conversation_id": a.Conversation.ID, "session_id": string(a.Session), "role": a.Role, "status": a.Status,
		"last_activity": last, "silence_seconds": silence, "silent": a.Silent, "unread_messages": a.Unread,
		"expires_at": bridge.FormatTime(a.Conversation.ExpiresAt),
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
			fmt.Fprintln(tw, "CONVERSATION\tSESSION\tROLE\tSTATUS\tLAST ACTIVITY\tUNREAD\t")
			for _, a := range acts {
				last, flag := "never", ""
				if !a.LastSeen.IsZero() {
					last = ago(a.Silence)
				}
				if a.Silent {
					flag = "SILENT"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Conversation.ID, a.Session, a.Role, a.Status, last, a.Unread, flag)
			}
			return tw.Flush()
		}),
	}
}

func watchdogCommand() command {
	return command{
		name: "watchdog", summary: "report sessions that fall silent, and their return", usage: "[--silent-after 5m] [--interval 30s] [--notify-partner] [--exec CMD] [--json]",
		help: `Checks every --interval until interrupted. When a session that was active makes no call
for --silent-after, it prints one event and records it in the audit trail, once per
silence however many watchdogs run against the database; when the session calls
again it reports its return. With --notify-partner the partner receives a notice from
the bridge. With --exec the shell command runs for each event with
AGENT_BRIDGE_EVENT (silent or back), AGENT_BRIDGE_EVENT_CONVERSATION, _SESSION, _ROLE,
_STATUS and _SILENCE_SECONDS in its environment (never a token).`,
		run: adminRun("watchdog", 0, 0, func(ctx context.Context, e env, o *options, svc *bridge.Service, _ []string) error {
			if o.silentAfter <= 0 || o.interval <= 0 {
				return usagef("--silent-after and --interval must be positive")
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
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
			}
		}),
	}
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
			time.Now().UTC().Format(time.DateTime), ev.Conversation.ID, ev.Session, ev.Role, ev.Silence.Round(time.Second), ev.Status)
	} else {
		fmt.Fprintf(e.stdout, "%s BACK   %s session %s (%s): status %s\n",
			time.Now().UTC().Format(time.DateTime), ev.Conversation.ID, ev.Session, ev.Role, ev.Status)
	}
	if o.execCmd == "" {
		return nil
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", o.execCmd)
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

func extendCommand() command {
	return command{
		name: "extend", summary: "make a conversation last longer", usage: "ID [--by 1h] [--json]",
		help: `Moves the conversation's expiry later by --by (from now if it already expired), never
past its creation plus the maximum lifetime (24 h). Agents can do the same with the
extend_conversation tool.`,
		run: adminRun("extend", 1, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
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
		}),
	}
}

// The export format: JSON lines, a header first.
const (
	exportFormat  = "agent-bridge-conversation"
	exportVersion = 1
)

type exportLine struct {
	Type string `json:"type"`
	// header
	Format     string `json:"format,omitempty"`
	Version    int    `json:"version,omitempty"`
	ExportedAt string `json:"exported_at,omitempty"`
	// conversation
	ID        string `json:"id,omitempty"`
	RoleA     string `json:"role_a,omitempty"`
	RoleB     string `json:"role_b,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	// status
	Session   string `json:"session,omitempty"`
	Status    string `json:"status,omitempty"`
	Heartbeat string `json:"heartbeat,omitempty"`
	// message (id, created_at shared)
	MessageID  int64    `json:"message_id,omitempty"`
	From       string   `json:"from,omitempty"`
	ActionType string   `json:"action_type,omitempty"`
	Message    *string  `json:"message,omitempty"`
	Files      []string `json:"files_involved,omitempty"`
	ReadAt     string   `json:"read_at,omitempty"`
	System     bool     `json:"system,omitempty"`
	// audit
	Audit *auditJSON `json:"audit,omitempty"`
}

type auditJSON struct {
	Seq        int64  `json:"seq"`
	At         string `json:"at"`
	Tool       string `json:"tool"`
	Session    string `json:"session"`
	Outcome    string `json:"outcome"`
	ErrorKind  string `json:"error_kind"`
	Detail     string `json:"detail"`
	PrevDigest string `json:"prev_digest"`
	Digest     string `json:"digest"`
}

func exportCommand() command {
	return command{
		name: "export", summary: "write a conversation as JSON lines", usage: "ID [--out FILE]",
		help: `Writes the conversation, its statuses, its messages (as stored, redacted) and its audit
rows as JSON lines, after a header naming the format and its version. Tokens are not
exported: they derive from the key of the database a conversation lives in.`,
		run: adminRun("export", 1, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
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
			return writeSnapshot(w, snap)
		}),
	}
}

func writeSnapshot(w io.Writer, snap bridge.Snapshot) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	c := snap.Conversation
	lines := []exportLine{
		{Type: "header", Format: exportFormat, Version: exportVersion, ExportedAt: bridge.FormatTime(time.Now())},
		{Type: "conversation", ID: c.ID, RoleA: c.RoleA, RoleB: c.RoleB, CreatedAt: bridge.FormatTime(c.CreatedAt), ExpiresAt: bridge.FormatTime(c.ExpiresAt)},
	}
	for _, st := range snap.States {
		lines = append(lines, exportLine{Type: "status", Session: string(st.Session), Status: st.Status, Heartbeat: bridge.FormatTime(st.Heartbeat)})
	}
	for _, m := range snap.Messages {
		body := m.Body
		lines = append(lines, exportLine{Type: "message", MessageID: m.ID, From: string(m.From), ActionType: m.ActionType, Message: &body,
			Files: m.Files, CreatedAt: bridge.FormatTime(m.CreatedAt), ReadAt: bridge.FormatTime(m.ReadAt), System: m.System})
	}
	for _, a := range snap.Audit {
		lines = append(lines, exportLine{Type: "audit", Audit: &auditJSON{a.Seq, bridge.FormatTime(a.At), a.Tool, a.Session, a.Outcome, string(a.ErrorKind), a.Detail, a.PrevDigest, a.Digest}})
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return bw.Flush()
}

func importCommand() command {
	return command{
		name: "import", summary: "load an exported conversation", usage: "FILE [--rename] [--json]",
		help: `Loads a conversation written by export into this database, keeping its ids, times and
read state. It never overwrites: a conversation or message id that exists is refused,
unless --rename imports under new ids. The source's audit rows stay in the file (their
digests belong to the source's key); the import is audited here. Run 'tokens ID' for the
sessions' tokens in this database.`,
		run: adminRun("import", 1, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			f, err := os.Open(pos[0])
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer f.Close()
			snap, err := readSnapshot(f)
			if err != nil {
				return fmt.Errorf("import %s: %w", pos[0], err)
			}
			conv, err := svc.Import(ctx, snap, o.rename)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(e.stdout, map[string]any{"conversation_id": conv.ID, "source_id": snap.Conversation.ID, "messages": len(snap.Messages)})
			}
			fmt.Fprintf(e.stdout, "imported %s as %s: %d messages, %d statuses\n", snap.Conversation.ID, conv.ID, len(snap.Messages), len(snap.States))
			return nil
		}),
	}
}

func readSnapshot(r io.Reader) (bridge.Snapshot, error) {
	var snap bridge.Snapshot
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	parseTime := func(line int, what, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, fmt.Errorf("line %d: %s: %v", line, what, err)
		}
		return t, nil
	}
	n := 0
	for sc.Scan() {
		n++
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return snap, fmt.Errorf("line %d: %v", n, err)
		}
		var err error
		switch {
		case n == 1:
			if l.Type != "header" || l.Format != exportFormat {
				return snap, fmt.Errorf("line 1: not an agent-bridge export (want a header with format %q)", exportFormat)
			}
			if l.Version != exportVersion {
				return snap, fmt.Errorf("line 1: export format version %d; this agent-bridge reads version %d", l.Version, exportVersion)
			}
		case l.Type == "conversation":
			c := bridge.Conversation{ID: l.ID, RoleA: l.RoleA, RoleB: l.RoleB}
			if c.CreatedAt, err = parseTime(n, "created_at", l.CreatedAt); err != nil {
				return snap, err
			}
			if c.ExpiresAt, err = parseTime(n, "expires_at", l.ExpiresAt); err != nil {
				return snap, err
			}
			snap.Conversation = c
		case l.Type == "status":
			st := bridge.SessionState{Session: bridge.Session(l.Session), Status: l.Status}
			if st.Heartbeat, err = parseTime(n, "heartbeat", l.Heartbeat); err != nil {
				return snap, err
			}
			snap.States = append(snap.States, st)
		case l.Type == "message":
			if l.Message == nil {
				return snap, fmt.Errorf("line %d: message without text", n)
			}
			m := bridge.Message{ID: l.MessageID, From: bridge.Session(l.From), ActionType: l.ActionType, Body: *l.Message, Files: l.Files, System: l.System}
			if m.CreatedAt, err = parseTime(n, "created_at", l.CreatedAt); err != nil {
				return snap, err
			}
			if m.ReadAt, err = parseTime(n, "read_at", l.ReadAt); err != nil {
				return snap, err
			}
			snap.Messages = append(snap.Messages, m)
		case l.Type == "audit" && l.Audit != nil:
			// Kept for the count only: import does not re-chain them.
			snap.Audit = append(snap.Audit, bridge.AuditEntry{Seq: l.Audit.Seq, Tool: l.Audit.Tool})
		default:
			return snap, fmt.Errorf("line %d: unknown line type %q", n, l.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return snap, err
	}
	if n == 0 {
		return snap, errors.New("empty file")
	}
	if snap.Conversation.ID == "" {
		return snap, errors.New("no conversation line")
	}
	return snap, nil
}

func backupCommand() command {
	return command{
		name: "backup", summary: "copy the live database consistently", usage: "DEST",
		help: `Writes a consistent copy of the database to DEST (which must not exist) while agents
keep writing, checks it with integrity_check, and copies the key file to DEST.key so
that tokens stay valid after a restore. Both files are created 0600.

To restore: stop the agents' servers, then copy DEST over the database file and
DEST.key over its key file (default: the database path plus .key), and remove any
-wal and -shm files left beside the old database.`,
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
