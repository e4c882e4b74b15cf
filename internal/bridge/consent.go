package bridge

// Consent: what a person is shown and types, the one-time code and its
// MAC, the approval token, and answers from a client's form.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

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
