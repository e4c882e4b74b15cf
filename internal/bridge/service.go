package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	SessionLimits   []limit.Window // per session, on every tool call
	CreateLimits    []limit.Window // conversations created, across the store
	Now             func() time.Time
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
		SessionLimits: []limit.Window{
			{Max: 10, Period: time.Minute},
			{Max: 100, Period: time.Hour},
			{Max: 500, Period: 24 * time.Hour},
		},
		CreateLimits: []limit.Window{{Max: 100, Period: time.Hour}},
		Now:          time.Now,
	}
}

// Service applies the bridge's rules. It is safe for concurrent use.
type Service struct {
	store    Store
	key      token.Key
	auditKey []byte
	redactor *redact.Redactor
	cfg      Config
	log      *slog.Logger
}

// NewService returns a service over store. Tokens are derived from key;
// text is redacted by redactor; refusals that cannot be audited are logged
// to log.
func NewService(store Store, key token.Key, redactor *redact.Redactor, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if redactor == nil {
		redactor = redact.Default()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, key: key, auditKey: key.Sub("audit"), redactor: redactor, cfg: cfg, log: log}
}

// Config returns the service's limits (fronts declare them in schemas).
func (s *Service) Config() Config { return s.cfg }

// Caller identifies and authenticates the session making a call.
type Caller struct {
	ConversationID string
	Session        Session
	Token          string
}

// call is the shape of every use case: run fn, which validates and does its
// work inside one write transaction that also appends the audit row; when fn
// fails, nothing it did is kept and the refusal is audited on its own.
func (s *Service) call(ctx context.Context, tool, conv string, sess Session, fn func(tx Tx, now time.Time) (detail string, err error)) error {
	now := s.cfg.Now()
	var detail string
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if detail, err = fn(tx, now); err != nil {
			return err
		}
		return s.appendAudit(tx, now, tool, conv, sess, nil, detail)
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The caller is gone; record the refusal anyway.
		ctx = context.WithoutCancel(ctx)
	}
	if tool == "create_conversation" {
		conv = "" // a refused create made no conversation
	}
	if aerr := s.store.Update(ctx, func(tx Tx) error {
		return s.appendAudit(tx, now, tool, conv, sess, err, "")
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
	e.Detail = s.clean(e.Detail)
	seq, prev, err := tx.LastAudit()
	if err != nil {
		return err
	}
	if prev == "" {
		prev = audit.Genesis
	}
	e.Seq = seq + 1
	e.PrevDigest = prev
	e.Digest = audit.Digest(s.auditKey, prev, auditRecord(e))
	return tx.AppendAudit(e)
}

func auditRecord(e AuditEntry) audit.Record {
	return audit.Record{
		Seq: e.Seq, At: e.At.UnixMilli(), Tool: e.Tool, ConversationID: e.ConversationID,
		Session: e.Session, Outcome: e.Outcome, ErrorKind: string(e.ErrorKind), Detail: e.Detail,
	}
}

// authorize checks the caller's arguments and token, loads the
// conversation, and takes one request from the session's rate limit.
func (s *Service) authorize(tx Tx, c Caller, now time.Time) (Conversation, error) {
	conv, err := tx.Conversation(c.ConversationID)
	if err != nil {
		return Conversation{}, err
	}
	if conv.Expired(now) {
		return Conversation{}, Errorf(EExpired, "conversation %s expired at %s. Expired conversations cannot be used; call create_conversation to start a new one and share its id and session b's token with your partner.", conv.ID, FormatTime(conv.ExpiresAt))
	}
	if err := s.take(tx, c.ConversationID+"/"+string(c.Session), s.cfg.SessionLimits, now, "this session"); err != nil {
		return Conversation{}, err
	}
	return conv, nil
}

// take records one request of subject if every window allows it.
func (s *Service) take(tx Tx, subject string, ws []limit.Window, now time.Time, who string) error {
	h := limit.Horizon(ws)
	if h == 0 {
		return nil
	}
	past, err := tx.RequestTimes(subject, now.Add(-h))
	if err != nil {
		return err
	}
	d := limit.Decide(now, ws, past)
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
	return tx.AddRequest(subject, now, now.Add(-h))
}

// checkCaller validates the caller's arguments and verifies the token. It
// needs no storage, so forged calls cost nothing and change nothing.
func (s *Service) checkCaller(c Caller) error {
	if c.ConversationID == "" {
		return Errorf(EInvalid, "conversation_id is required: pass the id that create_conversation returned (conv_ followed by 16 hex digits).")
	}
	if !ValidConversationID(c.ConversationID) {
		return Errorf(EInvalid, "conversation_id is malformed: it must be conv_ followed by 16 lower-case hex digits (pattern %s), as returned by create_conversation.", ConversationIDPattern)
	}
	if !c.Session.Valid() {
		return Errorf(EInvalid, `session_id must be "a" or "b": "a" if you called create_conversation, "b" if your partner gave you the conversation.`)
	}
	if len(c.Token) != token.Size || !isLowerHex(c.Token) {
		n, what := utf8.RuneCountInString(c.Token), "characters"
		if n == 1 {
			what = "character"
		}
		if !isLowerHex(c.Token) {
			what += ", not all lower-case hex"
		}
		return Errorf(EInvalid, "token must be exactly %d lower-case hex characters (it has %d %s). Pass your session's token from create_conversation unchanged.",
			token.Size, n, what)
	}
	if !s.key.Verify(c.ConversationID, string(c.Session), c.Token) {
		return Errorf(EUnauthorized, "Invalid session token for session %s of %s. Use the token create_conversation returned for session %s of this conversation; a token works only for its own conversation and session, and is never valid for the partner's session.",
			c.Session, c.ConversationID, c.Session)
	}
	return nil
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

func newConversationID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("conversation id: %w", err)
	}
	return "conv_" + hex.EncodeToString(b[:]), nil
}

// Created is the result of CreateConversation. The tokens are secrets.
type Created struct {
	Conversation Conversation
	TokenA       string
	TokenB       string
}

// CreateConversation starts a conversation; the caller becomes session a.
func (s *Service) CreateConversation(ctx context.Context, myRole, partnerRole string) (Created, error) {
	var out Created
	id, err := newConversationID()
	if err != nil {
		return out, err
	}
	err = s.call(ctx, "create_conversation", id, "", func(tx Tx, now time.Time) (string, error) {
		if err := s.checkRole("my_role", myRole); err != nil {
			return "", err
		}
		if err := s.checkRole("partner_role", partnerRole); err != nil {
			return "", err
		}
		if err := s.take(tx, "create_conversation", s.cfg.CreateLimits, now, "creating conversations on this bridge"); err != nil {
			return "", err
		}
		// 64 random bits: a collision is a broken random source, not bad luck.
		if _, err := tx.Conversation(id); KindOf(err) != ENotFound {
			if err != nil {
				return "", err
			}
			return "", fmt.Errorf("conversation id %s drawn twice", id)
		}
		c := Conversation{
			ID:        id,
			RoleA:     s.clean(myRole),
			RoleB:     s.clean(partnerRole),
			CreatedAt: now.UTC().Truncate(time.Millisecond),
			ExpiresAt: now.Add(s.cfg.TTL).UTC().Truncate(time.Second),
		}
		if err := tx.CreateConversation(c); err != nil {
			return "", err
		}
		out = Created{Conversation: c, TokenA: s.key.Derive(c.ID, "a"), TokenB: s.key.Derive(c.ID, "b")}
		return "created, expires " + FormatTime(c.ExpiresAt), nil
	})
	return out, err
}

func (s *Service) checkRole(name, v string) error {
	n := utf8.RuneCountInString(v)
	if strings.TrimSpace(v) == "" || n < s.cfg.MinRoleChars || n > s.cfg.MaxRoleChars {
		return Errorf(EInvalid, "%s must be %d to %d characters describing the session's role (e.g. \"backend_developer\"); it has %d.", name, s.cfg.MinRoleChars, s.cfg.MaxRoleChars, n)
	}
	return nil
}

// SendInput is a message to the partner, before redaction.
type SendInput struct {
	Message    string
	ActionType string // "" means "info"
	Files      []string
}

// Sent is the result of Send.
type Sent struct {
	Message  Message        // as stored (redacted)
	Redacted []redact.Count // kinds removed from the message and files
}

// Send stores a message for the partner, redacted, durably, before returning.
func (s *Service) Send(ctx context.Context, c Caller, in SendInput) (Sent, error) {
	var out Sent
	err := s.call(ctx, "send_to_partner", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if err := s.checkSend(&in); err != nil {
			return "", err
		}
		if _, err := s.authorize(tx, c, now); err != nil {
			return "", err
		}
		body, findings := s.redactor.Redact(in.Message)
		files := make([]string, len(in.Files))
		for i, f := range in.Files {
			var ff []redact.Finding
			files[i], ff = s.redactor.Redact(f)
			findings = append(findings, ff...)
		}
		m := Message{
			ConversationID: c.ConversationID, From: c.Session, ActionType: in.ActionType,
			Body: body, Files: files, CreatedAt: now.UTC().Truncate(time.Millisecond),
		}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		out = Sent{Message: m, Redacted: redact.Counts(findings)}
		detail := fmt.Sprintf("message %d, %s, %d chars, %d files", m.ID, m.ActionType, utf8.RuneCountInString(body), len(files))
		if len(out.Redacted) > 0 {
			detail += ", redacted " + countsText(out.Redacted)
		}
		return detail, nil
	})
	return out, err
}

func (s *Service) checkSend(in *SendInput) error {
	if n := utf8.RuneCountInString(in.Message); n > s.cfg.MaxMessageChars {
		return Errorf(ETooLarge, "message is %s characters; the limit is %s. Shorten it or split it into several messages.", thousands(n), thousands(s.cfg.MaxMessageChars))
	}
	if strings.TrimSpace(in.Message) == "" {
		return Errorf(EInvalid, "message is empty: write the text you want your partner to read.")
	}
	if !utf8.ValidString(in.Message) {
		return Errorf(EInvalid, "message is not valid UTF-8 text.")
	}
	if in.ActionType == "" {
		in.ActionType = "info"
	}
	if !oneOf(in.ActionType, ActionTypes) {
		return Errorf(EInvalid, "action_type must be one of %s (default \"info\").", quoteList(ActionTypes))
	}
	if len(in.Files) > s.cfg.MaxFiles {
		return Errorf(ETooLarge, "files_involved has %d entries; the limit is %d. List the most relevant paths only.", len(in.Files), s.cfg.MaxFiles)
	}
	for i, f := range in.Files {
		if n := utf8.RuneCountInString(f); n > s.cfg.MaxFileChars {
			return Errorf(ETooLarge, "files_involved[%d] is %d characters; the limit is %d per entry.", i, n, s.cfg.MaxFileChars)
		}
		if strings.TrimSpace(f) == "" || !utf8.ValidString(f) {
			return Errorf(EInvalid, "files_involved[%d] is empty or not valid text: give a file path.", i)
		}
	}
	return nil
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func countsText(cs []redact.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s x%d", c.Kind, c.N)
	}
	return strings.Join(parts, ", ")
}

// Inbox is the result of CheckMessages.
type Inbox struct {
	Conversation Conversation
	Messages     []Message
}

// CheckMessages returns the caller's unread messages, oldest first, and
// marks them read in the same transaction: each is delivered exactly once.
func (s *Service) CheckMessages(ctx context.Context, c Caller) (Inbox, error) {
	var out Inbox
	err := s.call(ctx, "check_messages", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		msgs, err := tx.TakeUnread(c.ConversationID, c.Session, now.UTC().Truncate(time.Millisecond))
		if err != nil {
			return "", err
		}
		out = Inbox{Conversation: conv, Messages: msgs}
		if len(msgs) == 0 {
			return "delivered 0 messages", nil
		}
		return fmt.Sprintf("delivered %d messages (ids %d..%d)", len(msgs), msgs[0].ID, msgs[len(msgs)-1].ID), nil
	})
	return out, err
}

// UpdateStatus records the caller's status with a heartbeat at now.
func (s *Service) UpdateStatus(ctx context.Context, c Caller, status string) (SessionState, error) {
	var out SessionState
	err := s.call(ctx, "update_my_status", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if !oneOf(status, Statuses) {
			return "", Errorf(EInvalid, "status must be one of %s.", quoteList(Statuses))
		}
		if _, err := s.authorize(tx, c, now); err != nil {
			return "", err
		}
		at := now.UTC().Truncate(time.Millisecond)
		if err := tx.SetState(c.ConversationID, c.Session, status, at); err != nil {
			return "", err
		}
		out = SessionState{Session: c.Session, Status: status, Heartbeat: at}
		return "status " + status, nil
	})
	return out, err
}

// PartnerState is the result of PartnerStatus.
type PartnerState struct {
	SessionState
	Role  string
	Since time.Duration // age of the heartbeat; meaningless when never reported
	Alive bool
}

// PartnerStatus reports the partner's last status and whether it is alive.
func (s *Service) PartnerStatus(ctx context.Context, c Caller) (PartnerState, error) {
	var out PartnerState
	err := s.call(ctx, "check_partner_status", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		p := c.Session.Partner()
		st, err := tx.State(c.ConversationID, p)
		if err != nil {
			return "", err
		}
		out = PartnerState{SessionState: st, Role: conv.Role(p)}
		if !st.Heartbeat.IsZero() {
			out.Since = max(now.Sub(st.Heartbeat), 0)
			out.Alive = out.Since < s.cfg.AliveWindow
		}
		return "partner " + st.Status, nil
	})
	return out, err
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
