package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

func auditCommand() command {
	return command{
		name: "audit", summary: "show, verify or prune the audit trail", usage: "[ID] [-n N] [--verify [--expect-head SEQ:DIGEST]] [--prune-older-than AGE] [--json]",
		help: `Shows the last N audit rows (of one conversation when ID is given): every tool call,
accepted or refused, with its time, tool, session, outcome and error kind. Rows never
hold message text, tokens or secrets.

With --verify it checks the whole trail instead: one hash chain per conversation and a
global chain (each row's keyed digest covers its content and the previous row's digest),
the MAC of every message, member, invite and approval, that every message is named by
an audit row of its conversation's chain, and that no conversation or chain vanished.
It reports every edited, deleted, inserted or reordered row and exits with status 1 when
anything is wrong. It then appends a row to the global chain that seals every chain's
last row, and prints that row as the head, SEQ:DIGEST: keep it elsewhere and pass it to
a later run as --expect-head, which then also reports rows cut from the end of any chain
(a chain alone cannot show that). A head printed before chains existed still works.

With --prune-older-than AGE it removes older rows of every chain (audit retention) and
appends a checkpoint row to the global chain, written with the key like every row, from
which --verify still checks the rest. A chain's newest row is never removed.`,
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlags(fs, o)
			fs.BoolVar(&o.json, "json", false, "print JSON for scripts")
			fs.IntVar(&o.n, "n", 50, "show the last `N` rows (0 = all)")
			fs.BoolVar(&o.verify, "verify", false, "check every hash chain and sealed row, report every edited, deleted, inserted or reordered row, and print a head")
			fs.StringVar(&o.expectHead, "expect-head", "", "with --verify: a head `SEQ:DIGEST` printed by an earlier --verify; report any chain that no longer reaches the row that head sealed (rows cut from the end)")
			fs.DurationVar(&o.prune, "prune-older-than", 0, "remove rows older than this `age` (e.g. 720h), leaving a checkpoint row that keeps the rest verifiable")
		},
		run: adminRun("audit", 0, 1, conversationArg(func(ctx context.Context, e env, o *options, svc *bridge.Service, pos []string) error {
			if o.prune != 0 {
				if o.prune < 0 || o.verify || len(pos) > 0 {
					return usagef("audit --prune-older-than takes a positive age (e.g. 720h) and no conversation id or --verify")
				}
				n, err := svc.PruneAudit(ctx, time.Now().Add(-o.prune))
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed %d audit rows older than %s; a checkpoint row keeps the rest verifiable\n", n, o.prune)
				return nil
			}
			if o.expectHead != "" && !o.verify {
				return usagef("--expect-head goes with --verify")
			}
			if o.verify {
				if len(pos) > 0 {
					return usagef("audit --verify checks the whole trail; it takes no conversation id")
				}
				r, err := svc.VerifyAudit(ctx, o.expectHead)
				if err != nil {
					return err
				}
				// The head is a row that seals what was seen; a database
				// that cannot be written still gets its report.
				if err := svc.SealHead(ctx, &r); err != nil {
					fmt.Fprintf(e.stderr, "agent-bridge audit: the heads were not sealed (%v); no head to keep\n", err)
				}
				if o.json {
					problems := make([]map[string]any, len(r.Problems))
					for i, p := range r.Problems {
						problems[i] = map[string]any{"chain": p.Chain, "seq": p.Seq, "reason": p.Reason}
					}
					if err := printJSON(e.stdout, map[string]any{"ok": r.OK(), "checked": r.Checked, "chains": r.Chains, "sealed_rows": r.Rows, "removed_by_cleanup": r.Removed,
						"head_seq": r.HeadSeq, "head_digest": r.Head, "head": r.HeadString(), "pruned_through": r.PrunedThrough, "problems": problems}); err != nil {
						return err
					}
				} else {
					for _, p := range r.Problems {
						fmt.Fprintln(e.stdout, p)
					}
					state := "intact"
					if !r.OK() {
						state = fmt.Sprintf("BROKEN (%d problems)", len(r.Problems))
					}
					pruned := ""
					if r.PrunedThrough > 0 {
						pruned = fmt.Sprintf(" (rows through %d pruned behind a checkpoint)", r.PrunedThrough)
					}
					if r.Removed > 0 {
						pruned += fmt.Sprintf(" (%d rows name messages that cleanup removed with their conversation, as recorded)", r.Removed)
					}
					head := "no head sealed"
					if r.HeadSeq != 0 {
						head = "head " + r.HeadString()
					}
					fmt.Fprintf(e.stdout, "audit chain %s: %d rows checked in %d chains, %d sealed rows%s, %s\n", state, r.Checked, r.Chains, r.Rows, pruned, head)
				}
				if !r.OK() {
					return fmt.Errorf("audit chain broken: %d problems", len(r.Problems))
				}
				return nil
			}
			if o.n < 0 {
				return usagef("-n must be 0 (all) or more; got %d", o.n)
			}
			f := bridge.AuditFilter{Limit: o.n}
			if len(pos) == 1 {
				f.ConversationID = pos[0] // checked by conversationArg
			}
			rows, err := svc.Audit(ctx, f)
			if err != nil {
				return err
			}
			if o.json {
				out := make([]map[string]any, len(rows))
				for i, r := range rows {
					out[i] = map[string]any{
						"chain": r.Chain, "seq": r.Seq, "at": bridge.FormatTime(r.At), "tool": r.Tool, "conversation_id": r.ConversationID,
						"session": r.Session, "outcome": r.Outcome, "error_kind": string(r.ErrorKind), "detail": r.Detail,
						"prev_digest": r.PrevDigest, "digest": r.Digest,
					}
				}
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tTOOL\tCONVERSATION\tSESSION\tOUTCOME\tDETAIL")
			for _, r := range rows {
				outcome := r.Outcome
				if r.ErrorKind != "" {
					outcome += " (" + string(r.ErrorKind) + ")"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.At.Format(time.DateTime), r.Tool, dash(r.ConversationID), dash(r.Session), outcome, truncate(r.Detail, 100))
			}
			return tw.Flush()
		})),
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
