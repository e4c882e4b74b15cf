// Package bridge holds agent-bridge's domain: conversations between 2 to 32
// agent members, their invites, messages and statuses, the audit trail, and the Service
// that applies every rule (validation, tokens, redaction, rate limits,
// expiry, audit) before anything reaches a Store.
//
// Fronts (MCP over stdio or HTTP, the CLI) call the Service; stores
// (SQLite, PostgreSQL) implement Store. Neither knows the other.
package bridge

import (
	"strconv"
	"time"
)

// Member identifies one member of a conversation: "a" created it, "b" is
// the original second seat, later seats have names the inviter or the
// joiner chose ("worker-3"). See MemberIDPattern.
type Member string

// Session is the former name of Member, kept while code written for the
// two fixed seats moves over.
type Session = Member

const (
	SessionA Member = "a"
	SessionB Member = "b"
	// Broadcast is the recipient of a message to every other member.
	Broadcast Member = "*"
)

// Partner returns the other original seat ("a" for "b", "b" for anything
// else). In a conversation of more than two members there is no single
// partner: use the members list.
func (s Member) Partner() Member {
	if s == SessionA {
		return SessionB
	}
	return SessionA
}

// MemberIDPattern is the shape of a member id.
const MemberIDPattern = `^[a-z][a-z0-9_-]{0,31}$`

// ReservedMemberIDs can never name a member: they name the bridge itself,
// the person running it, and the broadcast address.
var ReservedMemberIDs = []string{"bridge", "operator", "all", "*"}

// Valid reports whether s is a well-formed member id (reserved ids are
// well-formed; joining refuses them): MemberIDPattern, checked byte by
// byte because every call checks ids several times (a regexp match cost
// more than the rest of the check; TestIDChecksMatchPatterns keeps the
// two equal).
func (s Member) Valid() bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// Sessions lists the original two session ids.
var Sessions = []string{string(SessionA), string(SessionB)}

// ActionTypes are the kinds of message a session can send.
var ActionTypes = []string{"question", "info", "proposal", "blocked", "complete"}

// Statuses are the statuses a session can report.
var Statuses = []string{"working", "waiting", "blocked", "complete"}

// StatusUnknown is reported for a session that never set a status.
const StatusUnknown = "unknown"

// ConversationIDPattern is the shape of a conversation id.
const ConversationIDPattern = `^conv_[a-f0-9]{16}$`

// ValidConversationID reports whether id has the shape of a conversation
// id, ConversationIDPattern, checked byte by byte (see Member.Valid).
func ValidConversationID(id string) bool {
	const prefix = "conv_"
	if len(id) != len(prefix)+16 || id[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Conversation is a channel between its members until it expires. RoleA
// and RoleB are the roles of the original two seats, kept for upgrades and
// exports; members carry their own roles.
type Conversation struct {
	ID        string
	RoleA     string
	RoleB     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Role returns the role of one session.
func (c Conversation) Role(s Session) string {
	if s == SessionA {
		return c.RoleA
	}
	return c.RoleB
}

// Expired reports whether the conversation has expired at now.
func (c Conversation) Expired(now time.Time) bool { return !now.Before(c.ExpiresAt) }

// Message is one message from a member, as stored: redacted. It is stored
// once and delivered through one inbox row per recipient.
type Message struct {
	ID             int64
	ConversationID string
	From           Member
	// To is the recipient, or Broadcast for every other active member. A
	// message stored with To "" (by code written for two seats) goes to
	// every other active member, which in a two-member conversation is the
	// partner; it is stored as Broadcast.
	To         Member
	ReplyTo    int64 // the message this one answers; 0 when none
	ActionType string
	Body       string
	Files      []string
	CreatedAt  time.Time
	// ReadAt is when the recipient reading its inbox took it (zero while
	// unread); in a conversation's full log (Tx.Messages), when the last of
	// its recipients took it, zero until all have.
	ReadAt time.Time
	// System marks a notice written by the bridge itself (a watchdog),
	// delivered to From's teammates like any message.
	System bool
	// Role is the sender's role, filled by the service for readers.
	Role string
	// MAC seals the fields above but ReadAt and Role (see MessageMAC):
	// a message whose MAC does not verify was written or edited without
	// the bridge's key.
	MAC string
	// Altered is set by the service on a message whose MAC does not
	// verify: its text is withheld from agents.
	Altered bool
}

// Membership is one member of a conversation, as stored.
type Membership struct {
	ConversationID string
	Member         Member
	Role           string
	// Generation is folded into the member's token: 0 for the two seats of
	// the original create_conversation shape (and conversations from before
	// teams), 1 and up for seats joined by invite; a rejoin increments it.
	Generation int
	Status     string    // StatusUnknown when never reported
	Heartbeat  time.Time // zero when never seen
	JoinedAt   time.Time
	LeftAt     time.Time // zero while a member; set when it left or was removed
	Unread     int       // messages waiting in its inbox
	// MAC seals the conversation, member, role, generation, joined and
	// left times; status, heartbeat and unread are delivery state.
	MAC string
}

// Active reports whether the member has not left.
func (m Membership) Active() bool { return m.LeftAt.IsZero() }

// State returns what the member last reported.
func (m Membership) State() SessionState {
	return SessionState{Session: m.Member, Status: m.Status, Heartbeat: m.Heartbeat}
}

// Invite is a one-time invitation to a seat, as stored: only a keyed hash
// of its code.
type Invite struct {
	CodeHash       string
	ConversationID string
	Member         Member // "" when the joiner chooses
	Role           string
	CreatedBy      Member
	CreatedAt      time.Time
	ExpiresAt      time.Time
	RedeemedAt     time.Time // zero until redeemed
	RedeemedBy     Member
	MAC            string // seals every field above
}

// Delivery is one inbox row: a message delivered to a member, and when the
// member took it (zero while unread).
type Delivery struct {
	MessageID int64
	Member    Member
	ReadAt    time.Time
}

// SessionState is what a session last reported about itself.
type SessionState struct {
	Session   Session
	Status    string    // StatusUnknown when never reported
	Heartbeat time.Time // zero when never reported
}

// Endpoint is where a session's agent runs: the working directory of the
// server process it calls through.
type Endpoint struct {
	Workdir        string
	ConversationID string
	Session        Session
	SeenAt         time.Time
}

// Receipt tells a sender what became of its messages.
type Receipt struct {
	Unread     int       // sent and not read yet
	LastReadID int64     // the newest message read; 0 when none
	LastReadAt time.Time // when it was read; zero when none
}

// AuditEntry is one row of the audit trail. It never holds a message body,
// a token or a secret.
type AuditEntry struct {
	// Chain is the conversation whose chain holds the row, or "" for the
	// global chain (creations, deletions, refusals naming no existing
	// conversation, operations on the whole store).
	Chain          string
	Seq            int64
	At             time.Time
	Tool           string
	ConversationID string
	Session        string
	Outcome        string // OutcomeOK or OutcomeRefused
	ErrorKind      ErrorKind
	Detail         string
	// Refs names the rows the row vouches for, one per line: "m:ID" for a
	// message it stored; the global chain's rows also name chains they
	// create, delete, checkpoint or seal (see chains.go).
	Refs       string
	PrevDigest string
	Digest     string
}

// Audit outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
)

// AuditFilter selects audit rows, newest last.
type AuditFilter struct {
	ConversationID string // all when empty
	Limit          int    // the last Limit rows; all when 0
}

// Cleanup counts what a cleanup removed.
type Cleanup struct {
	Conversations int
	Messages      int
	Statuses      int // member rows
	Sessions      int // records of ended HTTP sessions past their expiry
	Leases        int // expired leases
}

// FormatTime formats t as RFC 3339 UTC with at most millisecond precision.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// Human renders a duration for people and models: "3 hours", "2 minutes",
// "90 seconds".
func Human(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	default:
		return unit(int64(d.Round(time.Second)/time.Second), "second")
	}
}
