package bridge

// YOLO mode: a person lets one session run commands through the bridge.
//
// Four stages guard it, each audited:
//
//  1. The server was started with YOLO_MODE=1 (YoloConfig.Enabled); without
//     it both tools refuse, whatever is in the database.
//  2. A person, not the agent, reads what is asked and types a
//     confirmation phrase,
//  3. and a one-time code shown only to them, in `agent-bridge approve` on a
//     terminal: never stored, never sent over any MCP connection. (A form in
//     the agent's own client is not a channel the agent cannot answer, so
//     there is none.)
//  4. Consent yields an approval token, valid TokenTTL and redeemed once by
//     execute_command, which starts the enablement. In the yolo mode every
//     command also needs its own approval, bound to a hash of its text.
//
// What may run, and how it is confined, is internal/yolo's business.

import (
	"context"
	"fmt"
	"time"

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
}

// ExecInput is an execute_command call.
type ExecInput struct {
	Command       string
	ApprovalToken string        // from enable_yolo_mode; needed once, to start the enablement
	RequestID     string        // yolo mode: wait again for this command's approval
	Wait          time.Duration // yolo mode: how long to wait for a person
}

// YoloResult is the outcome of an enable_yolo_mode call.
type YoloResult struct {
	Approval Approval // the request as it stands
	Token    string   // the approval token, once approved
	Waited   time.Duration
}

// ExecResult is the outcome of an execute_command call.
type ExecResult struct {
	// Ran is false while a yolo-mode command waits for a person (Approval
	// is then its pending request).
	Ran        bool
	Enablement Approval
	Approval   Approval
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
	var a Approval
	err := s.callAs(ctx, tool, &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.yoloGate(); err != nil {
			return "", err
		}
		if err := s.identify(tx, &c); err != nil {
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
		if err := tx.AddApproval(s.seal(a)); err != nil {
			return "", err
		}
		return fmt.Sprintf("consent requested: %s, %s mode, workspace %s, timeout %s, sandbox %t", a.ID, a.Mode, a.Workspace, Human(a.Timeout), a.Sandbox), nil
	})
	if err != nil {
		return YoloResult{}, err
	}
	var waited time.Duration
	if a.StateAt(s.cfg.Now()) == ApprovalPending {
		if a, waited, err = s.awaitDecision(ctx, a, in.Wait); err != nil {
			return YoloResult{Approval: a, Waited: waited}, err
		}
	}
	res, err := s.enableOutcome(a)
	res.Waited = waited
	return res, err
}

func (s *Service) checkEnable(in *EnableInput) (string, error) {
	if err := yolo.Supported(); err != nil {
		// Refuse before a person is asked to approve what cannot run.
		return "", Errorf(EForbidden, "%v", err)
	}
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
	// Refuse now rather than after a person approved a mode whose every
	// command would fail: the strict sandbox needs bubblewrap, and so do
	// restricted and yolo mode, whose commands run only inside it.
	if in.Sandbox || in.Mode != string(yolo.Safe) {
		if err := yolo.SandboxAvailable(ws); err != nil {
			return "", Errorf(EInvalid, "sandbox: %v (%s mode commands and sandboxed ones run only inside bubblewrap)", err, in.Mode)
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
// process. It returns a as it then stands. A caller that stops waiting
// (cancels) ends the wait like a timeout: the request stays pending.
func (s *Service) awaitDecision(ctx context.Context, a Approval, wait time.Duration) (Approval, time.Duration, error) {
	start := s.cfg.Now()
	deadline := time.Now().Add(wait)
	stop := func() {}
	defer func() { stop() }()
	for {
		changed, stopNext := s.store.Watch(ApprovalsTopic)
		stop()
		stop = stopNext
		err := s.store.View(context.WithoutCancel(ctx), func(tx Tx) (err error) {
			a, err = s.approval(tx, a.ID)
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
		if sleep(ctx, changed, left) != nil {
			return a, s.cfg.Now().Sub(start), nil
		}
	}
}

// ownApproval loads the caller's approval id of the given kind; for a
// command, hash must match.
func (s *Service) ownApproval(tx Tx, c Caller, id, kind, hash string) (Approval, error) {
	if !ValidApprovalID(id) {
		return Approval{}, Errorf(EInvalid, "request_id must be appr_ followed by 16 hex digits, as a previous call returned.")
	}
	a, err := s.approval(tx, id)
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
