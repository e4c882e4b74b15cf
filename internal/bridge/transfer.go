package bridge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/lease"
)

// Snapshot is one conversation with everything stored about it, for export
// and import between databases (see snapshot.go for the file format).
type Snapshot struct {
	Conversation Conversation
	// Members are every member the conversation ever had, left ones
	// included (LeftAt set), in joining order, with role, generation,
	// status and heartbeat. Tokens derive from the key, the conversation,
	// the member and its generation: where the key is the same, every
	// member's token works after an import.
	Members []Membership
	// Invites are the invites open at export: a keyed hash of each code
	// (never the code) with its expiry. A code works after an import only
	// where the key is the same.
	Invites    []Invite
	Messages   []Message  // as stored (redacted), oldest first
	Deliveries []Delivery // every inbox row: who received which message, and when each took it
	Tasks      []Task     // by id; their MACs are not carried (an import seals them under its own key)
	Leases     []Lease    // live at the export, by id
	Audit      []AuditEntry
}

// Export returns a snapshot of one conversation. The export is audited.
func (s *Service) Export(ctx context.Context, id string) (Snapshot, error) {
	var out Snapshot
	err := s.call(ctx, "cli:export", id, "", func(tx Tx, now time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		var err error
		if out.Conversation, err = tx.Conversation(id); err != nil {
			return "", err
		}
		if out.Members, err = tx.Members(id); err != nil {
			return "", err
		}
		if out.Invites, err = tx.OpenInvites(id, now); err != nil {
			return "", err
		}
		if out.Messages, err = tx.Messages(id); err != nil {
			return "", err
		}
		for i := range out.Messages {
			out.Messages[i].ReadAt = time.Time{} // per recipient: in Deliveries
		}
		if out.Deliveries, err = tx.Deliveries(id); err != nil {
			return "", err
		}
		if out.Tasks, err = tx.Tasks(TaskFilter{ConversationID: id}); err != nil {
			return "", err
		}
		out.Tasks = slices.DeleteFunc(out.Tasks, func(t Task) bool { return !s.taskSealed(t) })
		if out.Leases, err = s.liveLeases(tx, id, now); err != nil {
			return "", err
		}
		if out.Audit, err = tx.Audit(AuditFilter{ConversationID: id}); err != nil {
			return "", err
		}
		return fmt.Sprintf("exported %d members, %d open invites, %d messages, %d tasks, %d leases, %d audit rows",
			len(out.Members), len(out.Invites), len(out.Messages), len(out.Tasks), len(out.Leases), len(out.Audit)), nil
	})
	return out, err
}

// Import stores a snapshot's conversation, members, open invites, messages
// and their delivery (who received each, and whether and when each took
// it), keeping ids and times, so every member's inbox and unread count are
// as they were. It never overwrites: an id that exists is refused, unless
// rename gives the conversation a new id (and its messages new ids; its
// invites are then left out, since a code names one conversation). The
// snapshot is checked whole before anything is written, and a refusal
// stores nothing. The snapshot's audit rows are not re-chained into this
// store's trail (their digests belong to the source's key); the import
// itself is audited. Tokens derive from this store's key: with the
// source's key they are unchanged, otherwise `tokens ID` shows the new
// ones.
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
		if err := s.checkSnapshot(&snap); err != nil {
			return "", err
		}
		conv = snap.Conversation
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
		renamed := conv.ID != snap.Conversation.ID
		tx.Signal(ConversationsTopic, ConversationTopic(conv.ID))
		if err := s.created(tx, now, "cli:import", conv.ID); err != nil {
			return "", err
		}
		c.ConversationID = conv.ID
		if err := tx.CreateConversation(conv); err != nil {
			return "", err
		}
		for _, m := range snap.Members {
			m.ConversationID = conv.ID
			if err := tx.AddMember(m); err != nil {
				return "", err
			}
			if !m.Heartbeat.IsZero() {
				if err := tx.SetState(conv.ID, m.Member, m.Status, m.Heartbeat); err != nil {
					return "", err
				}
			}
			if !m.Active() {
				if err := tx.RemoveMember(conv.ID, m.Member, m.LeftAt, ""); err != nil {
					return "", err
				}
			}
		}
		invites := 0
		if !renamed {
			for _, inv := range snap.Invites {
				inv.ConversationID = conv.ID
				// The store answers an unknown hash as a wrong code.
				if _, err := tx.Invite(inv.CodeHash); err == nil {
					return "", Errorf(EInvalid, "the export's invite %s… is already in this database: an invite code names one conversation", inv.CodeHash[:8])
				} else if KindOf(err) != EUnauthorized {
					return "", err
				}
				if err := tx.AddInvite(inv); err != nil {
					return "", err
				}
				invites++
			}
		}
		byMessage := map[int64][]Delivery{}
		for _, d := range snap.Deliveries {
			byMessage[d.MessageID] = append(byMessage[d.MessageID], d)
		}
		newID := map[int64]int64{}
		for _, m := range snap.Messages {
			old := m.ID
			m.ConversationID = conv.ID
			if renamed {
				m.ID = 0
				m.ReplyTo = newID[m.ReplyTo] // 0 stays 0; earlier ids are mapped
			}
			if err := tx.ImportMessage(&m, byMessage[old]); err != nil {
				if !renamed {
					return "", Errorf(EInvalid, "message id %d is taken in this database; pass --rename to import with new ids", old)
				}
				return "", err
			}
			newID[old] = m.ID
			for _, d := range byMessage[old] {
				if d.ReadAt.IsZero() {
					tx.Signal(InboxTopic(conv.ID, d.Member))
				}
			}
		}
		if err := s.importTasks(tx, conv.ID, snap); err != nil {
			return "", err
		}
		return fmt.Sprintf("imported %s as %s: %d members, %d open invites, %d messages, %d deliveries, %d tasks, %d leases (%d source audit rows not re-chained)",
			snap.Conversation.ID, conv.ID, len(snap.Members), invites, len(snap.Messages), len(snap.Deliveries), len(snap.Tasks), len(snap.Leases), len(snap.Audit)), nil
	})
	return conv, err
}

// checkSnapshot checks a snapshot whole, as text from outside: the same
// shapes and limits as the tools, the same redaction, and references that
// hold together (senders, recipients, replies and deliveries name members
// and messages of the snapshot). It redacts the text in place.
func (s *Service) checkSnapshot(snap *Snapshot) error {
	c := &snap.Conversation
	if !ValidConversationID(c.ID) {
		return Errorf(EInvalid, "the export's conversation id %q is malformed", c.ID)
	}
	for _, r := range []struct{ name, v string }{{"role_a", c.RoleA}, {"role_b", c.RoleB}} {
		if err := s.checkRole("the export's "+r.name, r.v); err != nil {
			return err
		}
	}
	if !c.ExpiresAt.After(c.CreatedAt) {
		return Errorf(EInvalid, "the export's conversation expires (%s) before it was created (%s)", FormatTime(c.ExpiresAt), FormatTime(c.CreatedAt))
	}
	c.RoleA, c.RoleB = s.clean(c.RoleA), s.clean(c.RoleB)

	if n := len(snap.Members); n < 2 || n > max(s.cfg.MaxMembers, 2) {
		return Errorf(EInvalid, "the export has %d members; a conversation has 2 to %d", n, max(s.cfg.MaxMembers, 2))
	}
	members := map[Member]Membership{}
	for i := range snap.Members {
		m := &snap.Members[i]
		what := fmt.Sprintf("the export's member %q", m.Member)
		switch {
		case !m.Member.Valid() || slices.Contains(ReservedMemberIDs, string(m.Member)):
			return Errorf(EInvalid, "%s is not a member id (pattern %s, not one of %s)", what, MemberIDPattern, quoteList(ReservedMemberIDs))
		case members[m.Member].Member != "":
			return Errorf(EInvalid, "%s appears twice", what)
		case m.Generation < 0 || (m.Generation == 0 && m.Member != SessionA && m.Member != SessionB):
			return Errorf(EInvalid, "%s has generation %d; generation 0 belongs to seats a and b only, others start at 1", what, m.Generation)
		case m.JoinedAt.Before(c.CreatedAt):
			return Errorf(EInvalid, "%s joined (%s) before the conversation was created (%s)", what, FormatTime(m.JoinedAt), FormatTime(c.CreatedAt))
		case !m.LeftAt.IsZero() && m.LeftAt.Before(m.JoinedAt):
			return Errorf(EInvalid, "%s left (%s) before it joined (%s)", what, FormatTime(m.LeftAt), FormatTime(m.JoinedAt))
		case m.Status == "":
			m.Status = StatusUnknown
		}
		if m.Status != StatusUnknown && !oneOf(m.Status, Statuses) {
			return Errorf(EInvalid, "%s has status %q; want one of %s", what, m.Status, quoteList(Statuses))
		}
		if err := s.checkRole(what+"'s role", m.Role); err != nil {
			return err
		}
		m.Role, m.Unread = s.clean(m.Role), 0
		members[m.Member] = *m
	}
	if _, ok := members[SessionA]; !ok {
		return Errorf(EInvalid, "the export has no member a (the creator)")
	}

	for i := range snap.Invites {
		inv := &snap.Invites[i]
		what := fmt.Sprintf("the export's invite %d", i+1)
		switch {
		case len(inv.CodeHash) != 64 || !isLowerHex(inv.CodeHash):
			return Errorf(EInvalid, "%s has no valid code hash (64 lower-case hex characters; the code itself is never exported)", what)
		case inv.Member != "" && (!inv.Member.Valid() || slices.Contains(ReservedMemberIDs, string(inv.Member))):
			return Errorf(EInvalid, "%s names member %q, which is not a member id", what, inv.Member)
		case members[inv.CreatedBy].Member == "":
			return Errorf(EInvalid, "%s was created by %q, who is no member of the export", what, inv.CreatedBy)
		case !inv.ExpiresAt.After(inv.CreatedAt):
			return Errorf(EInvalid, "%s expires (%s) before it was created (%s)", what, FormatTime(inv.ExpiresAt), FormatTime(inv.CreatedAt))
		case !inv.RedeemedAt.IsZero():
			return Errorf(EInvalid, "%s is redeemed already; an export carries open invites only", what)
		}
		if err := s.checkRole(what+"'s role", inv.Role); err != nil {
			return err
		}
		inv.Role = s.clean(inv.Role)
	}

	created := map[int64]time.Time{}
	var last int64
	for i := range snap.Messages {
		m := &snap.Messages[i]
		what := fmt.Sprintf("message %d of the export", m.ID)
		switch {
		case m.ID <= last:
			return Errorf(EInvalid, "%s: ids must be positive and increasing (the one before is %d)", what, last)
		case m.System && m.From == OperatorSender:
		case members[m.From].Member == "":
			return Errorf(EInvalid, "%s has sender %q, who is no member of the export", what, m.From)
		}
		if m.To == "" {
			m.To = Broadcast
		}
		if m.To != Broadcast && members[m.To].Member == "" {
			return Errorf(EInvalid, "%s is addressed to %q, who is no member of the export", what, m.To)
		}
		if _, ok := created[m.ReplyTo]; m.ReplyTo != 0 && !ok {
			return Errorf(EInvalid, "%s replies to message %d, which is not an earlier message of the export", what, m.ReplyTo)
		}
		in := SendInput{Message: m.Body, ActionType: m.ActionType, Files: m.Files}
		if err := s.checkSend(&in); err != nil {
			return Errorf(EInvalid, "%s: %s", what, MessageOf(err))
		}
		m.ActionType, m.Body = in.ActionType, s.clean(m.Body)
		for i, f := range m.Files {
			m.Files[i] = s.clean(f)
		}
		m.ReadAt = time.Time{}
		created[m.ID], last = m.CreatedAt, m.ID
	}

	seen := map[Delivery]bool{}
	for _, d := range snap.Deliveries {
		at, ok := created[d.MessageID]
		what := fmt.Sprintf("the export's delivery of message %d to %q", d.MessageID, d.Member)
		switch {
		case !ok:
			return Errorf(EInvalid, "%s names no message of the export", what)
		case members[d.Member].Member == "":
			return Errorf(EInvalid, "%s names no member of the export", what)
		case seen[Delivery{MessageID: d.MessageID, Member: d.Member}]:
			return Errorf(EInvalid, "%s appears twice", what)
		case !d.ReadAt.IsZero() && d.ReadAt.Before(at):
			return Errorf(EInvalid, "%s was read (%s) before the message was sent (%s)", what, FormatTime(d.ReadAt), FormatTime(at))
		}
		seen[Delivery{MessageID: d.MessageID, Member: d.Member}] = true
	}
	return nil
}

// importTasks stores a snapshot's tasks and leases in conversation conv
// after the checks agents' input gets, redacted, and sealed under this
// bridge's key (an export carries no MACs: they belong to its source's key).
func (s *Service) importTasks(tx Tx, conv string, snap Snapshot) error {
	member := map[Member]bool{}
	for _, m := range snap.Members {
		member[m.Member] = true
	}
	tasks := map[int64]bool{}
	for _, t := range snap.Tasks {
		bad := func(format string, v ...any) error {
			return Errorf(EInvalid, "task %d of the export: %s", t.ID, fmt.Sprintf(format, v...))
		}
		switch {
		case t.ID <= 0 || tasks[t.ID]:
			return bad("its id is not positive or is repeated")
		case !member[t.CreatedBy] || (t.Assignee != "" && !member[t.Assignee]):
			return bad("creator %q or assignee %q is no member of the export", t.CreatedBy, t.Assignee)
		case !slices.Contains(TaskStates, t.State) || (t.State == TaskOpen) != (t.Assignee == "") && !t.Ended():
			return bad("state %q does not fit assignee %q", t.State, t.Assignee)
		case t.CreatedAt.IsZero() || t.UpdatedAt.Before(t.CreatedAt):
			return bad("its times are missing or out of order")
		}
		for _, f := range []struct {
			name, v string
			max     int
			req     bool
		}{{"title", t.Title, MaxTaskTitle, true}, {"description", t.Description, MaxTaskDescription, false}, {"note", t.Note, MaxTaskNote, false}} {
			if err := s.checkTaskText(f.name, f.v, f.max, f.req); err != nil {
				return bad("%s", MessageOf(err))
			}
		}
		if err := s.checkSend(&SendInput{Message: "x", Files: t.Files}); err != nil {
			return bad("%s", MessageOf(err))
		}
		tasks[t.ID] = true
		t.ConversationID = conv
		t.Title, t.Description, t.Note = s.clean(t.Title), s.clean(t.Description), s.clean(t.Note)
		files := make([]string, len(t.Files))
		for i, f := range t.Files {
			files[i] = s.clean(f)
		}
		t.Files = files
		if err := tx.AddTask(s.sealTask(t)); err != nil {
			return err
		}
	}
	leases := map[int64]bool{}
	for _, l := range snap.Leases {
		p, err := lease.Clean(l.Pattern)
		switch {
		case err != nil:
			return Errorf(EInvalid, "lease %d of the export: pattern %s", l.ID, err)
		case l.ID <= 0 || leases[l.ID] || !member[l.Member] || (l.TaskID != 0 && !tasks[l.TaskID]) || !l.ExpiresAt.After(l.CreatedAt):
			return Errorf(EInvalid, "lease %d of the export is malformed (id, member %q, task %d or times)", l.ID, l.Member, l.TaskID)
		}
		leases[l.ID] = true
		l.ConversationID, l.Pattern = conv, p
		if err := tx.AddLease(s.sealLease(l)); err != nil {
			return err
		}
	}
	return nil
}
