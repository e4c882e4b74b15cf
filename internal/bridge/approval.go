package bridge

import (
	"regexp"
	"time"
)

// An Approval is a person's consent, asked for by a session in YOLO mode:
// either to enable command execution (KindEnable) or, in the yolo mode, to
// run one exact command (KindCommand). It lives in the store, so every
// process serving the session sees the same enablements and approvals.
type Approval struct {
	ID             string // "appr_" and 16 hex digits
	Kind           string // KindEnable or KindCommand
	ConversationID string
	Session        Session

	// What the person is asked to allow (KindEnable; copied to commands).
	Mode      string        // "safe", "restricted" or "yolo"
	Workspace string        // absolute, symlinks resolved
	Timeout   time.Duration // per command
	Sandbox   bool

	// KindCommand only.
	Command      string // the exact command text the person approves (one with a secret is refused)
	CommandHash  string // hex SHA-256 of the exact command text
	EnablementID string // the enablement the command runs under

	Origin string // where the request came from: host and working directory of the server

	State     string // see the Approval* states
	Reason    string // why it was denied or revoked
	DecidedBy string // who decided: a terminal user (the only consent channel)
	CreatedAt time.Time
	DecidedAt time.Time // zero while pending
	UsedAt    time.Time // when the approval token was redeemed (enable) or the command ran
	// ExpiresAt depends on the state: a pending request expires then; an
	// approved one's token must be used by then; an active enablement
	// ends then.
	ExpiresAt time.Time
	// MAC seals every field above under the bridge's key (Service.seal):
	// an approval is honoured only while it verifies, so database write
	// access alone cannot forge or widen one.
	MAC string
}

// Approval kinds.
const (
	KindEnable  = "enable"
	KindCommand = "command"
)

// Approval states. Expiry is not a state: an approval whose ExpiresAt has
// passed is expired whatever its state says (see StateAt).
const (
	ApprovalPending  = "pending"  // waiting for a person
	ApprovalApproved = "approved" // consented; its token not used yet
	ApprovalDenied   = "denied"   // a person (or a wrong code) refused
	ApprovalActive   = "active"   // an enablement in use (token redeemed)
	ApprovalUsed     = "used"     // a command approval, spent
	ApprovalRevoked  = "revoked"  // an enablement ended by a person
	ApprovalExpired  = "expired"  // reported by StateAt, never stored
)

// StateAt returns the approval's state at now, "expired" when a pending,
// approved or active approval ran out of time.
func (a Approval) StateAt(now time.Time) string {
	switch a.State {
	case ApprovalPending, ApprovalApproved, ApprovalActive:
		if !now.Before(a.ExpiresAt) {
			return ApprovalExpired
		}
	}
	return a.State
}

// ApprovalFilter selects approvals; empty fields select all.
type ApprovalFilter struct {
	ConversationID string
	Session        Session
	Kind           string
	States         []string // stored states
}

// ApprovalIDPattern is the shape of an approval (request) id.
const ApprovalIDPattern = `^appr_[a-f0-9]{16}$`

var approvalIDRe = regexp.MustCompile(ApprovalIDPattern)

// ValidApprovalID reports whether id has the shape of an approval id.
func ValidApprovalID(id string) bool { return approvalIDRe.MatchString(id) }

// ApprovalNotFound is the error stores return for an unknown approval id.
func ApprovalNotFound(id string) error {
	return Errorf(ENotFound, "approval request %s does not exist. Use the request_id a previous enable_yolo_mode or execute_command call returned, or start a new request by calling it without request_id.", id)
}
