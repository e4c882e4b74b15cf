package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/termtext"
)

func guardCommand() command {
	return command{
		name: "guard", summary: "git pre-commit hook: refuse commits touching files another member leased", usage: "[--conversation ID] [--member ID] [--repo DIR]",
		help: `A git pre-commit hook. It reads the staged paths (git diff --cached, relative to the
repository root) and refuses the commit when one lies under another member's live
exclusive lease, naming the file, the holder, the lease and when it ends. Install it
in a repository with:

  printf '#!/bin/sh\nexec agent-bridge guard\n' > .git/hooks/pre-commit
  chmod +x .git/hooks/pre-commit

Whose commit it is: --member (or $AGENT_BRIDGE_MEMBER) with --conversation (or
$AGENT_BRIDGE_CONVERSATION); without --member, the members whose agent-bridge server
ran in the repository root (as recorded by agent-bridge serve), so an agent's own
leases never block it. Without --conversation it checks the leases of every live
conversation. With no live lease it passes after one read; when the bridge was never
used, or its database cannot be opened, it passes and says why on stderr. Git's own
'git commit --no-verify' skips the hook when a person decides to override it.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.StringVar(&o.conversation, "conversation", "", "only this conversation's leases, and the committer's seat in it [$AGENT_BRIDGE_CONVERSATION]")
			fs.StringVar(&o.member, "member", "", "the committer's member `id` (default: the members whose server ran in the repository root)")
			fs.StringVar(&o.repo, "repo", "", "the repository `dir` (default: the current directory)")
		},
		run: runGuard,
	}
}

// errGuardRefused fails a commit the guard refused; the details are on
// stderr already.
var errGuardRefused = errors.New("commit refused by agent-bridge guard (see above); override with git commit --no-verify")

func runGuard(ctx context.Context, e env, args []string) error {
	o, pos, err := parse(e, "guard", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("guard takes no arguments; git runs it as the pre-commit hook")
	}
	if o.conversation == "" {
		o.conversation = e.getenv("AGENT_BRIDGE_CONVERSATION")
	}
	if o.conversation != "" && !bridge.ValidConversationID(o.conversation) {
		return usagef("guard: --conversation %q is not a conversation id (conv_ followed by 16 hex digits)", o.conversation)
	}
	if o.member != "" && !bridge.Member(o.member).Valid() {
		return usagef("guard: --member %q is not a member id", o.member)
	}
	root, files, err := stagedFiles(ctx, o.repo)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return nil
	}
	path, err := o.dbPath(e.getenv)
	if err != nil {
		return err
	}
	if neverUsed(path) {
		return nil // no bridge, no leases
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	deps, err := openExisting(ctx, o, e.getenv, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent-bridge guard: cannot read the leases (%v); the commit is not checked\n", err)
		return nil
	}
	defer deps.Close()
	q := bridge.GuardQuery{ConversationID: o.conversation, Member: bridge.Member(o.member)}
	if q.Member == "" {
		q.Workdir = root
	}
	conflicts, err := deps.svc.Guard(ctx, q, files)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent-bridge guard: cannot read the leases (%v); the commit is not checked\n", err)
		return nil
	}
	if len(conflicts) == 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "agent-bridge guard: %d staged file(s) are leased exclusively by another member:\n", len(conflicts))
	for _, c := range conflicts {
		l := c.Lease
		fmt.Fprintf(e.stderr, "  %s: leased by %s in %s (lease %d on %s, until %s)\n",
			termtext.Safe(c.File), l.Member, l.ConversationID, l.ID, termtext.Safe(l.Pattern), bridge.FormatTime(l.ExpiresAt))
	}
	fmt.Fprintln(e.stderr, "Ask the holder to release the lease (tasks tool, action release) or wait until it ends, then commit again;")
	fmt.Fprintln(e.stderr, "unstage those files (git restore --staged FILE) to commit the rest; or, if you are sure, override with git commit --no-verify.")
	return errGuardRefused
}

// stagedFiles returns the repository root and the staged paths, relative
// to it, from git diff --cached -z (so any file name survives).
func stagedFiles(ctx context.Context, dir string) (string, []string, error) {
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("guard: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return "", nil, err
	}
	root := filepath.Clean(strings.TrimSpace(string(top)))
	out, err := git("-C", root, "diff", "--cached", "--name-only", "-z", "--no-renames")
	if err != nil {
		return "", nil, err
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return root, files, nil
}
