package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

// taskJSON is a task as the CLI prints it.
type taskJSON struct {
	ConversationID string   `json:"conversation_id"`
	ID             int64    `json:"id"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Files          []string `json:"files"`
	CreatedBy      string   `json:"created_by"`
	Assignee       string   `json:"assignee,omitempty"`
	State          string   `json:"state"`
	Note           string   `json:"note"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	ReassignedFor  string   `json:"reassigned_for,omitempty"`
}

func taskJSONOf(t bridge.Task) taskJSON {
	files := t.Files
	if files == nil {
		files = []string{}
	}
	return taskJSON{t.ConversationID, t.ID, t.Title, t.Description, files, string(t.CreatedBy), string(t.Assignee), t.State, t.Note,
		bridge.FormatTime(t.CreatedAt), bridge.FormatTime(t.UpdatedAt), bridge.FormatTime(t.ReassignedFor)}
}

func tasksCommand() command {
	return command{
		name: "tasks", summary: "list tasks: state, assignee, last note", usage: "[CONVERSATION_ID] [--state STATE] [--member ID] [--json]",
		help: `Lists the tasks of one conversation, or of every unexpired conversation: id, state,
assignee ("-" while open), creator, title and the last progress or result note. Agents'
text is shown with control characters made visible. --state keeps one state (open,
working, input_required, completed, failed, canceled); --member keeps one assignee.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
			fs.StringVar(&o.state, "state", "", "only tasks in this `state`")
			fs.StringVar(&o.member, "member", "", "only tasks assigned to this member `id`")
		},
		run: adminRun("tasks", 0, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			f := bridge.TaskFilter{Assignee: bridge.Member(o.member)}
			if len(pos) == 1 {
				f.ConversationID = pos[0]
			}
			if o.state != "" {
				f.States = []string{o.state}
			}
			all, err := svc.AdminTasks(ctx, f)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]taskJSON, len(all))
				for i, t := range all {
					out[i] = taskJSONOf(t)
				}
				return printJSON(e.stdout, out)
			}
			if len(all) == 0 {
				fmt.Fprintln(e.stdout, "no tasks")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CONVERSATION\tID\tSTATE\tASSIGNEE\tCREATOR\tUPDATED\tTITLE\tNOTE")
			for _, t := range all {
				who := string(t.Assignee)
				if who == "" {
					who = "-"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ConversationID, t.ID, t.State, who, t.CreatedBy,
					bridge.FormatTime(t.UpdatedAt), termtext.Safe(clip(t.Title, 60)), termtext.Safe(clip(t.Note, 60)))
			}
			return tw.Flush()
		}),
	}
}

// clip shortens s to n characters for a table column.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type leaseJSON struct {
	ConversationID string `json:"conversation_id"`
	ID             int64  `json:"id"`
	Member         string `json:"member_id"`
	Path           string `json:"path"`
	Exclusive      bool   `json:"exclusive"`
	TaskID         int64  `json:"task_id,omitempty"`
	CreatedAt      string `json:"created_at"`
	ExpiresAt      string `json:"expires_at"`
}

func leasesCommand() command {
	return command{
		name: "leases", summary: "list live file leases: holder, path, exclusive or shared, expiry", usage: "[CONVERSATION_ID] [--json]",
		help: `Lists the live file leases of one conversation, or of every conversation: holder,
path or glob (relative to the repository root), exclusive or shared, the task it is
tied to, and when it ends. Expired leases are not shown (cleanup deletes them).`,
		flags: jsonFlag("print JSON for scripts"),
		run: adminRun("leases", 0, 1, func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			conv := ""
			if len(pos) == 1 {
				conv = pos[0]
			}
			all, err := svc.AdminLeases(ctx, conv)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]leaseJSON, len(all))
				for i, l := range all {
					out[i] = leaseJSON{l.ConversationID, l.ID, string(l.Member), l.Pattern, l.Exclusive, l.TaskID, bridge.FormatTime(l.CreatedAt), bridge.FormatTime(l.ExpiresAt)}
				}
				return printJSON(e.stdout, out)
			}
			if len(all) == 0 {
				fmt.Fprintln(e.stdout, "no live leases")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CONVERSATION\tID\tHOLDER\tROLE\tTASK\tEXPIRES\tPATH")
			for _, l := range all {
				task := "-"
				if l.TaskID != 0 {
					task = fmt.Sprint(l.TaskID)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", l.ConversationID, l.ID, l.Member, l.Role(), task, bridge.FormatTime(l.ExpiresAt), termtext.Safe(l.Pattern))
			}
			return tw.Flush()
		}),
	}
}
