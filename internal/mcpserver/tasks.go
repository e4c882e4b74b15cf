package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// taskActions are the actions of the tasks tool: task actions, then lease
// actions. One tool keeps tools/list small.
var taskActions = []string{"list", "create", "claim", "progress", "hand", "finish", "cancel", "configure", "lease", "leases", "renew", "release"}

func (h *handlers) tasksTool() tool {
	cfg := h.svc.Config()
	params := append(callerParams(),
		param{name: "action", required: true, enum: taskActions},
		param{name: "task_id", kind: "integer"},
		param{name: "title", maxLen: bridge.MaxTaskTitle},
		param{name: "description"},
		param{name: "files", kind: "array", maxItems: cfg.MaxFiles},
		param{name: "to", pattern: bridge.MemberIDPattern, desc: "create: assignee (omit: open); hand: new assignee."},
		param{name: "state", enum: bridge.TaskStates, desc: "list filter; progress: working|input_required; finish: completed|failed."},
		param{name: "note", maxLen: bridge.MaxTaskNote, desc: "Progress, or finish's result (required)."},
		param{name: "mine", kind: "boolean", desc: "list: only yours."},
		param{name: "after_id", kind: "integer", desc: "list: next page."},
		param{name: "limit", kind: "integer"},
		param{name: "paths", kind: "array", maxItems: bridge.MaxLeasePaths,
			desc: "lease: repo-relative paths or globs (src/auth/**)."},
		param{name: "exclusive", kind: "boolean", def: true, desc: "lease: false = shared."},
		param{name: "ttl_seconds", kind: "integer",
			desc: fmt.Sprintf("lease/renew: %d-%d, default %d.", int(bridge.MinLeaseTTL/time.Second), int(bridge.MaxLeaseTTL/time.Second), int(bridge.DefaultLeaseTTL/time.Second))},
		param{name: "lease_id", kind: "integer"},
		param{name: "reassign_after_seconds", kind: "integer", desc: "configure."},
	)
	taskObj := typ("object")
	def := mcp.NewTool("tasks",
		mcp.WithDescription(`Team task board and file leases. Tasks: create (title; to assigns, else open), claim an open one, progress, hand, finish, cancel (creator only), list. `+
			`A task whose assignee makes no call for the threshold (configure; default 5 min) reopens and its leases end. `+
			`Leases: lease paths before editing (task_id ends them with the task), renew, release, leases. Changes reach members as messages.`),
		withInput(params),
		mcp.WithRawOutputSchema(outputSchema(map[string]any{
			"conversation_id":        typ("string"),
			"action":                 typ("string"),
			"task":                   typ("object", "null"),
			"tasks":                  map[string]any{"type": "array", "items": taskObj},
			"more":                   typ("boolean"),
			"leases":                 map[string]any{"type": "array", "items": typ("object")},
			"released_leases":        typ("integer"),
			"reassign_after_seconds": typ("integer", "null"),
			"unread_messages":        typ("integer"),
		})),
		annotations("Tasks", false, false),
	)
	return tool{def, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		const name = "tasks"
		a := newArgs(name, params, req.GetArguments())
		c := bindCaller(a)
		action := a.String("action")
		id := int64(a.Int("task_id"))
		note, state, to := a.String("note"), a.String("state"), bridge.Member(a.String("to"))
		ttl := time.Duration(a.Int("ttl_seconds")) * time.Second
		newTask := bridge.NewTask{Title: a.String("title"), Description: a.String("description"), Files: a.Strings("files"), Assignee: to}
		q := bridge.TaskQuery{Mine: a.Bool("mine"), State: state, AfterID: int64(a.Int("after_id")), Limit: a.Int("limit")}
		lin := bridge.LeaseInput{Paths: a.Strings("paths"), Exclusive: a.Bool("exclusive"), TTL: ttl, TaskID: id}
		leaseID := int64(a.Int("lease_id"))
		reassign := time.Duration(a.Int("reassign_after_seconds")) * time.Second
		if err := a.Err(); err != nil {
			return h.refuse(ctx, name, c, err), nil
		}
		out := map[string]any{"conversation_id": c.ConversationID, "action": action, "task": nil, "tasks": []any{}, "more": false,
			"leases": []any{}, "released_leases": 0, "reassign_after_seconds": nil}
		var text string
		var unread int
		var tr bridge.TaskResult
		var lr bridge.LeaseResult
		var err error
		switch action {
		case "create":
			tr, err = h.svc.CreateTask(ctx, c, newTask)
		case "claim":
			tr, err = h.svc.ClaimTask(ctx, c, id)
		case "progress":
			tr, err = h.svc.ProgressTask(ctx, c, id, state, note)
		case "hand":
			tr, err = h.svc.HandTask(ctx, c, id, to, note)
		case "finish":
			tr, err = h.svc.FinishTask(ctx, c, id, state, note)
		case "cancel":
			tr, err = h.svc.CancelTask(ctx, c, id, note)
		case "list":
			var page bridge.TaskPage
			if page, err = h.svc.ListTasks(ctx, c, q); err != nil {
				return h.fail(name, err), nil
			}
			list := make([]any, len(page.Tasks))
			lines := make([]string, len(page.Tasks))
			for i, t := range page.Tasks {
				list[i], lines[i] = taskJSON(t), taskLine(t)
			}
			out["tasks"], out["more"] = list, page.More
			text = fmt.Sprintf("%s:\n%s", bridge.Quantity(len(page.Tasks), "task"), strings.Join(lines, "\n"))
			if len(page.Tasks) == 0 {
				text = "No tasks match."
			}
			if page.More {
				text += fmt.Sprintf("\nMore match: call again with after_id %d.", page.Tasks[len(page.Tasks)-1].ID)
			}
			unread = page.Unread
		case "configure":
			var d time.Duration
			if d, err = h.svc.SetReassignAfter(ctx, c, reassign); err != nil {
				return h.fail(name, err), nil
			}
			out["reassign_after_seconds"] = int(d / time.Second)
			text = fmt.Sprintf("Tasks of this conversation now reopen when their assignee makes no call for %s.", bridge.Human(d))
		case "lease":
			lr, err = h.svc.LeasePaths(ctx, c, lin)
		case "leases":
			lr, err = h.svc.ListLeases(ctx, c)
		case "renew":
			lr, err = h.svc.RenewLease(ctx, c, leaseID, ttl)
		case "release":
			lr, err = h.svc.ReleaseLease(ctx, c, leaseID)
		default:
			return h.refuse(ctx, name, c, bridge.Errorf(bridge.EInvalid, "action must be one of %s.", strings.Join(taskActions, ", "))), nil
		}
		if err != nil {
			return h.fail(name, err), nil
		}
		switch action {
		case "create", "claim", "progress", "hand", "finish", "cancel":
			out["task"], out["released_leases"] = taskJSON(tr.Task), tr.Released
			text = taskDone(action, tr)
			unread = tr.Unread
		case "lease", "leases", "renew", "release":
			list := make([]any, len(lr.Leases))
			lines := make([]string, len(lr.Leases))
			for i, l := range lr.Leases {
				list[i], lines[i] = leaseJSON(l), leaseLine(l)
			}
			out["leases"] = list
			verb := map[string]string{"lease": "Leased", "leases": "Live leases", "renew": "Renewed", "release": "Released"}[action]
			text = verb + ":\n" + strings.Join(lines, "\n")
			if len(lr.Leases) == 0 {
				text = "No live leases."
			}
			unread = lr.Unread
		}
		out["unread_messages"] = unread
		return mcp.NewToolResultStructured(out, text+unreadText(unread)), nil
	}}
}

func taskDone(action string, r bridge.TaskResult) string {
	t := r.Task
	var s string
	switch action {
	case "create":
		s = fmt.Sprintf("Created task %d (%s).", t.ID, t.State)
		if t.Assignee == "" {
			s += " It is open: any member may claim it."
		}
	case "claim":
		s = fmt.Sprintf("You claimed task %d; it is yours (working). Lease the files you will change (action lease, task_id %d), report with progress, end with finish.", t.ID, t.ID)
	case "hand":
		s = fmt.Sprintf("Task %d handed to %s.", t.ID, t.Assignee)
	default:
		s = fmt.Sprintf("Task %d is %s.", t.ID, t.State)
	}
	if r.Released > 0 {
		s += " " + bridge.Quantity(r.Released, "lease") + " released."
	}
	return s + "\n" + taskLine(t)
}

// taskLine shows a task on one line; agents' text is quoted.
func taskLine(t bridge.Task) string {
	who := "open"
	if t.Assignee != "" {
		who = string(t.Assignee)
	}
	s := fmt.Sprintf("#%d [%s] %s: %q (by %s)", t.ID, t.State, who, t.Title, t.CreatedBy)
	if t.Note != "" {
		s += fmt.Sprintf(" note %q", t.Note)
	}
	return s
}

func taskJSON(t bridge.Task) map[string]any {
	var assignee any
	if t.Assignee != "" {
		assignee = string(t.Assignee)
	}
	files := t.Files
	if files == nil {
		files = []string{}
	}
	return map[string]any{"id": t.ID, "title": t.Title, "description": t.Description, "files": files, "created_by": string(t.CreatedBy),
		"assignee": assignee, "state": t.State, "note": t.Note, "created_at": bridge.FormatTime(t.CreatedAt), "updated_at": bridge.FormatTime(t.UpdatedAt)}
}

func leaseLine(l bridge.Lease) string {
	s := fmt.Sprintf("lease %d: %q %s by %s until %s", l.ID, l.Pattern, l.Role(), l.Member, bridge.FormatTime(l.ExpiresAt))
	if l.TaskID != 0 {
		s += fmt.Sprintf(" (task %d)", l.TaskID)
	}
	return s
}

func leaseJSON(l bridge.Lease) map[string]any {
	var task any
	if l.TaskID != 0 {
		task = l.TaskID
	}
	return map[string]any{"id": l.ID, "member_id": string(l.Member), "path": l.Pattern, "exclusive": l.Exclusive,
		"task_id": task, "expires_at": bridge.FormatTime(l.ExpiresAt)}
}
