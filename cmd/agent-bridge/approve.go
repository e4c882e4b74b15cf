package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func approveCommand() command {
	return command{
		name: "approve", summary: "decide on an agent's YOLO mode request (a person, in a terminal)", usage: "[ID] [--list | --deny | --revoke] [flags]",
		help: `Shows what an agent asked for through enable_yolo_mode or, in yolo mode, execute_command
(conversation, session, mode, workspace, timeout, sandbox, the command) and lets you
approve it by typing the confirmation phrase and a one-time code shown on your terminal.
A wrong phrase or code denies the request; pressing Enter at the phrase leaves it pending.

It reads your answers from the terminal itself (/dev/tty), never from standard input, so
a script or an agent's shell cannot approve for you. Without ID it takes the pending
request (asking which when there are several); --wait waits for one to arrive.

  agent-bridge approve                 decide on the pending request
  agent-bridge approve --list          pending requests and enablements in force
  agent-bridge approve --deny ID       deny without typing anything
  agent-bridge approve --revoke ID     end an enablement now

Approving and denying are audited (tool cli:approve), as is revoking (cli:revoke).`,
		run: adminRun("approve", 0, 1, approve),
	}
}

// openTTY opens the controlling terminal: answers must come from a person
// at a terminal, not from a pipe.
var openTTY = func() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

func approve(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
	id := ""
	if len(pos) == 1 {
		id = pos[0]
	}
	switch {
	case btoi(o.list)+btoi(o.deny)+btoi(o.revoke) > 1:
		return usagef("approve: choose one of --list, --deny and --revoke")
	case o.list:
		return approveList(ctx, e, o, svc)
	case (o.deny || o.revoke) && id == "":
		return usagef("approve: --deny and --revoke need the request ID (agent-bridge approve --list shows them)")
	case o.deny:
		a, err := svc.Decide(ctx, id, false, who(), "denied with approve --deny")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Denied %s.\n", a.ID)
		return nil
	case o.revoke:
		a, err := svc.Revoke(ctx, id, who())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is %s: it cannot be used any more.\n", a.ID, a.State)
		return nil
	}

	tty, err := openTTY()
	if err != nil {
		return fmt.Errorf("approve must be run by a person in a terminal, and there is none here (%v). Run it in an interactive shell; to refuse without a terminal use --deny ID", err)
	}
	defer tty.Close()
	in := bufio.NewReader(tty)

	v, err := pickRequest(ctx, svc, o, id, tty, in)
	if err != nil {
		return err
	}
	if v.Kind == bridge.KindCommand && bridge.CommandHash(v.Command) != v.CommandHash {
		// What would be shown is not what would run: the database was
		// changed behind the bridge. Never ask a person about it.
		if _, err := svc.Decide(ctx, v.ID, false, who(), "the stored command text does not match its hash"); err != nil {
			return err
		}
		return fmt.Errorf("%s denied: its stored command text does not match the hash of the command that would run; the database was changed outside agent-bridge", v.ID)
	}
	fmt.Fprintf(tty, "\n%s\n\n", v.Prompt())
	code, err := terminalCode()
	if err != nil {
		return err
	}
	phrase := bridge.ConsentPhrase(v.Approval)
	fmt.Fprintf(tty, "To approve, type the phrase %q, then the code %s.\nPress Enter alone to leave the request pending; anything else wrong denies it.\n\nPhrase: ", phrase, code)
	typedPhrase, err := readLine(in)
	if err != nil {
		return err
	}
	if strings.TrimSpace(typedPhrase) == "" {
		fmt.Fprintf(tty, "Nothing decided; %s is still pending.\n", v.ID)
		return errors.New("nothing decided")
	}
	fmt.Fprint(tty, "Code: ")
	typedCode, err := readLine(in)
	if err != nil {
		return err
	}
	if cerr := bridge.CheckConsent(phrase, code, typedPhrase, typedCode); cerr != nil {
		if _, err := svc.Decide(ctx, v.ID, false, who(), cerr.Error()+" at the terminal"); err != nil {
			return err
		}
		fmt.Fprintf(tty, "Denied: %v. The agent is told its request was refused.\n", cerr)
		return fmt.Errorf("%s denied: %v", v.ID, cerr)
	}
	a, err := svc.Decide(ctx, v.ID, true, who(), "")
	if err != nil {
		return err
	}
	if a.Kind == bridge.KindCommand {
		fmt.Fprintf(tty, "Approved %s: the command runs once, if the agent's call comes within %s.\n", a.ID, bridge.Human(a.ExpiresAt.Sub(a.DecidedAt)))
	} else {
		fmt.Fprintf(tty, "Approved %s: the agent gets an approval token that starts %s mode if used within %s. End it any time with: agent-bridge approve --revoke %s\n",
			a.ID, a.Mode, bridge.Human(a.ExpiresAt.Sub(a.DecidedAt)), a.ID)
	}
	return nil
}

// pickRequest finds the request to decide: id, the only pending one, or
// the one the person picks; with --wait it waits for one to arrive.
func pickRequest(ctx context.Context, svc *bridge.Service, o *options, id string, tty io.Writer, in *bufio.Reader) (bridge.ApprovalView, error) {
	if id != "" {
		v, err := svc.Approval(ctx, id)
		if err != nil {
			return v, err
		}
		if v.StateNow != bridge.ApprovalPending {
			return v, fmt.Errorf("%s is %s, not waiting for a decision", id, v.StateNow)
		}
		return v, nil
	}
	deadline := time.Now().Add(o.wait)
	var pending []bridge.ApprovalView
	stop := func() {}
	defer func() { stop() }()
	for said := false; ; said = true {
		changed, stopNext := svc.WatchTopics(bridge.ApprovalsTopic) // before reading, so no request is missed
		stop()
		stop = stopNext
		var err error
		if pending, err = svc.Approvals(ctx, bridge.ApprovalPending); err != nil {
			return bridge.ApprovalView{}, err
		}
		left := time.Until(deadline)
		if len(pending) > 0 || left <= 0 {
			break
		}
		if !said {
			fmt.Fprintf(tty, "No request is waiting yet; waiting up to %s for an agent to ask (Ctrl-C to stop)...\n", bridge.Human(left.Round(time.Second)))
		}
		timer := time.NewTimer(left)
		select {
		case <-ctx.Done():
			timer.Stop()
			return bridge.ApprovalView{}, ctx.Err()
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
	switch len(pending) {
	case 0:
		return bridge.ApprovalView{}, errors.New("no request is waiting for approval (an agent asks with enable_yolo_mode; --wait 2m waits for one)")
	case 1:
		return pending[0], nil
	}
	fmt.Fprintln(tty, "Requests waiting for a decision:")
	for i, v := range pending {
		what := v.Mode + " mode in " + v.Workspace
		if v.Kind == bridge.KindCommand {
			what = "run: " + v.Command
		}
		fmt.Fprintf(tty, "  %d. %s  %s session %s: %s\n", i+1, v.ID, termtext.Safe(v.ConversationID), termtext.Safe(string(v.Session)), termtext.Safe(what))
	}
	fmt.Fprint(tty, "Which one (number)? ")
	line, err := readLine(in)
	if err != nil {
		return bridge.ApprovalView{}, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 1 || n > len(pending) {
		return bridge.ApprovalView{}, fmt.Errorf("no request numbered %q; nothing decided", strings.TrimSpace(line))
	}
	return pending[n-1], nil
}

func approveList(ctx context.Context, e env, o *options, svc *bridge.Service) error {
	views, err := svc.Approvals(ctx, bridge.ApprovalPending, bridge.ApprovalApproved, bridge.ApprovalActive)
	if err != nil {
		return err
	}
	if o.json {
		out := []map[string]any{}
		for _, v := range views {
			out = append(out, map[string]any{
				"id": v.ID, "kind": v.Kind, "state": v.StateNow, "conversation_id": v.ConversationID, "session": string(v.Session),
				"role": v.Conversation.Role(v.Session), "mode": v.Mode, "workspace": v.Workspace,
				"timeout_seconds": int(v.Timeout / time.Second), "sandbox": v.Sandbox, "command": v.Command,
				"origin": v.Origin, "created_at": bridge.FormatTime(v.CreatedAt), "expires_at": bridge.FormatTime(v.ExpiresAt),
			})
		}
		return printJSON(e.stdout, out)
	}
	if len(views) == 0 {
		fmt.Fprintln(e.stdout, "No requests pending and no YOLO mode enablement in force.")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATE\tCONVERSATION\tSESSION\tMODE\tWORKSPACE\tUNTIL\tCOMMAND")
	for _, v := range views {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.StateNow, termtext.Safe(v.ConversationID), termtext.Safe(string(v.Session)),
			termtext.Safe(v.Mode), termtext.Safe(v.Workspace), bridge.FormatTime(v.ExpiresAt), termtext.Safe(v.Command))
	}
	return w.Flush()
}

// terminalCode is the one-time code this terminal shows and expects back.
// It is made here and never leaves the terminal: not stored, not sent.
func terminalCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("one-time code: %w", err)
	}
	v := fmt.Sprintf("%06d", n.Int64())
	return v[:3] + "-" + v[3:], nil
}

func readLine(in *bufio.Reader) (string, error) {
	line, err := in.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("reading the terminal: %w; nothing decided", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// who names the person deciding, for the audit trail.
func who() string {
	name := "unknown user"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "terminal user " + name
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
