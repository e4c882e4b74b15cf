package bridge

// execute_command: redeeming an approval token, checking a command against
// its enablement, per-command consent in yolo mode, running, recording and
// delivering the outcome.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

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
	a, err := s.approval(tx, id)
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
		if err := tx.SaveApproval(s.seal(o)); err != nil {
			return Approval{}, err
		}
	}
	a.State, a.UsedAt = ApprovalActive, at
	a.ExpiresAt = minTime(at.Add(s.cfg.Yolo.EnablementTTL), conv.ExpiresAt)
	return a, tx.SaveApproval(s.seal(a))
}

// activeEnablement returns the caller's enablement in force at now.
func (s *Service) activeEnablement(tx Tx, c Caller, now time.Time) (Approval, error) {
	all, err := tx.Approvals(ApprovalFilter{ConversationID: c.ConversationID, Session: c.Session, Kind: KindEnable,
		States: []string{ApprovalActive, ApprovalApproved}})
	if err != nil {
		return Approval{}, err
	}
	all = slices.DeleteFunc(all, func(a Approval) bool { return !s.sealed(a) }) // forged rows grant nothing
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
	// Phase 1, one transaction: authorize, start the enablement, check the
	// command against its mode, and in the yolo mode find or ask for this
	// command's approval (spent here when it is already given).
	var needConsent bool
	err := s.callAs(ctx, tool, &c, false, func(tx Tx, now time.Time) (string, error) {
		if err := s.yoloGate(); err != nil {
			return "", err
		}
		if err := s.identify(tx, &c); err != nil {
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
		if in.ApprovalToken != "" {
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
				out.Approval = a // spent
				return strings.Join(append(detail, "approval "+a.ID+" spent: running"), "; "), tx.SaveApproval(s.seal(a))
			default:
				return "", s.commandApprovalGone(a, st)
			}
		}
		// The person approves exactly the text that runs. A secret in it
		// could be neither shown (it would be stored with the request)
		// nor hidden (masking what looks like a secret hid shell syntax
		// after it: --password=X;id>F showed as one redacted word).
		if _, found := s.redactor.Redact(in.Command); len(found) > 0 {
			return "", Errorf(EForbidden, "the command contains what looks like a secret (%s). In yolo mode a person approves the exact text that runs, and secrets are never shown or stored, so such a command is refused: put the secret in a file in the workspace (0600) and have the command read it from there.", countsText(redact.Counts(found)))
		}
		at := now.UTC().Truncate(time.Millisecond)
		a := Approval{
			ID: newApprovalID(), Kind: KindCommand, ConversationID: c.ConversationID, Session: c.Session,
			Mode: en.Mode, Workspace: en.Workspace, Timeout: en.Timeout, Sandbox: en.Sandbox,
			Command: in.Command, CommandHash: hash, EnablementID: en.ID, Origin: s.cfg.Yolo.Origin,
			State: ApprovalPending, CreatedAt: at, ExpiresAt: minTime(at.Add(s.cfg.Yolo.RequestTTL), en.ExpiresAt),
		}
		out.Approval, needConsent = a, true
		return strings.Join(append(detail, "consent requested: "+a.ID), "; "), tx.AddApproval(s.seal(a))
	})
	if err != nil {
		return out, err
	}
	if needConsent {
		a, waited, err := s.awaitDecision(ctx, out.Approval, in.Wait)
		out.Approval, out.Waited = a, waited
		if err != nil || a.StateAt(s.cfg.Now()) == ApprovalPending {
			return out, err
		}
		// Decided: spend the approval in its own transaction, so two
		// calls holding the same request_id cannot both run it.
		err = s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
			a, err := s.approval(tx, a.ID)
			if err != nil {
				return "", err
			}
			if st := a.StateAt(now); st != ApprovalApproved {
				return "", s.commandApprovalGone(a, st)
			}
			a.State, a.UsedAt = ApprovalUsed, now.UTC().Truncate(time.Millisecond)
			out.Approval = a
			return "approval " + a.ID + " spent: running", tx.SaveApproval(s.seal(a))
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
	if en.Mode == string(yolo.YOLO) {
		// Check again: the person may have taken minutes to approve, and
		// paths (symlinks, say) may have changed since the first check.
		// In the other modes the first check was just now.
		plan, err := yolo.Check(yolo.Mode(en.Mode), command, en.Workspace, s.cfg.Yolo.Policy)
		if err != nil {
			return out, s.Refuse(ctx, tool, c.ConversationID, c.Session,
				Errorf(EForbidden, "%s mode refuses this command now (checked again before running): %s", en.Mode, s.clean(err.Error())))
		}
		out.Plan = plan
	}
	res, runErr := yolo.Run(ctx, yolo.Spec{
		Plan: out.Plan, Workspace: en.Workspace, Timeout: en.Timeout, MaxOutput: s.cfg.Yolo.MaxOutput, Sandbox: en.Sandbox, Hide: s.cfg.Yolo.Hide,
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
	err := s.call(ctx, tool, c.ConversationID, c.Session, func(tx Tx, now time.Time) (string, error) {
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
		if err := addMessage(tx, &m); err != nil {
			return "", err
		}
		out.MessageID = m.ID
		return fmt.Sprintf("%s; delivered as message %d", detail, m.ID), nil
	})
	return out, err
}

func runFailure(err error) error {
	var r *yolo.Refusal
	if errors.As(err, &r) {
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
		const mark = "\n[... cut to fit the message limit]"
		r := []rune(body)
		if keep := n - utf8.RuneCountInString(mark); keep > 0 {
			body = string(r[:keep]) + mark
		} else {
			body = string(r[:n]) // a limit shorter than the mark itself
		}
	}
	return body
}
