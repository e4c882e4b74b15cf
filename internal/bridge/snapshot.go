package bridge

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The export format: JSON lines, a header first, then the conversation,
// its members, open invites, messages (each with its deliveries) and audit
// rows, one object a line. Tokens and invite codes are not in it: tokens
// derive from the key of the database a conversation lives in, and only a
// keyed hash of each code exists.
//
// Versions: 1 had the two seats' statuses and one read time per message;
// 2 has members, invites, per-recipient delivery, tasks and live leases. A
// reader takes every version up to its own and refuses newer ones, so a
// later version can add line types without an older reader misreading them.
const (
	SnapshotFormat  = "agent-bridge-conversation" // the header's format
	SnapshotVersion = 2                           // the version written
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
	// member (role, created_at shared with invite; status, heartbeat with
	// version 1's status lines)
	Member     string `json:"member,omitempty"`
	Role       string `json:"role,omitempty"`
	Generation *int   `json:"generation,omitempty"`
	JoinedAt   string `json:"joined_at,omitempty"`
	LeftAt     string `json:"left_at,omitempty"`
	Session    string `json:"session,omitempty"` // version 1
	Status     string `json:"status,omitempty"`
	Heartbeat  string `json:"heartbeat,omitempty"`
	// invite
	CodeHash  string `json:"code_hash,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	// message (id, created_at shared)
	MessageID  int64          `json:"message_id,omitempty"`
	From       string         `json:"from,omitempty"`
	To         string         `json:"to,omitempty"`
	ReplyTo    int64          `json:"reply_to,omitempty"`
	ActionType string         `json:"action_type,omitempty"`
	Message    *string        `json:"message,omitempty"`
	Files      []string       `json:"files_involved,omitempty"`
	ReadAt     string         `json:"read_at,omitempty"` // version 1
	System     bool           `json:"system,omitempty"`
	Delivered  []deliveryJSON `json:"delivered,omitempty"`
	// task, lease
	Task  *taskExport  `json:"task,omitempty"`
	Lease *leaseExport `json:"lease,omitempty"`
	// audit
	Audit *auditJSON `json:"audit,omitempty"`
}

type deliveryJSON struct {
	Member string `json:"member"`
	ReadAt string `json:"read_at,omitempty"` // absent while unread
}

type taskExport struct {
	ID            int64    `json:"id"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Files         []string `json:"files"`
	CreatedBy     string   `json:"created_by"`
	Assignee      string   `json:"assignee"`
	State         string   `json:"state"`
	Note          string   `json:"note"`
	CreatedAt     string   `json:"created_at"`
	UpdatedAt     string   `json:"updated_at"`
	ReassignedFor string   `json:"reassigned_for,omitempty"`
}

type leaseExport struct {
	ID        int64  `json:"id"`
	Member    string `json:"member_id"`
	Pattern   string `json:"pattern"`
	Exclusive bool   `json:"exclusive"`
	TaskID    int64  `json:"task_id,omitempty"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
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

// WriteSnapshot writes snap in the export format, stamped with now.
func WriteSnapshot(w io.Writer, snap Snapshot, now time.Time) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	c := snap.Conversation
	lines := []exportLine{
		{Type: "header", Format: SnapshotFormat, Version: SnapshotVersion, ExportedAt: FormatTime(now)},
		{Type: "conversation", ID: c.ID, RoleA: c.RoleA, RoleB: c.RoleB, CreatedAt: FormatTime(c.CreatedAt), ExpiresAt: FormatTime(c.ExpiresAt)},
	}
	for _, m := range snap.Members {
		g := m.Generation
		lines = append(lines, exportLine{Type: "member", Member: string(m.Member), Role: m.Role, Generation: &g, Status: m.Status,
			Heartbeat: FormatTime(m.Heartbeat), JoinedAt: FormatTime(m.JoinedAt), LeftAt: FormatTime(m.LeftAt)})
	}
	for _, inv := range snap.Invites {
		lines = append(lines, exportLine{Type: "invite", CodeHash: inv.CodeHash, Member: string(inv.Member), Role: inv.Role,
			CreatedBy: string(inv.CreatedBy), CreatedAt: FormatTime(inv.CreatedAt), ExpiresAt: FormatTime(inv.ExpiresAt)})
	}
	delivered := map[int64][]deliveryJSON{}
	for _, d := range snap.Deliveries {
		delivered[d.MessageID] = append(delivered[d.MessageID], deliveryJSON{string(d.Member), FormatTime(d.ReadAt)})
	}
	for _, m := range snap.Messages {
		body := m.Body
		lines = append(lines, exportLine{Type: "message", MessageID: m.ID, From: string(m.From), To: string(m.To), ReplyTo: m.ReplyTo,
			ActionType: m.ActionType, Message: &body, Files: m.Files, CreatedAt: FormatTime(m.CreatedAt), System: m.System,
			Delivered: delivered[m.ID]})
	}
	for _, t := range snap.Tasks {
		lines = append(lines, exportLine{Type: "task", Task: &taskExport{t.ID, t.Title, t.Description, t.Files, string(t.CreatedBy), string(t.Assignee),
			t.State, t.Note, FormatTime(t.CreatedAt), FormatTime(t.UpdatedAt), FormatTime(t.ReassignedFor)}})
	}
	for _, l := range snap.Leases {
		lines = append(lines, exportLine{Type: "lease", Lease: &leaseExport{l.ID, string(l.Member), l.Pattern, l.Exclusive, l.TaskID,
			FormatTime(l.CreatedAt), FormatTime(l.ExpiresAt)}})
	}
	for _, a := range snap.Audit {
		lines = append(lines, exportLine{Type: "audit", Audit: &auditJSON{a.Seq, FormatTime(a.At), a.Tool, a.Session, a.Outcome, string(a.ErrorKind), a.Detail, a.PrevDigest, a.Digest}})
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return bw.Flush()
}

// ReadSnapshot reads a conversation written by WriteSnapshot, of any
// version up to SnapshotVersion. Its errors name the line. The audit rows
// are kept for their count only: an import does not re-chain them (their
// digests belong to the source's key). Whether the lines hold together
// (members, references) is Import's to check.
func ReadSnapshot(r io.Reader) (Snapshot, error) {
	var snap Snapshot
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	n, version := 0, 0
	var err error
	times := func(fields ...any) error {
		for i := 0; i < len(fields); i += 3 {
			what, v, dst := fields[i].(string), fields[i+1].(string), fields[i+2].(*time.Time)
			if v == "" {
				*dst = time.Time{}
				continue
			}
			t, perr := time.Parse(time.RFC3339Nano, v)
			if perr != nil {
				return fmt.Errorf("line %d: %s: %v", n, what, perr)
			}
			*dst = t
		}
		return nil
	}
	var v1 []SessionState // version 1: statuses of the two seats
	for sc.Scan() {
		n++
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return snap, fmt.Errorf("line %d: %v", n, err)
		}
		if n == 1 {
			if l.Type != "header" || l.Format != SnapshotFormat {
				return snap, fmt.Errorf("line 1: not an agent-bridge export (want a header with format %q)", SnapshotFormat)
			}
			if l.Version < 1 || l.Version > SnapshotVersion {
				return snap, fmt.Errorf("line 1: export format version %d; this agent-bridge reads versions 1 to %d", l.Version, SnapshotVersion)
			}
			version = l.Version
			continue
		}
		switch {
		case l.Type == "conversation":
			if snap.Conversation.ID != "" {
				return snap, fmt.Errorf("line %d: a second conversation line", n)
			}
			c := Conversation{ID: l.ID, RoleA: l.RoleA, RoleB: l.RoleB}
			if err = times("created_at", l.CreatedAt, &c.CreatedAt, "expires_at", l.ExpiresAt, &c.ExpiresAt); err != nil {
				return snap, err
			}
			snap.Conversation = c
		case l.Type == "member" && version >= 2:
			if l.Generation == nil {
				return snap, fmt.Errorf("line %d: member %q without a generation", n, l.Member)
			}
			m := Membership{Member: Member(l.Member), Role: l.Role, Generation: *l.Generation, Status: l.Status}
			if err = times("heartbeat", l.Heartbeat, &m.Heartbeat, "joined_at", l.JoinedAt, &m.JoinedAt, "left_at", l.LeftAt, &m.LeftAt); err != nil {
				return snap, err
			}
			if m.JoinedAt.IsZero() {
				return snap, fmt.Errorf("line %d: member %q without joined_at", n, l.Member)
			}
			snap.Members = append(snap.Members, m)
		case l.Type == "invite" && version >= 2:
			inv := Invite{CodeHash: l.CodeHash, Member: Member(l.Member), Role: l.Role, CreatedBy: Member(l.CreatedBy)}
			if err = times("created_at", l.CreatedAt, &inv.CreatedAt, "expires_at", l.ExpiresAt, &inv.ExpiresAt); err != nil {
				return snap, err
			}
			snap.Invites = append(snap.Invites, inv)
		case l.Type == "status" && version == 1:
			st := SessionState{Session: Session(l.Session), Status: l.Status}
			if err = times("heartbeat", l.Heartbeat, &st.Heartbeat); err != nil {
				return snap, err
			}
			v1 = append(v1, st)
		case l.Type == "message":
			if l.Message == nil {
				return snap, fmt.Errorf("line %d: message without text", n)
			}
			m := Message{ID: l.MessageID, From: Member(l.From), To: Member(l.To), ReplyTo: l.ReplyTo, ActionType: l.ActionType,
				Body: *l.Message, Files: l.Files, System: l.System}
			if err = times("created_at", l.CreatedAt, &m.CreatedAt); err != nil {
				return snap, err
			}
			if version == 1 {
				// One read time: the partner's. Converted below, once the
				// seats are known.
				if err = times("read_at", l.ReadAt, &m.ReadAt); err != nil {
					return snap, err
				}
			}
			for _, d := range l.Delivered {
				del := Delivery{MessageID: m.ID, Member: Member(d.Member)}
				if err = times("delivered read_at", d.ReadAt, &del.ReadAt); err != nil {
					return snap, err
				}
				snap.Deliveries = append(snap.Deliveries, del)
			}
			snap.Messages = append(snap.Messages, m)
		case l.Type == "task" && l.Task != nil && version >= 2:
			e := l.Task
			t := Task{ID: e.ID, Title: e.Title, Description: e.Description, Files: e.Files, CreatedBy: Member(e.CreatedBy),
				Assignee: Member(e.Assignee), State: e.State, Note: e.Note}
			if err = times("task created_at", e.CreatedAt, &t.CreatedAt, "task updated_at", e.UpdatedAt, &t.UpdatedAt,
				"task reassigned_for", e.ReassignedFor, &t.ReassignedFor); err != nil {
				return snap, err
			}
			snap.Tasks = append(snap.Tasks, t)
		case l.Type == "lease" && l.Lease != nil && version >= 2:
			e := l.Lease
			ls := Lease{ID: e.ID, Member: Member(e.Member), Pattern: e.Pattern, Exclusive: e.Exclusive, TaskID: e.TaskID}
			if err = times("lease created_at", e.CreatedAt, &ls.CreatedAt, "lease expires_at", e.ExpiresAt, &ls.ExpiresAt); err != nil {
				return snap, err
			}
			snap.Leases = append(snap.Leases, ls)
		case l.Type == "audit" && l.Audit != nil:
			// Kept for the count only: import does not re-chain them.
			snap.Audit = append(snap.Audit, AuditEntry{Seq: l.Audit.Seq, Tool: l.Audit.Tool})
		default:
			return snap, fmt.Errorf("line %d: unknown line type %q for version %d", n, l.Type, version)
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
	if version == 1 {
		fromVersion1(&snap, v1)
	}
	return snap, nil
}

// fromVersion1 turns a version-1 snapshot (a pair: seats a and b, one read
// time per message) into members and deliveries.
func fromVersion1(snap *Snapshot, states []SessionState) {
	c := snap.Conversation
	for _, s := range []Session{SessionA, SessionB} {
		m := Membership{Member: s, Role: c.Role(s), JoinedAt: c.CreatedAt, Status: StatusUnknown}
		for _, st := range states {
			if st.Session == s {
				m.Status, m.Heartbeat = st.Status, st.Heartbeat
			}
		}
		snap.Members = append(snap.Members, m)
	}
	for i := range snap.Messages {
		m := &snap.Messages[i]
		to := m.From.Partner()
		if m.To != "" && m.To != Broadcast {
			to = m.To
		}
		m.To = to
		snap.Deliveries = append(snap.Deliveries, Delivery{MessageID: m.ID, Member: to, ReadAt: m.ReadAt})
		m.ReadAt = time.Time{}
	}
}
