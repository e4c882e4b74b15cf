package bridge

import (
	"context"
	"time"
)

// Store keeps the bridge's state. Update runs fn in a write transaction; it
// commits durably when fn returns nil and rolls back otherwise. Writers are
// serialised per chain (see Tx.Lock): a store may run the transactions of
// two conversations at once (PostgreSQL does), or one at a time (SQLite).
// View runs fn in a read-only transaction.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error, opts ...UpdateOption) error
	View(ctx context.Context, fn func(Tx) error) error
	// Watch returns a channel closed after a later write, by this process
	// or any other, that raised one of topics (Tx.Signal), and a function
	// that releases the watch. Take it before reading, so no write is
	// missed; it may also close without such a write (waiters re-check).
	Watch(topics ...string) (ch <-chan struct{}, stop func())
	Close() error
}

// UpdateOption changes how one Store.Update commits.
type UpdateOption int

// SyncLater lets an Update return once its commit is atomic and survives
// any process crash, before it reaches the disk. The store makes it
// durable soon after: SQLite with the next durable commit of any process,
// or an fsync of its log within SyncLaterBound; PostgreSQL with its WAL
// writer (within three wal_writer_delay, 600 ms by default). A power
// failure in between undoes it. Only takes use it: undoing one leaves its
// messages unread, to be delivered again, never lost.
const SyncLater UpdateOption = 1

// SyncLaterBound is how long a SyncLater commit may wait for the disk.
const SyncLaterBound = time.Second

// Tx is one transaction: every role below. Methods return *Error with
// ENotFound where noted; any other error is a storage failure. A use case
// that needs only some roles can take the narrower interface.
type Tx interface {
	// Signal raises topics when the transaction commits (nothing when it
	// rolls back or only reads): see Store.Watch and the Topic functions.
	Signal(topics ...string)

	// Lock serialises this transaction with every other that locks one of
	// chains ("" is the global chain, else a conversation id), in every
	// process and on every node, until it ends. Take a conversation's lock
	// before reading what the transaction will write from (its inbox, its
	// members, its audit head). Locks must be taken in ascending order (the
	// global chain first): asking for a chain that sorts before one already
	// held is refused, since two transactions taking the same locks in
	// different orders could deadlock. Taking a held lock again is free.
	Lock(chains ...string) error

	ConversationTx
	MemberTx
	MessageTx
	LimitTx
	FleetTx
	AuditTx
	ApprovalTx
	SessionTx
	TaskTx
	LeaseTx
	SealTx
}

// SessionTx keeps the HTTP sessions ended by DELETE, named by a keyed
// digest of their id (never the id), so every node sharing the store
// refuses them.
type SessionTx interface {
	// EndSession records that the session with digest ended; it is kept
	// until expires (cleanup removes it then). Ending it again is no error.
	EndSession(digest string, expires time.Time) error

	// SessionEnded reports whether the session with digest was ended and
	// its record has not expired at now.
	SessionEnded(digest string, now time.Time) (bool, error)
}

// ConversationTx keeps conversations themselves.
type ConversationTx interface {
	CreateConversation(c Conversation) error

	// Conversation returns ENotFound when id does not exist.
	Conversation(id string) (Conversation, error)
	Conversations() ([]Conversation, error)

	// SetExpiry changes when a conversation expires.
	SetExpiry(conversationID string, expires time.Time) error

	// DeleteExpired removes conversations expired at now with their
	// messages and states; audit rows stay.
	DeleteExpired(now time.Time) (Cleanup, error)
}

// MemberTx keeps members and invites.
type MemberTx interface {
	// AddMember adds a member, or readmits one that left: its role,
	// generation, joined time and MAC are overwritten, its status and
	// heartbeat reset, and its left time cleared.
	AddMember(m Membership) error

	// Member returns ENotFound when the conversation never had the member.
	Member(conversationID string, id Member) (Membership, error)

	// Members returns every member the conversation ever had, left ones
	// included, in joining order.
	Members(conversationID string) ([]Membership, error)

	// ConversationMembers returns the conversation (ENotFound when it does
	// not exist) and what Members returns, in one read.
	ConversationMembers(conversationID string) (Conversation, []Membership, error)

	// RemoveMember records that a member left (or was removed) at `at`,
	// with mac, the member row's MAC after the change (the service's
	// transaction computes it: callers pass "").
	RemoveMember(conversationID string, id Member, at time.Time, mac string) error

	// AddInvite stores a new invite, MAC included; its code hash must be
	// unused.
	AddInvite(inv Invite) error

	// Invites returns every invite of a conversation, redeemed and
	// expired ones included, oldest first.
	Invites(conversationID string) ([]Invite, error)

	// Invite returns ENotFound when no invite has that code hash.
	Invite(codeHash string) (Invite, error)

	// OpenInvites returns the invites of a conversation that are neither
	// redeemed nor expired at now, oldest first.
	OpenInvites(conversationID string, now time.Time) ([]Invite, error)

	// RedeemInvite marks an unredeemed invite redeemed by `by` at `at`,
	// with mac, the invite's MAC after the change (the service's
	// transaction computes it: callers pass ""); false when it was
	// redeemed already (by any process).
	RedeemInvite(codeHash string, by Member, at time.Time, mac string) (bool, error)

	// SetState records a member's status with a heartbeat at `at`.
	SetState(conversationID string, s Member, status string, at time.Time) error

	// State returns StatusUnknown and a zero heartbeat when never set.
	State(conversationID string, s Member) (SessionState, error)

	// Touch records a heartbeat at `at` (never moving it back) and keeps
	// the status.
	Touch(conversationID string, s Member, at time.Time) error
}

// MessageTx keeps messages and inboxes.
type MessageTx interface {
	// AddMessage stores m and sets its ID; IDs increase in insertion order.
	// A message with an ID (an import) keeps it, or fails if it is taken.
	// In the same transaction it delivers m: one inbox row for m.To, or,
	// when m.To is Broadcast or "", one for every active member but m.From
	// (m.To is then stored as Broadcast). Each recipient's unread counter
	// grows by one; an inbox row of a message with ReadAt set (an import)
	// is read already. m.MAC is stored as given.
	AddMessage(m *Message) error

	// ImportMessage stores m as AddMessage does (keeping its ID, or failing
	// if it is taken; a new one when 0), delivered as `to` says instead of
	// by fan-out: one inbox row per Delivery, read or not as it says; each
	// unread one grows its member's unread counter.
	ImportMessage(m *Message, to []Delivery) error

	// Deliveries returns every inbox row of a conversation, by message
	// then member.
	Deliveries(conversationID string) ([]Delivery, error)
	// NextMessageID reserves the id the next message will get, so its MAC
	// can cover it. It is never handed out again by this store, except
	// that SQLite reuses the highest id once that message is deleted.
	NextMessageID() (int64, error)

	// TakeUnread returns at most limit of the unread messages in `to`'s
	// inbox, oldest first, and marks them read at now.
	TakeUnread(conversationID string, to Member, now time.Time, limit int) ([]Message, error)

	// Messages returns every message of a conversation, oldest first,
	// without read times.
	Messages(conversationID string) ([]Message, error)

	// UnreadCount returns how many messages wait in `to`'s inbox (the
	// maintained counter: it costs the same however long the backlog).
	UnreadCount(conversationID string, to Member) (int, error)

	// PeekUnread returns at most limit of the unread messages in `to`'s
	// inbox, oldest first, without marking them read.
	PeekUnread(conversationID string, to Member, limit int) ([]Message, error)

	// History returns messages delivered to `to`, read or not (ReadAt set
	// when read), with an id above afterID and created at or after since,
	// oldest first, at most limit of them.
	History(conversationID string, to Member, afterID int64, since time.Time, limit int) ([]Message, error)

	// Receipt reports on the messages sent by `from` to `to` (to every
	// recipient when `to` is ""): how many inbox rows are unread, and the
	// newest message read and when (0 and zero time when none).
	Receipt(conversationID string, from, to Member) (Receipt, error)
}

// LimitTx keeps rate-limit events.
type LimitTx interface {
	// RequestTimes returns the accepted request times of subject at or
	// after since, ascending.
	RequestTimes(subject string, since time.Time) ([]time.Time, error)

	// AddRequest records an accepted request of subject, which belongs to
	// conversationID ("" for none: cleanup then forgets it by age), and
	// forgets the subject's requests before forgetBefore (none when it is
	// zero: RequestTimes never returns them anyway, so forgetting is
	// housekeeping the service does now and then).
	AddRequest(subject, conversationID string, at, forgetBefore time.Time) error
}

// FleetTx keeps where agents run and when they fall silent.
type FleetTx interface {
	// SeeEndpoint records that a session's agent works in e.Workdir.
	SeeEndpoint(e Endpoint) error

	// Endpoints returns the sessions seen in workdir at or after since,
	// most recent first.
	Endpoints(workdir string, since time.Time) ([]Endpoint, error)

	// OpenSilence records a silence episode of a session, named by its last
	// heartbeat; false when it was recorded already (by any process).
	OpenSilence(conversationID string, s Session, heartbeat, at time.Time) (bool, error)

	// CloseSilences ends the open episodes of a session that began before
	// heartbeat and returns how many it ended.
	CloseSilences(conversationID string, s Session, heartbeat, at time.Time) (int, error)
}

// AuditTx keeps the audit trail: one chain per conversation and the
// global chain "".
type AuditTx interface {
	// LastAudit returns the sequence number and digest of chain's last
	// row; 0 and "" when the chain is empty.
	LastAudit(chain string) (int64, string, error)
	AppendAudit(e AuditEntry) error

	// Audit returns the rows f selects, in the order they were written.
	Audit(f AuditFilter) ([]AuditEntry, error)

	// EachAudit calls fn for every row of chain (every chain when chain is
	// nil), chain by chain in ascending order (the global chain first),
	// each in ascending sequence order, stopping at the first error.
	EachAudit(chain *string, fn func(AuditEntry) error) error

	// DeleteAudit removes chain's rows up to and including sequence
	// number through and returns how many it removed (audit retention).
	DeleteAudit(chain string, through int64) (int, error)
}

// SealTx seals the rows written before row MACs existed, once.
type SealTx interface {
	// LegacyPending reports whether the store was upgraded from a schema
	// without row MACs and its rows from then still wait to be sealed.
	LegacyPending() (bool, error)

	// SealLegacy sets the MAC of every message, member and invite that has
	// none to what seal returns for it, clears the pending mark, and says
	// what it sealed.
	SealLegacy(seal Sealer) (LegacySealed, error)

	// DropLegacyMark clears the pending mark without sealing anything.
	DropLegacyMark() error
}

// Sealer computes row MACs for SealTx.SealLegacy.
type Sealer struct {
	Message func(Message) string
	Member  func(Membership) string
	Invite  func(Invite) string
}

// LegacySealed counts what SealLegacy sealed.
type LegacySealed struct {
	Messages, Members, Invites int
	ThroughMessage             int64 // the highest message id sealed
}

// ApprovalTx keeps consent requests for command execution.
type ApprovalTx interface {
	// AddApproval stores a new approval; its id must be unused.
	AddApproval(a Approval) error

	// Approval returns ENotFound (ApprovalNotFound) when id does not exist.
	Approval(id string) (Approval, error)

	// Approvals returns the approvals f selects, oldest first.
	Approvals(f ApprovalFilter) ([]Approval, error)

	// SaveApproval writes a's state, reason, decider and times over the
	// stored approval with a's id; ENotFound when there is none.
	SaveApproval(a Approval) error
}

// TaskTx keeps a conversation's tasks and its reassignment threshold.
type TaskTx interface {
	// NextTaskID returns the id the conversation's next task gets: one
	// above its highest (writers hold the write lock, so it is free).
	NextTaskID(conversationID string) (int64, error)

	// AddTask stores t with its ID; it fails if the id is taken.
	AddTask(t Task) error

	// Task returns ENotFound (TaskNotFound) when the conversation has no
	// task id.
	Task(conversationID string, id int64) (Task, error)

	// Tasks returns the tasks f selects, by id.
	Tasks(f TaskFilter) ([]Task, error)

	// SaveTask writes t's assignee, state, note, update time,
	// reassigned_for and MAC over the stored task with t's id, in one
	// statement, only while its state is still wasState and its assignee
	// wasAssignee; false when it no longer was (another call changed it
	// first), and nothing is written.
	SaveTask(t Task, wasState string, wasAssignee Member) (bool, error)

	// StaleTasks returns the tasks of a conversation in state working or
	// input_required whose assignee's heartbeat (its joining time if it
	// never called) is older than now minus the conversation's threshold
	// (def when it has none), and whose reassigned_for is not that
	// heartbeat: each with the heartbeat.
	StaleTasks(conversationID string, now time.Time, def time.Duration) ([]StaleTask, error)

	// ReassignAfter returns the conversation's threshold; 0 when unset.
	ReassignAfter(conversationID string) (time.Duration, error)
	// SetReassignAfter sets it.
	SetReassignAfter(conversationID string, d time.Duration) error
}

// LeaseTx keeps file leases.
type LeaseTx interface {
	// NextLeaseID returns the id the conversation's next lease gets.
	NextLeaseID(conversationID string) (int64, error)

	// AddLease stores l with its ID; it fails if the id is taken.
	AddLease(l Lease) error

	// Lease returns ENotFound (LeaseNotFound) when there is no such lease,
	// expired or not.
	Lease(conversationID string, id int64) (Lease, error)

	// Leases returns the leases of a conversation (of every conversation
	// when conversationID is "") that have not expired at now, by id.
	Leases(conversationID string, now time.Time) ([]Lease, error)

	// SaveLease writes l's expiry and MAC over the stored lease with l's id.
	SaveLease(l Lease) error

	// DeleteLease removes one lease.
	DeleteLease(conversationID string, id int64) error

	// DeleteTaskLeases removes the leases tied to a task and returns how
	// many it removed.
	DeleteTaskLeases(conversationID string, taskID int64) (int, error)

	// DeleteExpiredLeases removes every lease expired at now and returns
	// how many it removed.
	DeleteExpiredLeases(now time.Time) (int, error)
}
