package bridge

// Consent: what a person is shown and types, and the approval token.
//
// Consent comes only through a channel the requesting agent's client can
// neither read nor answer: `agent-bridge approve` on a terminal, which
// makes the one-time code itself, shows it only there and reads the answer
// from /dev/tty. There is deliberately no consent form in the MCP client
// (elicitation): the form and its answer travel over the requester's own
// connection, so a client that answers forms programmatically approved
// its own request.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/termtext"
	"github.com/agent-bridge/agent-bridge/internal/yolo"
)

// ConsentPhrase is the phrase a person types to approve a.
func ConsentPhrase(a Approval) string {
	if a.Kind == KindCommand {
		return "run this command"
	}
	return "enable " + a.Mode + " mode"
}

// ConsentPrompt is what a person reads before deciding on a. Every field
// an agent could influence (role, workspace, origin, the command) is
// printed through termtext, so escape sequences and invisible characters
// show as escapes instead of redrawing the prompt. A command is shown
// exactly as it will run, one line of the prompt per line of the command.
func ConsentPrompt(a Approval, roles Conversation) string {
	var b strings.Builder
	who := fmt.Sprintf("Session %s", termtext.Safe(string(a.Session)))
	if r := roles.Role(a.Session); r != "" {
		who += fmt.Sprintf(" (%s)", termtext.Safe(strconv.Quote(r)))
	}
	conv := termtext.Safe(a.ConversationID)
	if a.Kind == KindCommand {
		fmt.Fprintf(&b, "%s of conversation %s asks to run this command through a shell (yolo mode),\nexactly the text between the lines (a tab shows as \\t, other control characters as \\xNN):\n\n", who, conv)
		fmt.Fprintf(&b, "    ----\n")
		for _, line := range strings.Split(termtext.Block(a.Command), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
		fmt.Fprintf(&b, "    ----\n  sha256:    %s\n", a.CommandHash)
	} else {
		fmt.Fprintf(&b, "%s of conversation %s asks to enable YOLO mode: commands run as your user.\n\n", who, conv)
		fmt.Fprintf(&b, "  mode:      %s: %s\n", termtext.Safe(a.Mode), ModeSummary(a.Mode))
	}
	fmt.Fprintf(&b, "  workspace: %s\n", termtext.Safe(a.Workspace))
	fmt.Fprintf(&b, "  timeout:   %s per command\n", Human(a.Timeout))
	if a.Sandbox {
		fmt.Fprintf(&b, "  sandbox:   on (bubblewrap: only the workspace is writable, no network)\n")
	} else {
		fmt.Fprintf(&b, "  sandbox:   off (commands may write as your user and use the network; bubblewrap still hides agent-bridge's files and your credential stores, and without it only safe mode's readers run)\n")
	}
	if a.Origin != "" {
		fmt.Fprintf(&b, "  asked by:  the agent-bridge server at %s\n", termtext.Safe(a.Origin))
	}
	fmt.Fprintf(&b, "  request:   %s, expires %s\n", termtext.Safe(a.ID), FormatTime(a.ExpiresAt))
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

// The channels through which a person consents, as audit rows name them:
// both are out of reach of the requesting agent's MCP client.
const (
	ConsentChannel        = "the terminal (agent-bridge approve, code shown and typed on /dev/tty)"
	ConsoleConsentChannel = "the web console (agent-bridge console, code shown and typed on its page)"
)

func newApprovalID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return "appr_" + hex.EncodeToString(b[:])
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
