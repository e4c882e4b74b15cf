package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/redact"
)

// Task states, after the A2A task lifecycle.
const (
	TaskOpen          = "open"           // nobody works on it: any member may claim it
	TaskWorking       = "working"        // its assignee works on it
	TaskInputRequired = "input_required" // its assignee waits for input
	TaskCompleted     = "completed"
	TaskFailed        = "failed"
	TaskCanceled      = "canceled"
)

// EConflict refuses a change that another member's claim or lease stands
// in the way of: the message names who holds what.
const EConflict ErrorKind = "conflict"

// TaskStates lists every task state.
var TaskStates = []string{TaskOpen, TaskWorking, TaskInputRequired, TaskCompleted, TaskFailed, TaskCanceled}

// Limits on a task's text.
const (
	MaxTaskTitle       = 200    // characters
	MaxTaskDescription = 10_000 // characters
	MaxTaskNote        = 2_000  // characters
	MaxTaskPage        = 200    // tasks one list call returns, at most
	DefaultTaskPage    = 50
)

// Task is a unit of work in a conversation, as stored: its texts redacted.
type Task struct {
	ConversationID string
	ID             int64 // 1, 2, ... per conversation
	Title          string
	Description    string
	Files          []string
	CreatedBy      Member
	Assignee       Member // "" while open
	State          string
	Note           string // the last progress note, or the result note once finished
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// ReassignedFor is the heartbeat of the silence episode that last sent
	// the task back to open (zero when none did): one reassignment per
	// episode, however many processes race.
	ReassignedFor time.Time
	MAC           string
}

// Ended reports whether the task is completed, failed or canceled.
func (t Task) Ended() bool {
	return t.State == TaskCompleted || t.State == TaskFailed || t.State == TaskCanceled
}

// Active reports whether the task is assigned and not ended.
func (t Task) Active() bool { return t.State == TaskWorking || t.State == TaskInputRequired }

// TaskFilter selects tasks.
type TaskFilter struct {
	ConversationID string   // every conversation when ""
	Assignee       Member   // any when ""
	States         []string // any when empty
	AfterID        int64    // ids above this
	Limit          int      // all when 0
}

// StaleTask is a task whose assignee fell silent, with the heartbeat that
// names the silence episode.
type StaleTask struct {
	Task
	Heartbeat time.Time
}

// NewTask is what CreateTask needs.
type NewTask struct {
	Title       string
	Description string
	Files       []string
	Assignee    Member // "" leaves it open for claiming
}

// TaskResult is the result of a task action.
type TaskResult struct {
	Task     Task
	Released int // leases released with it
	Unread   int // messages waiting for the caller
}

// TaskPage is the result of ListTasks.
type TaskPage struct {
	Tasks  []Task
	More   bool // more tasks match after the last one
	Unread int
}

func (s *Service) checkTaskText(arg, v string, maxChars int, required bool) error {
	n := utf8.RuneCountInString(v)
	switch {
	case required && strings.TrimSpace(v) == "":
		return Errorf(EInvalid, "%s is required and must not be blank.", arg)
	case n > maxChars:
		return Errorf(ETooLarge, "%s is %s characters; the limit is %s.", arg, thousands(n), thousands(maxChars))
	}
	if why := storable(v); why != "" {
		return Errorf(EInvalid, "%s %s.", arg, why)
	}
	return nil
}

func checkTaskID(id int64) error {
	if id <= 0 {
		return Errorf(EInvalid, "task_id is required: pass the id of a task (tasks action list shows them).")
	}
	return nil
}

// TaskNotFound is the error stores return for an unknown task.
func TaskNotFound(conv string, id int64) error {
	return Errorf(ENotFound, "%s has no task %d. Call tasks with action list to see its tasks.", conv, id)
}

// taskAction is the frame of every task change: validate, authorize, read
// the task (refusing a forged one) and the team, let fn change it, then
// write it with a compare-and-set on its state and assignee. fn returns the
// audit detail and who to tell what.
func (s *Service) taskAction(ctx context.Context, c Caller, id int64, check func() error,
	fn func(me Member, t *Task, team roster) (detail string, notes []notice, err error)) (TaskResult, error) {
	var out TaskResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := checkTaskID(id); err != nil {
			return "", err
		}
		if check != nil {
			if err := check(); err != nil {
				return "", err
			}
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		t, err := s.task(tx, c.ConversationID, id)
		if err != nil {
			return "", err
		}
		team, err := s.team(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		wasState, wasAssignee := t.State, t.Assignee
		detail, notes, err := fn(c.Session, &t, team)
		if err != nil {
			return "", err
		}
		t.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		t = s.sealTask(t)
		ok, err := tx.SaveTask(t, wasState, wasAssignee)
		if err != nil {
			return "", err
		}
		if !ok {
			// Writers are serialised, so this is a store that lost the
			// race inside one transaction: never expected.
			return "", fmt.Errorf("task %d changed under its writer", id)
		}
		if t.Ended() || (t.State == TaskOpen && wasState != TaskOpen) {
			if out.Released, err = tx.DeleteTaskLeases(c.ConversationID, id); err != nil {
				return "", err
			}
		}
		if err := s.tell(tx, c.ConversationID, c.Session, team, notes, now); err != nil {
			return "", err
		}
		out.Task = t
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return detail, nil
	})
	return out, err
}

// task reads a task and refuses it unless its MAC verifies.
func (s *Service) task(tx TaskTx, conv string, id int64) (Task, error) {
	t, err := tx.Task(conv, id)
	if err != nil {
		return t, err
	}
	if !s.taskSealed(t) {
		return Task{}, TaskAltered(conv, id)
	}
	return t, nil
}

// notice is one system message about a task: to one member, or to every
// other member when To is Broadcast.
type notice struct {
	To   Member
	Body string
}

// tell delivers notices from `from` through the normal message path, so
// waits, channels, watch and hooks see them. Notices to the sender itself,
// to nobody, or to a member that left are dropped, and so is a second
// notice to the same member.
func (s *Service) tell(tx Tx, conv string, from Member, team roster, notes []notice, now time.Time) error {
	sent := map[Member]bool{}
	for _, n := range notes {
		if n.To == "" || sent[n.To] || (n.To == from && n.To != Broadcast) {
			continue
		}
		if _, ok := team.member(n.To); n.To != Broadcast && !ok {
			continue
		}
		if n.To == Broadcast && len(team.active) < 2 {
			continue
		}
		sent[n.To] = true
		m := Message{ConversationID: conv, From: from, To: n.To, ActionType: "info", System: true,
			Body: n.Body, CreatedAt: now.UTC().Truncate(time.Millisecond)}
		if err := addMessage(tx, &m); err != nil {
			return err
		}
	}
	return nil
}

func quoteTitle(t Task) string { return fmt.Sprintf("%d %q", t.ID, t.Title) }

// CreateTask adds a task to the caller's conversation: assigned to a
// member (state working) or open for claiming. The assignee, or every
// other member for an open task, is told.
func (s *Service) CreateTask(ctx context.Context, c Caller, in NewTask) (TaskResult, error) {
	var out TaskResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := s.checkTaskText("title", in.Title, MaxTaskTitle, true); err != nil {
			return "", err
		}
		if err := s.checkTaskText("description", in.Description, MaxTaskDescription, false); err != nil {
			return "", err
		}
		if err := s.checkSend(&SendInput{Message: "x", Files: in.Files}); err != nil {
			return "", err
		}
		if in.Assignee != "" && !in.Assignee.Valid() {
			return "", Errorf(EInvalid, "to %q is not a member id (pattern %s): name the member to assign, or omit to to leave the task open.", in.Assignee, MemberIDPattern)
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		team, err := s.team(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		if in.Assignee != "" {
			if _, ok := team.member(in.Assignee); !ok {
				return "", Errorf(ENotFound, "to %q is not a member of %s (members: %s): assign one of them, or omit to to leave the task open.", in.Assignee, c.ConversationID, quoteList(team.ids()))
			}
		}
		id, err := tx.NextTaskID(c.ConversationID)
		if err != nil {
			return "", err
		}
		at := now.UTC().Truncate(time.Millisecond)
		var findings []redact.Finding
		red := func(v string) string {
			out, f := s.redactor.Redact(v)
			findings = append(findings, f...)
			return out
		}
		t := Task{ConversationID: c.ConversationID, ID: id, Title: red(in.Title), Description: red(in.Description),
			Files: []string{}, CreatedBy: c.Session, Assignee: in.Assignee, State: TaskOpen, CreatedAt: at, UpdatedAt: at}
		for _, f := range in.Files {
			t.Files = append(t.Files, red(f))
		}
		if in.Assignee != "" {
			t.State = TaskWorking
		}
		t = s.sealTask(t)
		if err := tx.AddTask(t); err != nil {
			return "", err
		}
		var notes []notice
		if in.Assignee != "" {
			notes = append(notes, notice{in.Assignee, fmt.Sprintf("Task %s was assigned to you by %s. Report with tasks action progress, finish it with action finish.", quoteTitle(t), c.Session)})
		} else {
			notes = append(notes, notice{Broadcast, fmt.Sprintf("New open task %s from %s. Claim it with tasks action claim, task_id %d.", quoteTitle(t), c.Session, t.ID)})
		}
		if err := s.tell(tx, c.ConversationID, c.Session, team, notes, now); err != nil {
			return "", err
		}
		out.Task = t
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		detail := fmt.Sprintf("task %d created (%s)", t.ID, t.State)
		if in.Assignee != "" {
			detail += " for " + string(in.Assignee)
		}
		if len(findings) > 0 {
			detail += ", redacted " + countsText(redact.Counts(findings))
		}
		return detail, nil
	})
	return out, err
}

// ClaimTask makes the caller the assignee of an open task. Of two members
// claiming at once exactly one wins (one conditional UPDATE); the other is
// told who won.
func (s *Service) ClaimTask(ctx context.Context, c Caller, id int64) (TaskResult, error) {
	var out TaskResult
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if err := checkTaskID(id); err != nil {
			return "", err
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		t, err := s.task(tx, c.ConversationID, id)
		if err != nil {
			return "", err
		}
		if t.State != TaskOpen {
			return "", notOpen(t)
		}
		t.Assignee, t.State, t.UpdatedAt = c.Session, TaskWorking, now.UTC().Truncate(time.Millisecond)
		t = s.sealTask(t)
		ok, err := tx.SaveTask(t, TaskOpen, "")
		if err != nil {
			return "", err
		}
		if !ok {
			won, err := tx.Task(c.ConversationID, id)
			if err != nil {
				return "", err
			}
			return "", notOpen(won)
		}
		team, err := s.team(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		if err := s.tell(tx, c.ConversationID, c.Session, team, []notice{{t.CreatedBy, fmt.Sprintf("%s claimed task %s.", c.Session, quoteTitle(t))}}, now); err != nil {
			return "", err
		}
		out.Task = t
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("task %d claimed", id), nil
	})
	return out, err
}

func notOpen(t Task) error {
	switch {
	case t.Active():
		return Errorf(EConflict, "task %d is already taken: %s claimed it (state %s, since %s). Only open tasks can be claimed; list open tasks with tasks action list, state open.", t.ID, t.Assignee, t.State, FormatTime(t.UpdatedAt))
	default:
		return Errorf(EConflict, "task %d is %s, not open: only open tasks can be claimed.", t.ID, t.State)
	}
}

// ProgressTask records the assignee's progress note, and optionally moves
// the task between working and input_required. The creator is told.
func (s *Service) ProgressTask(ctx context.Context, c Caller, id int64, state, note string) (TaskResult, error) {
	check := func() error {
		if state != "" && state != TaskWorking && state != TaskInputRequired {
			return Errorf(EInvalid, "state for progress must be %q or %q (finish a task with action finish); it is %q.", TaskWorking, TaskInputRequired, state)
		}
		if state == "" && strings.TrimSpace(note) == "" {
			return Errorf(EInvalid, "progress needs a note (what you did, what is next), a state, or both.")
		}
		return s.checkTaskText("note", note, MaxTaskNote, false)
	}
	return s.taskAction(ctx, c, id, check, func(me Member, t *Task, team roster) (string, []notice, error) {
		if err := mustAssignee(t, me, "report progress on"); err != nil {
			return "", nil, err
		}
		if state != "" {
			t.State = state
		}
		if note != "" {
			t.Note = s.clean(note)
		}
		body := fmt.Sprintf("%s on task %s (%s): note %q", me, quoteTitle(*t), t.State, t.Note)
		return fmt.Sprintf("task %d progress (%s)", t.ID, t.State), []notice{{t.CreatedBy, body}}, nil
	})
}

func mustAssignee(t *Task, who Member, what string) error {
	if t.Ended() {
		return Errorf(EConflict, "task %d is %s already: nothing more can be done to it.", t.ID, t.State)
	}
	if t.Assignee != who {
		holder := "nobody (it is open: claim it first)"
		if t.Assignee != "" {
			holder = string(t.Assignee)
		}
		return Errorf(EForbidden, "only task %d's assignee can %s it; it is assigned to %s, not you (%s).", t.ID, what, holder, who)
	}
	return nil
}

// HandTask gives a task to another member (state working): its assignee
// or its creator may. The new assignee and the creator are told.
func (s *Service) HandTask(ctx context.Context, c Caller, id int64, to Member, note string) (TaskResult, error) {
	check := func() error {
		if to == "" || !to.Valid() {
			return Errorf(EInvalid, "to is required for hand: the member id of the member who takes the task over.")
		}
		return s.checkTaskText("note", note, MaxTaskNote, false)
	}
	return s.taskAction(ctx, c, id, check, func(me Member, t *Task, team roster) (string, []notice, error) {
		if t.Ended() {
			return "", nil, Errorf(EConflict, "task %d is %s already: it cannot be handed on.", t.ID, t.State)
		}
		if t.Assignee != me && t.CreatedBy != me {
			return "", nil, Errorf(EForbidden, "only task %d's assignee (%s) or its creator (%s) can hand it on; you are %s.", t.ID, orNobody(t.Assignee), t.CreatedBy, me)
		}
		if _, ok := team.member(to); !ok {
			return "", nil, Errorf(ENotFound, "to %q is not a member of %s (members: %s).", to, t.ConversationID, quoteList(team.ids()))
		}
		if to == t.Assignee {
			return "", nil, Errorf(EInvalid, "task %d is already assigned to %s.", t.ID, to)
		}
		from := t.Assignee
		t.Assignee, t.State = to, TaskWorking
		if note != "" {
			t.Note = s.clean(note)
		}
		body := fmt.Sprintf("%s handed task %s to %s.", me, quoteTitle(*t), to)
		if t.Note != "" {
			body += fmt.Sprintf(" Note: %q", t.Note)
		}
		return fmt.Sprintf("task %d handed from %s to %s", t.ID, orNobody(from), to),
			[]notice{{to, body}, {t.CreatedBy, body}, {from, body}}, nil
	})
}

func orNobody(m Member) string {
	if m == "" {
		return "nobody"
	}
	return string(m)
}

// FinishTask ends the caller's task as completed or failed with a result
// note; its leases are released and the creator is told.
func (s *Service) FinishTask(ctx context.Context, c Caller, id int64, state, note string) (TaskResult, error) {
	if state == "" {
		state = TaskCompleted
	}
	check := func() error {
		if state != TaskCompleted && state != TaskFailed {
			return Errorf(EInvalid, "state for finish must be %q (default) or %q; it is %q.", TaskCompleted, TaskFailed, state)
		}
		return s.checkTaskText("note", note, MaxTaskNote, true)
	}
	return s.taskAction(ctx, c, id, check, func(me Member, t *Task, team roster) (string, []notice, error) {
		if err := mustAssignee(t, me, "finish"); err != nil {
			return "", nil, err
		}
		t.State, t.Note = state, s.clean(note)
		body := fmt.Sprintf("%s finished task %s: %s. Result: %q", me, quoteTitle(*t), state, t.Note)
		return fmt.Sprintf("task %d %s", t.ID, state), []notice{{t.CreatedBy, body}}, nil
	})
}

// CancelTask ends a task that is no longer wanted: only its creator may.
// Its leases are released and its assignee is told.
func (s *Service) CancelTask(ctx context.Context, c Caller, id int64, note string) (TaskResult, error) {
	check := func() error { return s.checkTaskText("note", note, MaxTaskNote, false) }
	return s.taskAction(ctx, c, id, check, func(me Member, t *Task, team roster) (string, []notice, error) {
		if t.Ended() {
			return "", nil, Errorf(EConflict, "task %d is %s already: nothing to cancel.", t.ID, t.State)
		}
		if t.CreatedBy != me {
			return "", nil, Errorf(EForbidden, "only task %d's creator (%s) can cancel it; you are %s. Hand it on or finish it as failed instead.", t.ID, t.CreatedBy, me)
		}
		t.State = TaskCanceled
		if note != "" {
			t.Note = s.clean(note)
		}
		body := fmt.Sprintf("%s canceled task %s; stop working on it.", me, quoteTitle(*t))
		if note != "" {
			body += fmt.Sprintf(" Note: %q", t.Note)
		}
		return fmt.Sprintf("task %d canceled", t.ID), []notice{{t.Assignee, body}}, nil
	})
}

// TaskQuery selects what ListTasks returns.
type TaskQuery struct {
	Mine    bool   // assigned to the caller
	State   string // one state; "" for any
	AfterID int64
	Limit   int // 0: DefaultTaskPage
}

// ListTasks returns a page of the caller's conversation's tasks, by id.
// Tasks whose MAC does not verify are left out (audit --verify names them).
func (s *Service) ListTasks(ctx context.Context, c Caller, q TaskQuery) (TaskPage, error) {
	var out TaskPage
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if q.State != "" && !slices.Contains(TaskStates, q.State) {
			return "", Errorf(EInvalid, "state must be one of %s; it is %q.", quoteList(TaskStates), q.State)
		}
		if q.Limit < 0 || q.Limit > MaxTaskPage {
			return "", Errorf(EInvalid, "limit must be 1 to %d (default %d); it is %d.", MaxTaskPage, DefaultTaskPage, q.Limit)
		}
		if q.AfterID < 0 {
			return "", Errorf(EInvalid, "after_id must be 0 or a task id; it is %d.", q.AfterID)
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		f := TaskFilter{ConversationID: c.ConversationID, AfterID: q.AfterID, Limit: q.Limit}
		if f.Limit == 0 {
			f.Limit = DefaultTaskPage
		}
		if q.Mine {
			f.Assignee = c.Session
		}
		if q.State != "" {
			f.States = []string{q.State}
		}
		want := f.Limit
		f.Limit++
		all, err := tx.Tasks(f)
		if err != nil {
			return "", err
		}
		if len(all) > want {
			all, out.More = all[:want], true
		}
		for _, t := range all {
			if s.taskSealed(t) {
				out.Tasks = append(out.Tasks, t)
			}
		}
		if out.Unread, err = tx.UnreadCount(c.ConversationID, c.Session); err != nil {
			return "", err
		}
		return fmt.Sprintf("listed %d tasks", len(out.Tasks)), nil
	})
	return out, err
}

// ReassignBounds bound a conversation's reassignment threshold.
const (
	MinReassignAfter = 10 * time.Second
	MaxReassignAfter = 24 * time.Hour
)

// SetReassignAfter sets how long a task's assignee may be silent before
// the task goes back to open, for the caller's conversation. Any member may.
func (s *Service) SetReassignAfter(ctx context.Context, c Caller, d time.Duration) (time.Duration, error) {
	err := s.callAs(ctx, "tasks", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkShape(c); err != nil {
			return "", err
		}
		if d < MinReassignAfter || d > MaxReassignAfter {
			return "", Errorf(EInvalid, "reassign_after_seconds must be %d to %d; it is %d.", int(MinReassignAfter/time.Second), int(MaxReassignAfter/time.Second), int(d/time.Second))
		}
		if _, _, err := s.authorizeMember(tx, &c, now); err != nil {
			return "", err
		}
		if err := tx.SetReassignAfter(c.ConversationID, d); err != nil {
			return "", err
		}
		team, err := s.team(tx, c.ConversationID, now)
		if err != nil {
			return "", err
		}
		body := fmt.Sprintf("%s set the reassignment threshold to %s: a task whose assignee makes no call for that long goes back to open.", c.Session, Human(d))
		if err := s.tell(tx, c.ConversationID, c.Session, team, []notice{{Broadcast, body}}, now); err != nil {
			return "", err
		}
		return "reassign after " + Human(d), nil
	})
	return d, err
}
