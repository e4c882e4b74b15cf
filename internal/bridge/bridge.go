// Package bridge holds agent-bridge's domain: conversations between two agent
// sessions, their messages and statuses, the audit trail, and the Service
// that applies every rule (validation, tokens, redaction, rate limits,
// expiry, audit) before anything reaches a Store.
//
// Fronts (MCP over stdio or HTTP, the CLI) call the Service; stores
// (SQLite, PostgreSQL) implement Store. Neither knows the other.
package bridge

import (
	"regexp"
	"strconv"
	"time"
)

// Session is one side of a conversation: "a" created it, "b" was invited.
type Session string

const (
	SessionA Session = "a"
	SessionB Session = "b"
)

// Partner returns the other side.
func (s Session) Partner() Session {
	if s == SessionA {
		return SessionB
	}
	return SessionA
}

// Valid reports whether s is "a" or "b".
func (s Session) Valid() bool { return s == SessionA || s == SessionB }

// Sessions lists the valid session ids.
var Sessions = []string{string(SessionA), string(SessionB)}

// ActionTypes are the kinds of message a session can send.
var ActionTypes = []string{"question", "info", "proposal", "blocked", "complete"}

// Statuses are the statuses a session can report.
var Statuses = []string{"working", "waiting", "blocked", "complete"}

// StatusUnknown is reported for a session that never set a status.
const StatusUnknown = "unknown"

// ConversationIDPattern is the shape of a conversation id.
const ConversationIDPattern = `^conv_[a-f0-9]{16}$`

var conversationIDRe = regexp.MustCompile(ConversationIDPattern)

// ValidConversationID reports whether id has the shape of a conversation id.
func ValidConversationID(id string) bool { return conversationIDRe.MatchString(id) }

// Conversation is a channel between two sessions until it expires.
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

// Message is one message from a session to its partner, as stored: redacted.
type Message struct {
	ID             int64
	ConversationID string
	From           Session
	ActionType     string
	Body           string
	Files          []string
	CreatedAt      time.Time
	ReadAt         time.Time // zero while unread
	// System marks a notice written by the bridge itself (a watchdog),
	// delivered to From's partner like any message.
	System bool
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
	Seq            int64
	At             time.Time
	Tool           string
	ConversationID string
	Session        string
	Outcome        string // OutcomeOK or OutcomeRefused
	ErrorKind      ErrorKind
	Detail         string
	PrevDigest     string
	Digest         string
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
	Statuses      int
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
