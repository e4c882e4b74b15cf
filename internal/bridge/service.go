package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/audit"
	"github.com/agent-bridge/agent-bridge/internal/limit"
	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// Config holds the service's limits. Zero values are not defaults: start
// from DefaultConfig.
type Config struct {
	TTL             time.Duration  // conversation lifetime
	AliveWindow     time.Duration  // a heartbeat younger than this is alive
	MaxMessageChars int            // characters (Unicode code points) per message
	MaxFiles        int            // entries in files_involved
	MaxFileChars    int            // characters per files_involved entry
	MinRoleChars    int            // characters per role, at least
	MaxRoleChars    int            // characters per role, at most
	MaxWait         time.Duration  // longest check_messages wait
	MaxHistory      int            // messages per history page, at most
	Workdir         string         // where this process's agent runs ("" = do not record)
	MaxLifetime     time.Duration  // a conversation never lasts longer than this from its creation
	MaxMembers      int            // members of one conversation, at most (at least 2)
	InviteTTL       time.Duration  // how long an invite code works by default
	PageSize        int            // messages one check_messages call takes, at most
	RequireInvites  bool           // refuse create_conversation's original shape (both tokens to the creator)
	SessionLimits   []limit.Window // per member, on every tool call
	CreateLimits    []limit.Window // conversations created, across the store: a ceiling
	CreatorLimits   []limit.Window // conversations created per origin (see WithOrigin)
	// RefusalLimits bound refused calls per connection (a stdio process,
	// an HTTP client session) and HostRefusalLimits per remote host, in the
	// front's memory: past them calls are refused unread and unaudited.
	RefusalLimits, HostRefusalLimits []limit.Window
	// ReassignAfter is how long a task's assignee may be silent before the
	// task goes back to open, in conversations without their own threshold
	// (0: DefaultReassignAfter).
	ReassignAfter time.Duration
	Yolo          YoloConfig // command execution; off unless Yolo.Enabled
	Events        Events     // metrics; none when nil
	Now           func() time.Time
	// JournalDelay bounds how long the audit row, rate-limit event and
	// heartbeat of a read-only call wait in memory before they are written
	// (see journal.go); 0 writes each at once.
	JournalDelay time.Duration
}

// DefaultConfig returns the limits of the original contract.
func DefaultConfig() Config {
	return Config{
		TTL:             3 * time.Hour,
		AliveWindow:     120 * time.Second,
		MaxMessageChars: 50000,
		MaxFiles:        20,
		MaxFileChars:    4096,
		MinRoleChars:    3,
		MaxRoleChars:    100,
		MaxWait:         600 * time.Second,
		MaxHistory:      200,
		MaxLifetime:     24 * time.Hour,
		MaxMembers:      32,
		InviteTTL:       30 * time.Minute,
		PageSize:        100,
		JournalDelay:    250 * time.Millisecond,
		SessionLimits: []limit.Window{
			{Max: 10, Period: time.Minute},
			{Max: 100, Period: time.Hour},
			{Max: 500, Period: 24 * time.Hour},
		},
		CreateLimits:      []limit.Window{{Max: 600, Period: time.Hour}},
		CreatorLimits:     []limit.Window{{Max: 30, Period: time.Hour}},
		RefusalLimits:     []limit.Window{{Max: 30, Period: time.Minute}, {Max: 300, Period: time.Hour}},
		HostRefusalLimits: []limit.Window{{Max: 120, Period: time.Minute}, {Max: 1200, Period: time.Hour}},
		Yolo:              DefaultYoloConfig(),
		Now:               time.Now,
	}
}

// SessionLimitsText states the per-member rate limit, e.g. "10 requests per
// minute, 100 requests per hour", or "none".
func (c Config) SessionLimitsText() string {
	if len(c.SessionLimits) == 0 {
		return "none"
	}
	parts := make([]string, len(c.SessionLimits))
	for i, w := range c.SessionLimits {
		parts[i] = w.Name()
	}
	return strings.Join(parts, ", ")
}

// Service applies the bridge's rules. It is safe for concurrent use.
type Service struct {
	seen     seenCache // endpoints recorded recently by this process
	forgot   seenCache // rate-limit subjects whose old events this process deleted recently
	store    Store
	key      token.Key
	auditKey []byte
	rowKey   []byte // seals rows that grant something (approvals): see seal.go
	redactor *redact.Redactor
	cfg      Config
	log      *slog.Logger
	waiters  atomic.Int64 // check_messages calls blocked in wait
	jr       journal      // what read-only calls still have to write: see journal.go
	follows  follows      // inbox waits and followers: see inboxfollow.go

	legacyMu   sync.Mutex  // one ensureSealed at a time
	legacyDone atomic.Bool // legacy rows sealed, or none: see ensureSealed
}

// Waiters returns how many check_messages calls of this process are
// waiting for a message right now.
func (s *Service) Waiters() int { return int(s.waiters.Load()) }

// NewService returns a service over store. Tokens are derived from key;
// text is redacted by redactor; refusals that cannot be audited are logged
// to log.
func NewService(store Store, key token.Key, redactor *redact.Redactor, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = noEvents{}
	}
	if redactor == nil {
		redactor = redact.Default()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, key: key, auditKey: key.Sub("audit"), rowKey: key.Sub("row"), redactor: redactor, cfg: cfg, log: log}
}

// Config returns the service's limits (fronts declare them in schemas).
func (s *Service) Config() Config { return s.cfg }

// Caller identifies and authenticates the member making a call. Session
// may be empty where the token alone says who is calling: the service then
// tries the token against each active member.
type Caller struct {
	ConversationID string
	Session        Session
	Token          string
}

// call is the shape of every use case: run fn, which validates and does its
// work inside one write transaction that also appends the audit row; when fn
// fails, nothing it did is kept and the refusal is audited on its own.
func (s *Service) call(ctx context.Context, tool, conv string, sess Session, fn func(tx Tx, now time.Time) (detail string, err error)) error {
	c := Caller{ConversationID: conv, Session: sess}
	return s.callAs(ctx, tool, &c, false, fn)
}

// errGone is returned when the caller went away before a call that
// delivers messages could commit: nothing was marked read.
var errGone = Errorf(ECancelled, "the caller went away before the result could be returned; nothing was marked read.")

// callAs is call for a caller whose member fn may resolve (from its token):
// the audit row names c's conversation and member as they are when fn
// returns. With live, the transaction commits only if ctx is still live
// right before the commit, so a call that delivers messages marks nothing
// read for a caller that has gone (the delivery rule), and it commits with
// SyncLater.
func (s *Service) callAs(ctx context.Context, tool string, c *Caller, live bool, fn func(tx Tx, now time.Time) (detail string, err error)) error {
	if err := s.ensureSealed(ctx); err != nil {
		return err
	}
	now := s.cfg.Now()
	var detail string
	// A transaction, once begun, runs to its end even if the caller goes
	// away: a send either commits or never happened.
	wctx := context.WithoutCancel(ctx)
	// A take need not wait for the disk: a power failure that undoes it
	// leaves its messages unread, to be delivered again.
	var opts []UpdateOption
	if live {
		opts = append(opts, SyncLater)
	}
	err := s.update(wctx, c.ConversationID, func(stx Tx) error {
		tx := &sealTx{Tx: stx, s: s}
		// A call naming a conversation runs under that conversation's
		// lock; one that learns its conversation on the way (a join)
		// takes it then, and one that writes the global chain takes that
		// first (see Tx.Lock).
		if ValidConversationID(c.ConversationID) {
			if err := tx.Lock(c.ConversationID); err != nil {
				return err
			}
		}
		var err error
		if detail, err = fn(tx, now); err != nil {
			return err
		}
		if err := s.appendAudit(tx, now, tool, c.ConversationID, c.Session, nil, detail); err != nil {
			return err
		}
		callTopics(tx, c.ConversationID)
		if live && ctx.Err() != nil {
			return errGone
		}
		return nil
	}, opts...)
	if err == nil || err == errNothing {
		return err // errNothing: a check with nothing to record
	}
	if KindOf(err) == ERateLimited {
		s.cfg.Events.RateLimited()
	}
	conv := c.ConversationID
	if tool == "create_conversation" {
		conv = "" // a refused create made no conversation
	}
	// Nothing of the journal rides along: the refusal may land in the
	// global chain, whose lock comes before any conversation's.
	if aerr := s.update(wctx, "", func(tx Tx) error {
		tx.Signal(AuditTopic) // a refusal changes nothing but the trail
		return s.appendAudit(tx, now, tool, conv, c.Session, err, "")
	}); aerr != nil {
		s.log.Error("audit refusal", "tool", tool, "error_kind", string(KindOf(err)), "err", aerr)
	}
	return err
}

// Refuse audits a call that a front rejected before reaching the service
// (for example an argument of the wrong JSON type) and returns err.
func (s *Service) Refuse(ctx context.Context, tool, conv string, sess Session, err error) error {
	return s.call(ctx, tool, conv, sess, func(Tx, time.Time) (string, error) { return "", err })
}

// appendAudit appends the audit row of a call to the chain of its
// conversation, or to the global chain when it names none, or (for a
// refusal) one that does not exist. Messages stored through tx are named
// in the row's Refs.
func (s *Service) appendAudit(tx Tx, now time.Time, tool, conv string, sess Session, callErr error, detail string) error {
	// Only well-formed ids are recorded: a malformed one may be anything,
	// including a pasted secret.
	if !ValidConversationID(conv) {
		conv = ""
	}
	if !sess.Valid() {
		sess = ""
	}
	e := AuditEntry{At: now, Tool: tool, ConversationID: conv, Session: string(sess), Outcome: OutcomeOK, Detail: detail}
	if callErr != nil {
		e.Outcome = OutcomeRefused
		e.ErrorKind = KindOf(callErr)
		e.Detail = MessageOf(callErr)
	}
	e.Detail = truncate(s.clean(e.Detail), MaxAuditDetail)
	chain := conv
	if callErr != nil && conv != "" {
		// Checked before any lock: a refusal takes only the lock of the
		// chain it lands in.
		if _, err := tx.Conversation(conv); IsNotFound(err) {
			chain = ""
		} else if err != nil {
			return err
		}
	}
	if st, ok := tx.(*sealTx); ok {
		e.Refs = strings.Join(st.refs, "\n")
		st.refs = nil
	}
	_, err := s.appendTo(tx, chain, e)
	return err
}

// appendTo appends e to chain, under chain's lock, and returns it as
// stored.
func (s *Service) appendTo(tx Tx, chain string, e AuditEntry) (AuditEntry, error) {
	if err := tx.Lock(chain); err != nil {
		return e, err
	}
	seq, prev, err := tx.LastAudit(chain)
	if err != nil {
		return e, err
	}
	if prev == "" {
		prev = audit.Genesis
	}
	e.Chain = chain
	e.Seq = seq + 1
	e.PrevDigest = prev
	e.Digest = audit.Digest(s.auditKey, prev, auditRecord(e))
	return e, tx.AppendAudit(e)
}

// MaxAuditDetail bounds an audit row's detail in bytes, so that refused
// calls with huge arguments cannot grow the trail without bound.
const MaxAuditDetail = 512

// truncate cuts s to at most n bytes on a character boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " [cut]"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func auditRecord(e AuditEntry) audit.Record {
	return audit.Record{
		Chain: e.Chain, Refs: e.Refs, Seq: e.Seq, At: e.At.UnixMilli(), Tool: e.Tool, ConversationID: e.ConversationID,
		Session: e.Session, Outcome: e.Outcome, ErrorKind: string(e.ErrorKind), Detail: e.Detail,
	}
}

// authorize checks the caller's token against its member row, loads the
// conversation, and takes one request from the member's rate limit. It
// needs c.Session: code that lets the token name the member calls
// authorizeMember.
func (s *Service) authorize(tx Tx, c Caller, now time.Time) (Conversation, error) {
	if c.Session == "" {
		return Conversation{}, Errorf(EInvalid, "session_id is required by this tool: pass your member id (\"a\" if you created the conversation, \"b\" or the id join_conversation gave you otherwise).")
	}
	conv, _, err := s.authorizeMember(tx, &c, now)
	return conv, err
}

// authorizeMember is authorize for a caller that may leave the member to
// its token: c.Session is set to the member the token belongs to.
func (s *Service) authorizeMember(tx Tx, c *Caller, now time.Time) (Conversation, Membership, error) {
	a, err := s.authorizeTeam(tx, c, now)
	return a.conv, a.me, err
}

// authorized is what authorizeTeam read before the call's own writes: the
// conversation, the caller's member row and every member the conversation
// ever had (left ones included, in joining order).
type authorized struct {
	conv    Conversation
	me      Membership
	members []Membership
}

// authorizeTeam is authorizeMember that also returns the member list it
// read, so a use case that needs it (a send's recipient) reads it once.
func (s *Service) authorizeTeam(tx Tx, c *Caller, now time.Time) (authorized, error) {
	a, err := s.authenticate(tx, c)
	if err != nil {
		return authorized{me: a.me}, err
	}
	m := a.me
	if a.conv.Expired(now) {
		return authorized{me: m}, s.expired(a.conv)
	}
	if err := s.take(tx, c.ConversationID+"/"+string(c.Session), c.ConversationID, s.cfg.SessionLimits, now, "this member"); err != nil {
		return authorized{me: m}, err
	}
	// Whichever call next touches the conversation reopens the tasks of
	// silent assignees, before its own heartbeat counts: a member returning
	// after the threshold finds its task reopened and is told so.
	if err := s.reopenSilent(tx, c.ConversationID, a.members, now); err != nil {
		return authorized{me: m}, err
	}
	// Any authenticated call shows the member is alive; one heartbeat
	// write a second is enough.
	if at := now.UTC().Truncate(time.Millisecond); at.Sub(m.Heartbeat) >= heartbeatEvery {
		if err := tx.Touch(c.ConversationID, c.Session, at); err != nil {
			return authorized{me: m}, err
		}
	}
	if s.cfg.Workdir != "" && s.seen.due(c.ConversationID+"/"+string(c.Session), now) {
		e := Endpoint{Workdir: s.cfg.Workdir, ConversationID: c.ConversationID, Session: c.Session, SeenAt: now.UTC().Truncate(time.Millisecond)}
		if err := tx.SeeEndpoint(e); err != nil {
			return authorized{me: m}, err
		}
		tx.Signal(EndpointsTopic)
	}
	return a, nil
}

// authenticate checks the caller's arguments, then finds the member whose
// token the caller holds: the one named by c.Session, or, when that is
// empty, whichever active member's token matches (at most MaxMembers
// constant-time comparisons). An unknown conversation and a wrong token get
// the same answer, so a stranger learns nothing about which conversations
// exist. A member that left gets its own answer, but only with its token.
// The member list is read once, whole (at most MaxMembers rows), and
// returned with the caller's row.
func (s *Service) authenticate(tx Tx, c *Caller) (authorized, error) {
	if err := s.checkShape(*c); err != nil {
		return authorized{}, err
	}
	conv, members, err := tx.ConversationMembers(c.ConversationID)
	if IsNotFound(err) {
		return authorized{}, s.badToken(*c)
	}
	if err != nil {
		return authorized{}, err
	}
	candidates := members
	if c.Session != "" {
		candidates = nil
		for i := range members {
			if members[i].Member == c.Session {
				candidates = members[i : i+1]
				break
			}
		}
		if candidates == nil {
			return authorized{}, s.badToken(*c)
		}
	}
	var left *Membership
	for i, m := range candidates {
		if !s.key.VerifyMember(c.ConversationID, string(m.Member), m.Generation, c.Token) {
			continue
		}
		// A member row written or changed without the key (a revived
		// member, an older generation put back) never authenticates.
		if ok, err := s.memberGenuine(tx, m); err != nil {
			return authorized{}, err
		} else if !ok {
			return authorized{}, MemberAltered(c.ConversationID, m.Member)
		}
		if !m.Active() {
			left = &candidates[i]
			continue
		}
		c.Session = m.Member
		return authorized{conv: conv, me: m, members: members}, nil
	}
	if left != nil {
		return authorized{}, Errorf(EUnauthorized, "member %s is no longer in conversation %s (it left or was removed at %s): its token no longer works. To take part again, ask a member for a new invite and call join_conversation with it.",
			left.Member, c.ConversationID, FormatTime(left.LeftAt))
	}
	return authorized{}, s.badToken(*c)
}

// MemberAltered is the refusal for a member row whose MAC does not verify.
func MemberAltered(conversationID string, id Member) error {
	return Errorf(EUnauthorized, "member %s of %s was written or changed in the database outside agent-bridge (its MAC does not verify), so its token is not accepted. Ask the person running agent-bridge to run agent-bridge audit --verify.", id, conversationID)
}

func (s *Service) badToken(c Caller) error {
	who := "any member"
	if c.Session != "" {
		who = "member " + string(c.Session)
	}
	return Errorf(EUnauthorized, "Invalid session token: the token is not that of %s of conversation %s, or no such conversation exists (this answer does not say which). Check conversation_id for a typo: it must be exactly as create_conversation or join_conversation returned it. Pass your own token unchanged; a token works only for its own conversation and member.",
		who, c.ConversationID)
}

// seenCache limits endpoint writes to one per session a minute (and
// deletions of old rate-limit events to one per subject a minute).
type seenCache struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (c *seenCache) due(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]time.Time{}
	}
	if t, ok := c.last[key]; ok && now.Sub(t) < time.Minute && !now.Before(t) {
		return false
	}
	c.last[key] = now
	return true
}

func (s *Service) expired(conv Conversation) error {
	return Errorf(EExpired, "conversation %s expired at %s. Expired conversations cannot be used; call create_conversation to start a new one and invite your partners again.", conv.ID, FormatTime(conv.ExpiresAt))
}

// take records one request of subject if every window allows it.
func (s *Service) take(tx LimitTx, subject, conversationID string, ws []limit.Window, now time.Time, who string) error {
	h := limit.Horizon(ws)
	if h == 0 {
		return nil
	}
	d, err := s.admit(tx, subject, conversationID, ws, now, now.Add(-h))
	if err != nil {
		return err
	}
	if !d.Allowed {
		wait := d.RetryAt.Sub(now).Round(time.Second)
		if wait < time.Second {
			wait = time.Second
		}
		return &Error{
			Kind:       ERateLimited,
			RetryAfter: wait,
			Message: fmt.Sprintf("rate limit exceeded: %s allows %s. Retry after %s (at %s); calls refused until then do not count.",
				who, d.Window.Name(), wait, FormatTime(d.RetryAt)),
		}
	}
	// Events older than the horizon are never read again; deleting them
	// once a minute per subject keeps the table bounded without a delete
	// on every call.
	var forget time.Time
	if s.forgot.due(subject, now) {
		forget = now.Add(-h)
	}
	return tx.AddRequest(subject, conversationID, now, forget)
}

// checkShape validates the caller's arguments without storage.
func (s *Service) checkShape(c Caller) error {
	if c.ConversationID == "" {
		return Errorf(EInvalid, "conversation_id is required: pass the id that create_conversation or join_conversation returned (conv_ followed by 16 hex digits).")
	}
	if !ValidConversationID(c.ConversationID) {
		return Errorf(EInvalid, "conversation_id is malformed: it must be conv_ followed by 16 lower-case hex digits (pattern %s), as returned by create_conversation or join_conversation.", ConversationIDPattern)
	}
	if c.Session != "" && !c.Session.Valid() {
		return Errorf(EInvalid, `session_id must be a member id (pattern %s): "a" if you created the conversation, "b" or the member id join_conversation returned otherwise. You may omit it: your token says who you are.`, MemberIDPattern)
	}
	if len(c.Token) != token.Size || !isLowerHex(c.Token) {
		n, what := utf8.RuneCountInString(c.Token), "characters"
		if n == 1 {
			what = "character"
		}
		if !isLowerHex(c.Token) {
			what += ", not all lower-case hex"
		}
		return Errorf(EInvalid, "token must be exactly %d lower-case hex characters (it has %d %s). Pass the token create_conversation or join_conversation returned to you, unchanged.",
			token.Size, n, what)
	}
	return nil
}

// identify verifies the caller's token in tx and, when c.Session is
// empty, sets it to the member the token belongs to, so the rest of a use
// case (and its audit row) names the member. authorize verifies again.
func (s *Service) identify(tx Tx, c *Caller) error {
	_, err := s.authenticate(tx, c)
	return err
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}

func quoteList(set []string) string {
	q := make([]string, len(set))
	for i, v := range set {
		q[i] = `"` + v + `"`
	}
	return strings.Join(q, ", ")
}

// ConversationNotFound is the error stores return for an unknown id.
func ConversationNotFound(id string) error {
	return Errorf(ENotFound, "conversation %s does not exist. Check the id: it comes from create_conversation and is shared by both sessions. A conversation removed by cleanup after it expired cannot be used again; create a new one.", id)
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == ENotFound
}

// clean returns v with secrets redacted.
func (s *Service) clean(v string) string {
	out, _ := s.redactor.Redact(v)
	return out
}

// MemberNotFound is the error stores return for an unknown member.
func MemberNotFound(conversationID string, id Member) error {
	return Errorf(ENotFound, "%s has no member %q.", conversationID, id)
}

// InviteNotFound is the error stores return for an unknown invite code.
func InviteNotFound() error {
	return Errorf(EUnauthorized, "this invite code is not valid: check it for typos (12 characters, shown as XXXX-XXXX-XXXX; case and dashes do not matter), or ask a member for a new invite.")
}
