package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Snapshot is one conversation with everything stored about it, for export
// and import between databases.
type Snapshot struct {
	Conversation Conversation
	States       []SessionState // sessions that ever called
	Messages     []Message      // as stored (redacted), oldest first
	Audit        []AuditEntry   // the conversation's audit rows, oldest first
}

// Export returns a snapshot of one conversation. The export is audited.
func (s *Service) Export(ctx context.Context, id string) (Snapshot, error) {
	var out Snapshot
	err := s.call(ctx, "cli:export", id, "", func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		var err error
		if out.Conversation, err = tx.Conversation(id); err != nil {
			return "", err
		}
		for _, sess := range []Session{SessionA, SessionB} {
			st, err := tx.State(id, sess)
			if err != nil {
				return "", err
			}
			if !st.Heartbeat.IsZero() {
				out.States = append(out.States, st)
			}
		}
		if out.Messages, err = tx.Messages(id); err != nil {
			return "", err
		}
		if out.Audit, err = tx.Audit(AuditFilter{ConversationID: id}); err != nil {
			return "", err
		}
		return fmt.Sprintf("exported %d messages, %d audit rows", len(out.Messages), len(out.Audit)), nil
	})
	return out, err
}

// Import stores a snapshot's conversation, statuses and messages, keeping
// their ids and times. It never overwrites: an id that exists is refused,
// unless rename gives the conversation a new id (and its messages new
// ids). The snapshot's audit rows are not re-chained into this store's
// trail (their digests belong to the source's key); the import itself is
// audited. Tokens derive from this store's key: `tokens ID` shows them.
func (s *Service) Import(ctx context.Context, snap Snapshot, rename bool) (Conversation, error) {
	conv := snap.Conversation
	// Like a creation: the global chain records it (its lock first), and
	// the conversation's chain opens with this call's row, which names
	// every imported message.
	c := Caller{}
	err := s.callAs(ctx, "cli:import", &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := tx.Lock(""); err != nil {
			return "", err
		}
		if !ValidConversationID(conv.ID) {
			return "", Errorf(EInvalid, "the export's conversation id %q is malformed", conv.ID)
		}
		_, err := tx.Conversation(conv.ID)
		switch {
		case err == nil && !rename:
			return "", Errorf(EInvalid, "conversation %s already exists in this database; pass --rename to import it under a new id", conv.ID)
		case err == nil:
			if conv.ID, err = newConversationID(); err != nil {
				return "", err
			}
		case !IsNotFound(err):
			return "", err
		}
		// An export is text from outside: it passes the same checks and the
		// same redaction as what agents send, before anything is stored.
		for _, r := range []struct{ name, v string }{{"role_a", conv.RoleA}, {"role_b", conv.RoleB}} {
			if err := s.checkRole("the export's "+r.name, r.v); err != nil {
				return "", err
			}
		}
		if !conv.ExpiresAt.After(conv.CreatedAt) {
			return "", Errorf(EInvalid, "the export's conversation expires (%s) before it was created (%s)", FormatTime(conv.ExpiresAt), FormatTime(conv.CreatedAt))
		}
		conv.RoleA, conv.RoleB = s.clean(conv.RoleA), s.clean(conv.RoleB)
		if err := s.created(tx, now, "cli:import", conv.ID); err != nil {
			return "", err
		}
		c.ConversationID = conv.ID
		if err := tx.CreateConversation(conv); err != nil {
			return "", err
		}
		for _, m := range []Member{SessionA, SessionB} {
			if err := tx.AddMember(Membership{ConversationID: conv.ID, Member: m, Role: conv.Role(m), JoinedAt: conv.CreatedAt}); err != nil {
				return "", err
			}
		}
		for _, st := range snap.States {
			if !st.Session.Valid() || st.Heartbeat.IsZero() || !(st.Status == StatusUnknown || oneOf(st.Status, Statuses)) {
				return "", Errorf(EInvalid, "the export has a malformed status for session %q", st.Session)
			}
			if err := tx.SetState(conv.ID, st.Session, st.Status, st.Heartbeat); err != nil {
				return "", err
			}
		}
		for _, m := range snap.Messages {
			if !m.From.Valid() {
				return "", Errorf(EInvalid, "message %d of the export has sender %q", m.ID, m.From)
			}
			in := SendInput{Message: m.Body, ActionType: m.ActionType, Files: m.Files}
			if err := s.checkSend(&in); err != nil {
				return "", Errorf(EInvalid, "message %d of the export: %s", m.ID, MessageOf(err))
			}
			m.ActionType = in.ActionType
			m.Body = s.clean(m.Body)
			for i, f := range m.Files {
				m.Files[i] = s.clean(f)
			}
			m.ConversationID = conv.ID
			if rename {
				m.ID = 0
			}
			if err := tx.AddMessage(&m); err != nil {
				if !rename {
					return "", Errorf(EInvalid, "message id %d is taken in this database; pass --rename to import with new ids", m.ID)
				}
				return "", err
			}
		}
		return fmt.Sprintf("imported %s as %s: %d messages, %d statuses (%d source audit rows not re-chained)",
			snap.Conversation.ID, conv.ID, len(snap.Messages), len(snap.States), len(snap.Audit)), nil
	})
	return conv, err
}

// The export format: JSON lines, a header first, then the conversation,
// its statuses, messages and audit rows, one object a line. Tokens are not
// in it: they derive from the key of the database a conversation lives in.
const (
	SnapshotFormat  = "agent-bridge-conversation" // the header's format
	SnapshotVersion = 1                           // the header's version
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

// WriteSnapshot writes snap in the export format, stamped with now.
func WriteSnapshot(w io.Writer, snap Snapshot, now time.Time) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	c := snap.Conversation
	lines := []exportLine{
		{Type: "header", Format: SnapshotFormat, Version: SnapshotVersion, ExportedAt: FormatTime(now)},
		{Type: "conversation", ID: c.ID, RoleA: c.RoleA, RoleB: c.RoleB, CreatedAt: FormatTime(c.CreatedAt), ExpiresAt: FormatTime(c.ExpiresAt)},
	}
	for _, st := range snap.States {
		lines = append(lines, exportLine{Type: "status", Session: string(st.Session), Status: st.Status, Heartbeat: FormatTime(st.Heartbeat)})
	}
	for _, m := range snap.Messages {
		body := m.Body
		lines = append(lines, exportLine{Type: "message", MessageID: m.ID, From: string(m.From), ActionType: m.ActionType, Message: &body,
			Files: m.Files, CreatedAt: FormatTime(m.CreatedAt), ReadAt: FormatTime(m.ReadAt), System: m.System})
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

// ReadSnapshot reads a conversation written by WriteSnapshot. Its errors
// name the line. The audit rows are kept for their count only: an import
// does not re-chain them (their digests belong to the source's key).
func ReadSnapshot(r io.Reader) (Snapshot, error) {
	var snap Snapshot
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
			if l.Type != "header" || l.Format != SnapshotFormat {
				return snap, fmt.Errorf("line 1: not an agent-bridge export (want a header with format %q)", SnapshotFormat)
			}
			if l.Version != SnapshotVersion {
				return snap, fmt.Errorf("line 1: export format version %d; this agent-bridge reads version %d", l.Version, SnapshotVersion)
			}
		case l.Type == "conversation":
			c := Conversation{ID: l.ID, RoleA: l.RoleA, RoleB: l.RoleB}
			if c.CreatedAt, err = parseTime(n, "created_at", l.CreatedAt); err != nil {
				return snap, err
			}
			if c.ExpiresAt, err = parseTime(n, "expires_at", l.ExpiresAt); err != nil {
				return snap, err
			}
			snap.Conversation = c
		case l.Type == "status":
			st := SessionState{Session: Session(l.Session), Status: l.Status}
			if st.Heartbeat, err = parseTime(n, "heartbeat", l.Heartbeat); err != nil {
				return snap, err
			}
			snap.States = append(snap.States, st)
		case l.Type == "message":
			if l.Message == nil {
				return snap, fmt.Errorf("line %d: message without text", n)
			}
			m := Message{ID: l.MessageID, From: Session(l.From), ActionType: l.ActionType, Body: *l.Message, Files: l.Files, System: l.System}
			if m.CreatedAt, err = parseTime(n, "created_at", l.CreatedAt); err != nil {
				return snap, err
			}
			if m.ReadAt, err = parseTime(n, "read_at", l.ReadAt); err != nil {
				return snap, err
			}
			snap.Messages = append(snap.Messages, m)
		case l.Type == "audit" && l.Audit != nil:
			// Kept for the count only: import does not re-chain them.
			snap.Audit = append(snap.Audit, AuditEntry{Seq: l.Audit.Seq, Tool: l.Audit.Tool})
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
