package bridge

// YOLO mode: a person lets one session run commands through the bridge.
//
// Four stages guard it, each audited:
//
//  1. The server was started with YOLO_MODE=1 (YoloConfig.Enabled); without
//     it both tools refuse, whatever is in the database.
//  2. A person, not the agent, reads what is asked and types a
//     confirmation phrase,
//  3. and a one-time code shown only to them: in the MCP client's own form
//     (elicitation), or in `agent-bridge approve` on a terminal. The code is
//     never stored and never reaches the agent.
//  4. Consent yields an approval token, valid TokenTTL and redeemed once by
//     execute_command, which starts the enablement. In the yolo mode every
//     command also needs its own approval, bound to a hash of its text.
//
// What may run, and how it is confined, is internal/yolo's business.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

// EForbidden: the mode, a person or the command policy does not allow it.
const EForbidden ErrorKind = "forbidden"

// Modes are the YOLO modes, least to most permissive.
var Modes = []string{string(yolo.Safe), string(yolo.Restricted), string(yolo.YOLO)}

// YoloConfig holds YOLO mode's settings.
type YoloConfig struct {
	Enabled         bool          // stage 1: the server was started with YOLO_MODE=1
	RequestTTL      time.Duration // a request no one decided expires then
	TokenTTL        time.Duration // an approval must be redeemed (or a command run) within this
	EnablementTTL   time.Duration // an enablement lasts this long, never past its conversation
	DefaultWait     time.Duration // how long a call waits for a person by default
	DefaultTimeout  time.Duration // per command, when enable_yolo_mode gives none
	MaxTimeout      time.Duration
	MaxOutput       int // bytes of a command's output kept
	MaxCommandChars int
	Workspace       string // default workspace: the server's working directory
	Origin          string // host and directory shown to the person approving
	Policy          yolo.Policy
	// Hide lists paths sandboxed commands must not read: the bridge's own
	// database and key file (yolo.HiddenPaths adds credential stores).
	Hide []string
}

// DefaultYoloConfig returns YOLO mode's defaults, disabled.
func DefaultYoloConfig() YoloConfig {
	return YoloConfig{
		RequestTTL:      10 * time.Minute,
		TokenTTL:        5 * time.Minute,
		EnablementTTL:   time.Hour,
		DefaultWait:     2 * time.Minute,
		DefaultTimeout:  30 * time.Second,
		MaxTimeout:      10 * time.Minute,
		MaxOutput:       64 << 10,
		MaxCommandChars: 1000,
	}
}

// YoloOffMessage tells a caller how a person turns YOLO mode on.
const YoloOffMessage = "YOLO mode (command execution) is off on this agent-bridge server, and only a person can turn it on: " +
	"they restart the server with the environment variable YOLO_MODE=1 (for Claude Code: claude mcp add bridge -e YOLO_MODE=1 -- agent-bridge), " +
	"then every enablement still needs their typed consent. Do not try to enable it yourself; ask the person, and read YOLO_MODE.md with them first."

func (s *Service) yoloGate() error {
	if !s.cfg.Yolo.Enabled {
		return Errorf(EForbidden, "%s", YoloOffMessage)
	}
	return nil
}

// EnableInput is an enable_yolo_mode call.
type EnableInput struct {
	Mode      string
	Workspace string        // "" means YoloConfig.Workspace
	Timeout   time.Duration // per command; 0 means the default
	Sandbox   bool
	Wait      time.Duration // how long to wait for a person; 0 returns at once
	RequestID string        // wait again for an earlier request
	// Elicit: the client can show its user a form. The call then returns a
	// Challenge for the front to show instead of waiting.
	Elicit bool
	// Answer is the person's answer to a Challenge's form.
	Answer *ConsentAnswer
}

// ExecInput is an execute_command call.
type ExecInput struct {
	Command       string
	ApprovalToken string        // from enable_yolo_mode; needed once, to start the enablement
	RequestID     string        // yolo mode: wait again for this command's approval
	Wait          time.Duration // yolo mode: how long to wait for a person
	Elicit        bool
	Answer        *ConsentAnswer
}

// A Challenge is what a front shows a person to ask for consent: the
// request, the phrase and the one-time code to type. State goes back with
// the answer; it names the approval and carries a MAC of the code, so the
// code is stored nowhere and any process or node can check the answer.
type Challenge struct {
	Approval Approval
	Prompt   string
	Phrase   string
	Code     string
	State    string
}

// ConsentAnswer is what the person did with a Challenge.
type ConsentAnswer struct {
	State    string
	Accepted bool // false: declined or cancelled
	Phrase   string
	Code     string
}

// YoloResult is the outcome of an enable_yolo_mode call.
type YoloResult struct {
	Approval  Approval   // the request as it stands
	Token     string     // the approval token, once approved
	Challenge *Challenge // the front must ask its user
	Waited    time.Duration
}

// ExecResult is the outcome of an execute_command call.
type ExecResult struct {
	// Ran is false while a yolo-mode command waits for a person (Approval
	// is then its pending request, or Challenge the form to show).
	Ran        bool
	Enablement Approval
	Approval   Approval
	Challenge  *Challenge
	Plan       yolo.Plan
	Run        yolo.Result // Output is not redacted: use Output
	Command    string      // as shown to people: redacted
	Output     string      // redacted
	Redacted   []redact.Count
	MessageID  int64 // the partner's copy; 0 when it could not be delivered
	Delivery   string
	Waited     time.Duration
}

// EnableYolo asks a person to let the caller run commands in a mode and
// workspace. It returns an approval token once they agree.
func (s *Service) EnableYolo(ctx context.Context, c Caller, in EnableInput) (YoloResult, error) {
	const tool = "enable_yolo_mode"
	if in.Answer != nil {
		a, err := s.answerConsent(ctx, tool, c, in.Answer, KindEnable, "")
		if err != nil {
			return YoloResult{}, err
		}
		in = EnableInput{RequestID: a.ID}
	}
	var a Approval
	err := s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.yoloGate(); err != nil {
			return "", err
		}
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if in.Wait < 0 || in.Wait > s.cfg.MaxWait {
			return "", Errorf(EInvalid, "wait_seconds must be 0 to %d; it is %d.", int(s.cfg.MaxWait/time.Second), int(in.Wait/time.Second))
		}
		if in.RequestID != "" {
			if _, err := s.authorize(tx, c, now); err != nil {
				return "", err
			}
			var err error
			a, err = s.ownApproval(tx, c, in.RequestID, KindEnable, "")
			return "looked up " + in.RequestID + ": " + a.StateAt(now), err
		}
		ws, err := s.checkEnable(&in)
		if err != nil {
			return "", err
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		at := now.UTC().Truncate(time.Millisecond)
		a = Approval{
			ID: newApprovalID(), Kind: KindEnable, ConversationID: c.ConversationID, Session: c.Session,
			Mode: in.Mode, Workspace: ws, Timeout: in.Timeout, Sandbox: in.Sandbox, Origin: s.cfg.Yolo.Origin,
			State: ApprovalPending, CreatedAt: at, ExpiresAt: minTime(at.Add(s.cfg.Yolo.RequestTTL), conv.ExpiresAt),
		}
		if err := tx.AddApproval(a); err != nil {
			return "", err
		}
		return fmt.Sprintf("consent requested: %s, %s mode, workspace %s, timeout %s, sandbox %t", a.ID, a.Mode, a.Workspace, Human(a.Timeout), a.Sandbox), nil
	})
	if err != nil {
		return YoloResult{}, err
	}
	if a.StateAt(s.cfg.Now()) == ApprovalPending {
		if in.Elicit {
			ch, err := s.challenge(a)
			return YoloResult{Approval: a, Challenge: ch}, err
		}
		var waited time.Duration
		if a, waited, err = s.awaitDecision(ctx, a, in.Wait); err != nil {
			return YoloResult{Approval: a, Waited: waited}, err
		}
		res, err := s.enableOutcome(a)
		res.Waited = waited
		return res, err
	}
	return s.enableOutcome(a)
}

func (s *Service) checkEnable(in *EnableInput) (string, error) {
	if !oneOf(in.Mode, Modes) {
		return "", Errorf(EInvalid, "mode must be one of %s: safe runs a fixed set of read-only commands, restricted adds the operator's allow list, yolo runs shell commands each approved by a person.", quoteList(Modes))
	}
	if in.Timeout == 0 {
		in.Timeout = s.cfg.Yolo.DefaultTimeout
	}
	if in.Timeout < time.Second || in.Timeout > s.cfg.Yolo.MaxTimeout {
		return "", Errorf(EInvalid, "timeout must be 1 to %d seconds (default %d); it is %d.", int(s.cfg.Yolo.MaxTimeout/time.Second), int(s.cfg.Yolo.DefaultTimeout/time.Second), int(in.Timeout/time.Second))
	}
	dir := in.Workspace
	if dir == "" {
		dir = s.cfg.Yolo.Workspace
	}
	if dir == "" {
		return "", Errorf(EInvalid, "workspace is required here: give the absolute path of the directory commands may run in.")
	}
	ws, err := yolo.Workspace(dir)
	if err != nil {
		return "", Errorf(EInvalid, "workspace %q cannot be used: %v. Give an existing project directory (not / or a home or system directory).", dir, err)
	}
	if in.Sandbox {
		// Refuse now rather than after a person approved a mode whose
		// every command would fail.
		if err := yolo.SandboxAvailable(ws); err != nil {
			return "", Errorf(EInvalid, "sandbox: %v", err)
		}
	}
	return ws, nil
}

// enableOutcome turns an enable request's state into the caller's result.
func (s *Service) enableOutcome(a Approval) (YoloResult, error) {
	now := s.cfg.Now()
	switch st := a.StateAt(now); st {
	case ApprovalPending, ApprovalActive:
		return YoloResult{Approval: a}, nil
	case ApprovalApproved:
		return YoloResult{Approval: a, Token: s.approvalToken(a.ID)}, nil
	case ApprovalDenied:
		return YoloResult{Approval: a}, Errorf(EForbidden, "the person denied YOLO mode request %s (%s). Do not ask again unless they tell you to.", a.ID, a.Reason)
	case ApprovalRevoked:
		return YoloResult{Approval: a}, Errorf(EForbidden, "enablement %s was revoked by a person (%s).", a.ID, a.Reason)
	default: // expired
		return YoloResult{Approval: a}, Errorf(EExpired, "YOLO mode request %s expired at %s (%s). Call enable_yolo_mode again if the person still wants it.", a.ID, FormatTime(a.ExpiresAt), expiredWhy(a))
	}
}

func expiredWhy(a Approval) string {
	switch a.State {
	case ApprovalPending:
		return "no person decided in time"
	case ApprovalApproved:
		return "its approval token was not used within the time allowed"
	default:
		return "the enablement ran its time"
	}
}

// awaitDecision waits up to wait for a person to decide on a, in any
// process. It returns a as it then stands.
func (s *Service) awaitDecision(ctx context.Context, a Approval, wait time.Duration) (Approval, time.Duration, error) {
	start := s.cfg.Now()
	deadline := time.Now().Add(wait)
	for {
		changed := s.store.Changed()
		err := s.store.View(context.WithoutCancel(ctx), func(tx Tx) (err error) {
			a, err = tx.Approval(a.ID)
			return err
		})
		now := s.cfg.Now()
		if err != nil || a.StateAt(now) != ApprovalPending {
			return a, now.Sub(start), err
		}
		left := min(time.Until(deadline), a.ExpiresAt.Sub(now)+time.Millisecond)
		if left <= 0 {
			return a, now.Sub(start), nil
		}
		if err := sleep(ctx, changed, left); err != nil {
			return a, s.cfg.Now().Sub(start), err
		}
	}
}

// ownApproval loads the caller's approval id of the given kind; for a
// command, hash must match.
func (s *Service) ownApproval(tx Tx, c Caller, id, kind, hash string) (Approval, error) {
	if !ValidApprovalID(id) {
		return Approval{}, Errorf(EInvalid, "request_id must be appr_ followed by 16 hex digits, as a previous call returned.")
	}
	a, err := tx.Approval(id)
	if err != nil {
		return a, err
	}
	if a.ConversationID != c.ConversationID || a.Session != c.Session {
		return Approval{}, Errorf(EUnauthorized, "request %s belongs to another session; use the request_id your own call returned.", id)
	}
	if a.Kind != kind {
		if kind == KindEnable {
			return Approval{}, Errorf(EInvalid, "request %s is a command approval: pass it to execute_command, not enable_yolo_mode.", id)
		}
		return Approval{}, Errorf(EInvalid, "request %s is an enablement request: pass it to enable_yolo_mode, not execute_command.", id)
	}
	if hash != "" && a.CommandHash != hash {
		return Approval{}, Errorf(EForbidden, "request %s approves a different command: an approval covers only the exact command text shown to the person. Send the same command, or call without request_id to ask for this one.", id)
	}
	return a, nil
}

// ConsentPhrase is the phrase a person types to approve a.
func ConsentPhrase(a Approval) string {
	if a.Kind == KindCommand {
		return "run this command"
	}
	return "enable " + a.Mode + " mode"
}

// ConsentPrompt is what a person reads before deciding on a.
func ConsentPrompt(a Approval, roles Conversation) string {
	var b strings.Builder
	who := fmt.Sprintf("Session %s", a.Session)
	if r := roles.Role(a.Session); r != "" {
		who += fmt.Sprintf(" (%q)", r)
	}
	if a.Kind == KindCommand {
		fmt.Fprintf(&b, "%s of conversation %s asks to run this command through a shell (yolo mode):\n\n    %s\n\n", who, a.ConversationID, a.Command)
	} else {
		fmt.Fprintf(&b, "%s of conversation %s asks to enable YOLO mode: commands run as your user.\n\n", who, a.ConversationID)
		fmt.Fprintf(&b, "  mode:      %s: %s\n", a.Mode, ModeSummary(a.Mode))
	}
	fmt.Fprintf(&b, "  workspace: %s\n", a.Workspace)
	fmt.Fprintf(&b, "  timeout:   %s per command\n", Human(a.Timeout))
	if a.Sandbox {
		fmt.Fprintf(&b, "  sandbox:   on (bubblewrap: only the workspace is writable, no network)\n")
	} else {
		fmt.Fprintf(&b, "  sandbox:   off (commands see everything your user can)\n")
	}
	if a.Origin != "" {
		fmt.Fprintf(&b, "  asked by:  the agent-bridge server at %s\n", a.Origin)
	}
	fmt.Fprintf(&b, "  request:   %s, expires %s\n", a.ID, FormatTime(a.ExpiresAt))
	fmt.Fprintf(&b, "\nCommand output is redacted and shown to both agents.")
	return b.String()
}

// ModeSummary says in one line what a mode permits.
func ModeSummary(mode string) string {
	switch mode {
	case string(yolo.Safe):
		return "read-only commands (ls, cat, grep, find, git status/diff/log ...) and go build/vet/test, which run the project's code; no shell, paths inside the workspace"
	case string(yolo.Restricted):
		return "the safe set plus the operator's allow list; no shell, paths inside the workspace"
	case string(yolo.YOLO):
		return "any shell command you approve one by one, except a hard deny list"
	}
	return mode
}

// challenge makes the one-time code for a and the state that checks it.
func (s *Service) challenge(a Approval) (*Challenge, error) {
	code, err := newConsentCode()
	if err != nil {
		return nil, err
	}
	var conv Conversation
	_ = s.store.View(context.Background(), func(tx Tx) (err error) {
		conv, err = tx.Conversation(a.ConversationID)
		return err
	})
	return &Challenge{
		Approval: a,
		Prompt:   ConsentPrompt(a, conv),
		Phrase:   ConsentPhrase(a),
		Code:     code,
		State:    a.ID + "." + s.consentMAC(a.ID, code),
	}, nil
}

func (s *Service) consentMAC(id, code string) string {
	m := hmac.New(sha256.New, s.yoloKey("consent"))
	m.Write([]byte(id + "\x00" + digits(code)))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) yoloKey(purpose string) []byte { return s.key.Sub("yolo " + purpose) }

// approvalToken is the stage-4 token of an approved enablement. It is a
// MAC of the id, recomputed when presented, so it is never stored.
func (s *Service) approvalToken(id string) string {
	m := hmac.New(sha256.New, s.yoloKey("approval token"))
	m.Write([]byte(id))
	return id + "." + hex.EncodeToString(m.Sum(nil))
}

// ApprovalTokenPattern is the shape of an approval token.
const ApprovalTokenPattern = `^appr_[a-f0-9]{16}\.[a-f0-9]{64}$`

func (s *Service) approvalTokenID(tok string) (string, bool) {
	id, _, ok := strings.Cut(tok, ".")
	if !ok || !ValidApprovalID(id) {
		return "", false
	}
	return id, hmac.Equal([]byte(tok), []byte(s.approvalToken(id)))
}

// CheckConsent compares what a person typed with the phrase and the code
// they were shown. Case, spacing and the dash in the code do not matter.
func CheckConsent(phrase, code, typedPhrase, typedCode string) error {
	norm := func(v string) string { return strings.Join(strings.Fields(strings.ToLower(v)), " ") }
	if norm(typedPhrase) != norm(phrase) {
		return fmt.Errorf("the phrase typed was not %q", phrase)
	}
	if d := digits(code); d == "" || !hmac.Equal([]byte(digits(typedCode)), []byte(d)) {
		return fmt.Errorf("the code typed did not match the one shown")
	}
	return nil
}

func digits(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
}

// newConsentCode returns six random digits shown as 123-456.
func newConsentCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("consent code: %w", err)
	}
	v := fmt.Sprintf("%06d", n.Int64())
	return v[:3] + "-" + v[3:], nil
}

func newApprovalID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return "appr_" + hex.EncodeToString(b[:])
}

// answerConsent records a person's answer to a Challenge from the client's
// form. A decline, a wrong phrase or a wrong code denies the request (one
// try per code); the denial is kept and audited, and the caller gets an
// error.
func (s *Service) answerConsent(ctx context.Context, tool string, c Caller, ans *ConsentAnswer, kind, hash string) (Approval, error) {
	var a Approval
	var denied error
	err := s.call(ctx, "yolo:consent", c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.yoloGate(); err != nil {
			return "", err
		}
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		id, mac, ok := strings.Cut(ans.State, ".")
		if !ok || !ValidApprovalID(id) || len(mac) != 64 {
			return "", Errorf(EInvalid, "the consent form's state is malformed; call %s again without it to ask anew.", tool)
		}
		var err error
		if a, err = s.ownApproval(tx, c, id, kind, hash); err != nil {
			return "", err
		}
		if st := a.StateAt(now); st != ApprovalPending {
			return "", Errorf(EForbidden, "request %s is %s, not waiting for consent: a consent code works once. Call %s again without request_id to ask anew.", a.ID, st, tool)
		}
		a.DecidedAt, a.DecidedBy = now.UTC().Truncate(time.Millisecond), "the MCP client's user (form)"
		switch {
		case !ans.Accepted:
			a.Reason = "the person declined in the client's form"
		case CheckConsent(ConsentPhrase(a), "000000", ans.Phrase, "000000") != nil:
			a.Reason = "the phrase typed in the client's form was wrong"
		case !hmac.Equal([]byte(s.consentMAC(a.ID, ans.Code)), []byte(mac)) || digits(ans.Code) == "":
			a.Reason = "the code typed in the client's form was wrong"
		}
		if a.Reason != "" {
			a.State = ApprovalDenied
			denied = Errorf(EForbidden, "the person did not approve request %s: %s. It is denied; do not retry unless the person asks you to.", a.ID, a.Reason)
		} else {
			a.State = ApprovalApproved
			a.ExpiresAt = a.DecidedAt.Add(s.cfg.Yolo.TokenTTL)
		}
		if err := tx.SaveApproval(a); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s: %s", a.State, a.ID, firstNonEmpty(a.Reason, "phrase and code typed in the client's form")), nil
	})
	if err != nil {
		return a, err
	}
	return a, denied
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// CommandHash is the hex SHA-256 of a command's exact text.
func CommandHash(command string) string {
	h := sha256.Sum256([]byte(command))
	return hex.EncodeToString(h[:])
}

func (s *Service) checkCommand(cmd string) error {
	switch n := utf8.RuneCountInString(cmd); {
	case strings.TrimSpace(cmd) == "":
		return Errorf(EInvalid, "command is empty: give the command line to run, e.g. \"git status\".")
	case !utf8.ValidString(cmd):
		return Errorf(EInvalid, "command is not valid UTF-8 text.")
	case n > s.cfg.Yolo.MaxCommandChars:
		return Errorf(ETooLarge, "command is %d characters; the limit is %d.", n, s.cfg.Yolo.MaxCommandChars)
	}
	for _, r := range cmd {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return Errorf(EInvalid, "command contains the control character %U; remove it.", r)
		}
	}
	return nil
}

// redeem spends an approval token: the enablement becomes active.
func (s *Service) redeem(tx Tx, c Caller, conv Conversation, tok string, now time.Time) (Approval, error) {
	id, ok := s.approvalTokenID(tok)
	if !ok {
		return Approval{}, Errorf(EUnauthorized, "approval_token is not valid: pass the approval_token that enable_yolo_mode returned, unchanged.")
	}
	a, err := tx.Approval(id)
	if IsNotFound(err) {
		return Approval{}, Errorf(EUnauthorized, "approval_token names no stored request; call enable_yolo_mode to ask a person again.")
	}
	if err != nil {
		return Approval{}, err
	}
	if a.ConversationID != c.ConversationID || a.Session != c.Session || a.Kind != KindEnable {
		return Approval{}, Errorf(EUnauthorized, "approval_token belongs to another session; an approval works only for the session that asked for it.")
	}
	switch st := a.StateAt(now); st {
	case ApprovalApproved:
	case ApprovalActive, ApprovalUsed:
		return Approval{}, Errorf(EForbidden, "approval_token of %s was already used at %s; an approval token works once. Your enablement is active until %s: call execute_command again without approval_token.", a.ID, FormatTime(a.UsedAt), FormatTime(a.ExpiresAt))
	case ApprovalExpired:
		if a.State == ApprovalActive {
			return Approval{}, Errorf(EExpired, "approval_token of %s was already used, and that enablement ended at %s. Call enable_yolo_mode to ask the person again.", a.ID, FormatTime(a.ExpiresAt))
		}
		return Approval{}, Errorf(EExpired, "approval_token of %s expired at %s: it must be used within %s of the person's approval. Call enable_yolo_mode to ask again.", a.ID, FormatTime(a.ExpiresAt), Human(s.cfg.Yolo.TokenTTL))
	default:
		return Approval{}, Errorf(EForbidden, "request %s is %s; its approval_token cannot be used.", a.ID, st)
	}
	// One enablement per session: the newest replaces the others.
	olds, err := tx.Approvals(ApprovalFilter{ConversationID: c.ConversationID, Session: c.Session, Kind: KindEnable, States: []string{ApprovalActive}})
	if err != nil {
		return Approval{}, err
	}
	at := now.UTC().Truncate(time.Millisecond)
	for _, o := range olds {
		o.State, o.Reason, o.DecidedAt = ApprovalRevoked, "replaced by "+a.ID, at
		if err := tx.SaveApproval(o); err != nil {
			return Approval{}, err
		}
	}
	a.State, a.UsedAt = ApprovalActive, at
	a.ExpiresAt = minTime(at.Add(s.cfg.Yolo.EnablementTTL), conv.ExpiresAt)
	return a, tx.SaveApproval(a)
}

// activeEnablement returns the caller's enablement in force at now.
func (s *Service) activeEnablement(tx Tx, c Caller, now time.Time) (Approval, error) {
	all, err := tx.Approvals(ApprovalFilter{ConversationID: c.ConversationID, Session: c.Session, Kind: KindEnable,
		States: []string{ApprovalActive, ApprovalApproved}})
	if err != nil {
		return Approval{}, err
	}
	var waiting string
	for i := len(all) - 1; i >= 0; i-- {
		switch all[i].StateAt(now) {
		case ApprovalActive:
			return all[i], nil
		case ApprovalApproved:
			waiting = all[i].ID
		}
	}
	if waiting != "" {
		return Approval{}, Errorf(EForbidden, "YOLO mode is approved (%s) but not started: pass the approval_token enable_yolo_mode returned as approval_token on this call.", waiting)
	}
	return Approval{}, Errorf(EForbidden, "YOLO mode is not enabled for session %s of %s: call enable_yolo_mode (a person must approve it), then pass the approval_token it returns to execute_command within %s.", c.Session, c.ConversationID, Human(s.cfg.Yolo.TokenTTL))
}

// ExecuteCommand runs a command within the caller's enablement, returns
// its redacted output and delivers it to the partner as a message.
func (s *Service) ExecuteCommand(ctx context.Context, c Caller, in ExecInput) (ExecResult, error) {
	const tool = "execute_command"
	var out ExecResult
	hash := CommandHash(in.Command)
	// spentBy is the enablement whose token the first leg of this call
	// already redeemed: a client answering a consent form repeats the
	// call with the same arguments, approval_token included.
	var spentBy string
	if in.Answer != nil {
		a, err := s.answerConsent(ctx, tool, c, in.Answer, KindCommand, hash)
		if err != nil {
			return out, err
		}
		in.Answer, in.RequestID, spentBy = nil, a.ID, a.EnablementID
	}
	// Phase 1, one transaction: authorize, start the enablement, check the
	// command against its mode, and in the yolo mode find or ask for this
	// command's approval (spent here when it is already given).
	var needConsent bool
	err := s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		if err := s.yoloGate(); err != nil {
			return "", err
		}
		if err := s.checkCaller(c); err != nil {
			return "", err
		}
		if err := s.checkCommand(in.Command); err != nil {
			return "", err
		}
		if in.Wait < 0 || in.Wait > s.cfg.MaxWait {
			return "", Errorf(EInvalid, "wait_seconds must be 0 to %d; it is %d.", int(s.cfg.MaxWait/time.Second), int(in.Wait/time.Second))
		}
		conv, err := s.authorize(tx, c, now)
		if err != nil {
			return "", err
		}
		var detail []string
		if id, ok := s.approvalTokenID(in.ApprovalToken); in.ApprovalToken != "" && !(ok && id == spentBy) {
			a, err := s.redeem(tx, c, conv, in.ApprovalToken, now)
			if err != nil {
				return "", err
			}
			detail = append(detail, "approval token of "+a.ID+" redeemed: enablement active until "+FormatTime(a.ExpiresAt))
		}
		en, err := s.activeEnablement(tx, c, now)
		if err != nil {
			return "", err
		}
		out.Enablement = en
		plan, err := yolo.Check(yolo.Mode(en.Mode), in.Command, en.Workspace, s.cfg.Yolo.Policy)
		if err != nil {
			return "", Errorf(EForbidden, "%s mode refuses this command: %s", en.Mode, s.clean(err.Error()))
		}
		out.Plan = plan
		detail = append(detail, fmt.Sprintf("%s (sha256 %s) allowed by %s mode of %s", plan.Program, hash[:12], en.Mode, en.ID))
		if en.Mode != string(yolo.YOLO) {
			return strings.Join(detail, "; ") + ": running", nil
		}
		if in.RequestID != "" {
			a, err := s.ownApproval(tx, c, in.RequestID, KindCommand, hash)
			if err != nil {
				return "", err
			}
			out.Approval = a
			switch st := a.StateAt(now); st {
			case ApprovalPending:
				needConsent = true
				return strings.Join(append(detail, "still waiting for a person on "+a.ID), "; "), nil
			case ApprovalApproved:
				a.State, a.UsedAt = ApprovalUsed, now.UTC().Truncate(time.Millisecond)
				out.Approval = a
				return strings.Join(append(detail, "approval "+a.ID+" spent: running"), "; "), tx.SaveApproval(a)
			default:
				return "", s.commandApprovalGone(a, st)
			}
		}
		at := now.UTC().Truncate(time.Millisecond)
		a := Approval{
			ID: newApprovalID(), Kind: KindCommand, ConversationID: c.ConversationID, Session: c.Session,
			Mode: en.Mode, Workspace: en.Workspace, Timeout: en.Timeout, Sandbox: en.Sandbox,
			Command: s.clean(in.Command), CommandHash: hash, EnablementID: en.ID, Origin: s.cfg.Yolo.Origin,
			State: ApprovalPending, CreatedAt: at, ExpiresAt: minTime(at.Add(s.cfg.Yolo.RequestTTL), en.ExpiresAt),
		}
		out.Approval, needConsent = a, true
		return strings.Join(append(detail, "consent requested: "+a.ID), "; "), tx.AddApproval(a)
	})
	if err != nil {
		return out, err
	}
	if needConsent {
		if in.Elicit {
			out.Challenge, err = s.challenge(out.Approval)
			return out, err
		}
		a, waited, err := s.awaitDecision(ctx, out.Approval, in.Wait)
		out.Approval, out.Waited = a, waited
		if err != nil || a.StateAt(s.cfg.Now()) == ApprovalPending {
			return out, err
		}
		// Decided: spend the approval in its own transaction, so two
		// calls holding the same request_id cannot both run it.
		err = s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
			a, err := tx.Approval(a.ID)
			if err != nil {
				return "", err
			}
			if st := a.StateAt(now); st != ApprovalApproved {
				return "", s.commandApprovalGone(a, st)
			}
			a.State, a.UsedAt = ApprovalUsed, now.UTC().Truncate(time.Millisecond)
			out.Approval = a
			return "approval " + a.ID + " spent: running", tx.SaveApproval(a)
		})
		if err != nil {
			return out, err
		}
	}
	return s.run(ctx, c, in.Command, hash, out)
}

func (s *Service) commandApprovalGone(a Approval, st string) error {
	switch st {
	case ApprovalUsed:
		return Errorf(EForbidden, "request %s was already used to run its command at %s: each run needs its own approval. Call execute_command without request_id to ask the person again.", a.ID, FormatTime(a.UsedAt))
	case ApprovalDenied:
		return Errorf(EForbidden, "the person denied request %s (%s). Do not retry unless they ask you to.", a.ID, a.Reason)
	case ApprovalExpired:
		return Errorf(EExpired, "request %s expired at %s (%s). Call execute_command without request_id to ask again.", a.ID, FormatTime(a.ExpiresAt), expiredWhy(a))
	}
	return Errorf(EForbidden, "request %s is %s.", a.ID, st)
}

// run executes a checked command outside any transaction (it may take
// minutes), then records its outcome and delivers the output.
func (s *Service) run(ctx context.Context, c Caller, command, hash string, out ExecResult) (ExecResult, error) {
	const tool = "execute_command"
	en := out.Enablement
	// Check again: a person may have taken minutes to approve, and paths
	// (symlinks, say) may have changed since the first check.
	plan, err := yolo.Check(yolo.Mode(en.Mode), command, en.Workspace, s.cfg.Yolo.Policy)
	if err != nil {
		return out, s.Refuse(ctx, tool, c.ConversationID, c.Session,
			Errorf(EForbidden, "%s mode refuses this command now (checked again before running): %s", en.Mode, s.clean(err.Error())))
	}
	out.Plan = plan
	res, runErr := yolo.Run(ctx, yolo.Spec{
		Plan: plan, Workspace: en.Workspace, Timeout: en.Timeout, MaxOutput: s.cfg.Yolo.MaxOutput, Sandbox: en.Sandbox, Hide: s.cfg.Yolo.Hide,
	})
	cancelled := runErr != nil && ctx.Err() != nil && errors.Is(runErr, ctx.Err())
	if runErr != nil && !cancelled {
		return out, s.Refuse(ctx, tool, c.ConversationID, c.Session, runFailure(runErr))
	}
	out.Ran, out.Run = true, res
	var findings []redact.Finding
	out.Output, findings = s.redactor.Redact(strings.ToValidUTF8(string(res.Output), "\uFFFD"))
	var cf []redact.Finding
	out.Command, cf = s.redactor.Redact(command)
	out.Redacted = redact.Counts(append(findings, cf...))
	out.Run.Output = nil // raw; only the redacted copy leaves the service

	body := s.commandMessage(c, out)
	err = s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
		detail := fmt.Sprintf("ran %s (sha256 %s) in %s mode: %s after %s, %d bytes of output",
			out.Plan.Program, hash[:12], en.Mode, exitText(res), res.Duration.Round(time.Millisecond), res.OutputBytes)
		if cancelled {
			detail += " (killed: the caller cancelled)"
		}
		if res.Truncated {
			detail += " (truncated)"
		}
		if len(out.Redacted) > 0 {
			detail += ", redacted " + countsText(out.Redacted)
		}
		conv, err := tx.Conversation(c.ConversationID)
		if err == nil && conv.Expired(now) {
			err = s.expired(conv)
		}
		if err != nil {
			// The command ran; say so even though the partner cannot be told.
			out.Delivery = MessageOf(err)
			return detail + "; not delivered: " + string(KindOf(err)), nil
		}
		// An ordinary message from the caller, not a bridge notice: the
		// output is untrusted text and must reach the partner quoted.
		m := Message{ConversationID: c.ConversationID, From: c.Session, ActionType: "info", Body: body,
			CreatedAt: now.UTC().Truncate(time.Millisecond)}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		out.MessageID = m.ID
		return fmt.Sprintf("%s; delivered as message %d", detail, m.ID), nil
	})
	return out, err
}

func runFailure(err error) error {
	if r, ok := err.(*yolo.Refusal); ok {
		return Errorf(EForbidden, "%s", r.Error())
	}
	return Errorf(EInvalid, "the command could not be started: %v. Check the program name and that it is installed.", err)
}

func exitText(r yolo.Result) string {
	switch {
	case r.TimedOut:
		return "killed at its timeout"
	case r.ExitCode < 0:
		return "killed"
	}
	return fmt.Sprintf("exit %d", r.ExitCode)
}

// commandMessage is the partner's copy of a command's outcome, within the
// message size limit.
func (s *Service) commandMessage(c Caller, out ExecResult) string {
	head := fmt.Sprintf("agent-bridge ran a command for session %s (%s mode, workspace %s):\n$ %s\n%s after %s",
		c.Session, out.Enablement.Mode, out.Enablement.Workspace, out.Command, exitText(out.Run), out.Run.Duration.Round(time.Millisecond))
	if out.Run.Truncated {
		head += fmt.Sprintf("; output truncated to %d of %d bytes", s.cfg.Yolo.MaxOutput, out.Run.OutputBytes)
	}
	body := head + "\n--- output ---\n" + out.Output
	if n := s.cfg.MaxMessageChars; utf8.RuneCountInString(body) > n {
		r := []rune(body)
		body = string(r[:n-40]) + "\n[... cut to fit the message limit]"
	}
	return body
}
