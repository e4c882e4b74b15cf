package bridge

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agent-bridge/agent-bridge/internal/audit"
)

// AuditReport is the result of VerifyAudit.
type AuditReport struct {
	Checked  int64 // audit rows checked, in every chain
	Chains   int   // chains checked, the global one included
	Rows     int64 // sealed rows of other tables checked (messages, members, invites, approvals)
	Problems []audit.Problem
	// HeadSeq and Head name the global chain's row that seals every
	// chain's last row as this verification saw it (see SealHead): the
	// anchor to keep elsewhere and pass to a later run as --expect-head.
	// 0 and "" until SealHead wrote it.
	HeadSeq int64
	Head    string
	heads   []string // head:CHAIN:SEQ:DIGEST of every chain, for SealHead
	// PrunedThrough is the last row of the global chain removed by audit
	// retention (0 when none): verification starts after it, from its
	// checkpoint.
	PrunedThrough int64
	// Removed counts audit rows naming messages that cleanup removed with
	// their expired conversation, as the global chain records: expected,
	// not a problem.
	Removed int
}

// OK reports whether the whole trail verified.
func (r AuditReport) OK() bool { return len(r.Problems) == 0 }

// HeadString is the head as --expect-head takes it: SEQ:DIGEST.
func (r AuditReport) HeadString() string { return fmt.Sprintf("%d:%s", r.HeadSeq, r.Head) }

// ParseHead reads a head printed by an earlier verification (SEQ:DIGEST).
func ParseHead(s string) (seq int64, digest string, err error) {
	n, d, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, perr := strconv.ParseInt(n, 10, 64)
	if !ok || perr != nil || seq < 1 || len(d) != 64 || !isLowerHex(d) {
		return 0, "", Errorf(EInvalid, "a head is SEQ:DIGEST as audit --verify prints it (a row number, a colon, 64 lower-case hex digits); got %q", s)
	}
	return seq, d, nil
}

// verifyRun is one verification in progress, shared by the checks of the
// sealed tables (sealedKinds).
type verifyRun struct {
	rep *AuditReport
	// named[chain][ref] is the row of chain that names ref ("m:17").
	named map[string]map[string]int64
	// present[chain][ref] is set for each named kind of row that exists.
	present map[string]map[string]bool
	// covered[chain] is the highest message id that pruned rows of chain
	// named: such messages need no row naming them.
	covered map[string]int64
}

func (v *verifyRun) problem(chain string, seq int64, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, audit.Problem{Chain: chain, Seq: seq, Reason: fmt.Sprintf(format, args...)})
}

// sealedKind checks every row of one sealed table. Each row must carry a
// MAC that verifies; a kind whose rows are created by calls also marks
// each row it finds present under its ref (as the audit rows that created
// it name it), and reports those no audit row names. A table added later
// (tasks, leases) adds its entry here.
type sealedKind struct {
	name  string
	ref   string // the prefix of the refs naming its rows ("m:"), "" if none
	check func(s *Service, tx Tx, v *verifyRun) error
}

var sealedKinds = []sealedKind{
	{name: "message", ref: "m:", check: (*Service).verifyMessages},
	{name: "member", check: (*Service).verifyMembers},
	{name: "invite", check: (*Service).verifyInvites},
	{name: "approval", check: (*Service).verifyApprovals},
	{name: "task and lease", check: (*Service).verifyTasksAndLeases},
}

// verifyTasksAndLeases reports task and lease rows whose MAC does not
// verify (tasks_admin.go): a forged task is never acted on, a forged lease
// blocks nobody.
func (s *Service) verifyTasksAndLeases(tx Tx, v *verifyRun) error {
	problems, err := s.verifyTaskRows(tx, s.cfg.Now())
	for _, p := range problems {
		v.problem("", 0, "%s", p)
	}
	return err
}

func (s *Service) verifyMessages(tx Tx, v *verifyRun) error {
	return eachConversation(tx, func(c Conversation) error {
		msgs, err := tx.Messages(c.ID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			v.rep.Rows++
			ref := messageRef(m.ID)
			if v.present[c.ID] == nil {
				v.present[c.ID] = map[string]bool{}
			}
			v.present[c.ID][ref] = true
			ok, legacy := s.messageSealed(m)
			switch {
			case !ok && m.MAC == "":
				v.problem(c.ID, 0, "message %d has no MAC: it was inserted outside agent-bridge", m.ID)
			case !ok:
				v.problem(c.ID, 0, "message %d was edited outside agent-bridge: its MAC does not verify (it is delivered as a notice, its text withheld)", m.ID)
			case !legacy && v.named[c.ID][ref] == 0 && m.ID > v.covered[c.ID]:
				v.problem(c.ID, 0, "message %d is named by no audit row of its chain: it was inserted (or copied) outside agent-bridge", m.ID)
			}
		}
		return nil
	})
}

func (s *Service) verifyMembers(tx Tx, v *verifyRun) error {
	return eachConversation(tx, func(c Conversation) error {
		ms, err := tx.Members(c.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			v.rep.Rows++
			if !s.memberSealed(m) {
				v.problem(c.ID, 0, "member %s was written or changed outside agent-bridge: its MAC does not verify, so it cannot authenticate", m.Member)
			}
		}
		return nil
	})
}

func (s *Service) verifyInvites(tx Tx, v *verifyRun) error {
	return eachConversation(tx, func(c Conversation) error {
		invs, err := tx.Invites(c.ID)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			v.rep.Rows++
			if !s.inviteSealed(inv) {
				v.problem(c.ID, 0, "an invite (created %s, for %q) was written or changed outside agent-bridge: its MAC does not verify, so it is not honoured", FormatTime(inv.CreatedAt), inv.Member)
			}
		}
		return nil
	})
}

// Approvals grant command execution: each must carry a MAC that verifies,
// or it was written or changed without the key.
func (s *Service) verifyApprovals(tx Tx, v *verifyRun) error {
	all, err := tx.Approvals(ApprovalFilter{})
	if err != nil {
		return err
	}
	for _, a := range all {
		v.rep.Rows++
		if !s.sealed(a) {
			v.problem("", 0, "approval %s (%s, state %s) was written or changed outside agent-bridge: its MAC does not verify, so it is not honoured", a.ID, a.Kind, a.State)
		}
	}
	return nil
}

func eachConversation(tx Tx, fn func(Conversation) error) error {
	convs, err := tx.Conversations()
	if err != nil {
		return err
	}
	for _, c := range convs {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// chainState is what a verification learns about one chain.
type chainState struct {
	v       *audit.Verifier
	first   int64
	headSeq int64
	head    string
	// want[seq] is a digest row seq must have (a head sealed by the
	// expected anchor, or the last row of a removed conversation).
	want map[int64]expectation
}

type expectation struct {
	digest string
	why    string // who expects it, for the report
}

// VerifyAudit checks every audit chain, every sealed row, and that the
// chains and the tables agree, and reports every break. With expectHead
// (SEQ:DIGEST of a row SealHead wrote, "" for none) it also reports any
// chain that no longer reaches the row that head sealed (rows cut from the
// end). Rows from before an upgrade that still wait to be sealed are
// sealed first (SealLegacy); otherwise it only reads.
func (s *Service) VerifyAudit(ctx context.Context, expectHead string) (AuditReport, error) {
	var anchorSeq int64
	var anchorDigest string
	if expectHead != "" {
		var err error
		if anchorSeq, anchorDigest, err = ParseHead(expectHead); err != nil {
			return AuditReport{}, err
		}
	}
	if err := s.Flush(ctx); err != nil { // this process's read-only calls first
		return AuditReport{}, err
	}
	if _, _, err := s.SealLegacy(ctx); err != nil {
		return AuditReport{}, err
	}
	var rep AuditReport
	var heads []string
	err := s.store.View(ctx, func(tx Tx) error {
		run := &verifyRun{rep: &rep, named: map[string]map[string]int64{}, present: map[string]map[string]bool{}, covered: map[string]int64{}}

		// Pass 1, the global chain: the newest checkpoint, which
		// conversations were created and removed, and what the expected
		// anchor sealed.
		checkpoints := map[string]ref{}
		expected := map[string]int64{} // conversation -> global row that says it exists
		removed := map[string]int64{}  // conversation -> global row recording its removal
		chains := map[string]*chainState{}
		state := func(chain string) *chainState {
			cs := chains[chain]
			if cs == nil {
				cs = &chainState{want: map[int64]expectation{}}
				chains[chain] = cs
			}
			return cs
		}
		legacySeals := 0
		global := ""
		err := tx.EachAudit(&global, func(e AuditEntry) error {
			if cps := checkpointsOf(e); cps != nil {
				checkpoints = cps
				for c := range expected {
					if removed[c] == 0 {
						delete(expected, c) // a checkpoint lists the live ones again
					}
				}
			}
			for _, r := range parseRefs(e.Refs) {
				switch r.kind {
				case "new", "live":
					if removed[r.chain] == 0 {
						expected[r.chain] = e.Seq
					}
				case "del":
					removed[r.chain] = e.Seq
					state(r.chain).want[r.seq] = expectation{r.digest, fmt.Sprintf("the last row when cleanup removed the conversation (global row %d)", e.Seq)}
				case "head":
					if e.Seq == anchorSeq && e.Digest == anchorDigest {
						state(r.chain).want[r.seq] = expectation{r.digest, fmt.Sprintf("a head sealed by the expected head (global row %d)", e.Seq)}
					}
				case "legacy":
					legacySeals++
				case "rearmed":
					run.problem("", e.Seq, "the upgrade mark was re-created outside agent-bridge, to have rows inserted since sealed as legacy ones; they were not")
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if legacySeals > 1 {
			run.problem("", 0, "legacy rows were sealed %d times: rows without a MAC were added after the first sealing and sealed by a later one (see the cli:seal-legacy rows)", legacySeals)
		}
		for chain, cp := range checkpoints {
			run.covered[chain] = cp.n
		}

		// Pass 2, every chain: each row follows the one before, from the
		// genesis or from its chain's checkpoint.
		var current *chainState
		finish := func(chain string) {
			cs := chains[chain]
			cs.v.Finish()
			rep.Problems = append(rep.Problems, cs.v.Problems...)
			rep.Checked += cs.v.Checked
			cs.headSeq, cs.head = cs.v.Head()
			heads = append(heads, fmt.Sprintf("head:%s:%d:%s", chain, cs.headSeq, cs.head))
		}
		last := ""
		err = tx.EachAudit(nil, func(e AuditEntry) error {
			if current == nil || e.Chain != last {
				if current != nil {
					finish(last)
				}
				current, last = state(e.Chain), e.Chain
				current.first = e.Seq
				current.v = audit.NewVerifier(s.auditKey)
				if cp, ok := checkpoints[e.Chain]; ok && e.Seq > 1 && cp.seq == e.Seq-1 {
					current.v = audit.NewVerifierAfter(s.auditKey, cp.seq, cp.digest)
					if e.Chain == "" {
						rep.PrunedThrough = cp.seq
					}
				}
				current.v.Chain, current.v.Legacy = e.Chain, e.Chain == ""
				if e.Chain == "" && anchorSeq != 0 {
					current.v.Expect(anchorSeq, anchorDigest)
				}
				rep.Chains++
			}
			current.v.Add(audit.Row{Record: auditRecord(e), Prev: e.PrevDigest, Digest: e.Digest})
			if w, ok := current.want[e.Seq]; ok && w.digest != e.Digest && e.Chain != "" {
				run.problem(e.Chain, e.Seq, "is not %s: the chain was rewritten from this row on", w.why)
			}
			for _, r := range parseRefs(e.Refs) {
				if r.kind != "m" {
					continue
				}
				id := messageRef(r.n)
				if run.named[e.Chain] == nil {
					run.named[e.Chain] = map[string]int64{}
				}
				if prev := run.named[e.Chain][id]; prev != 0 {
					run.problem(e.Chain, e.Seq, "names message %d, which row %d named already: that message was deleted outside agent-bridge and its id used again", r.n, prev)
				}
				run.named[e.Chain][id] = e.Seq
			}
			return nil
		})
		if err != nil {
			return err
		}
		if current != nil {
			finish(last)
		}
		if anchorSeq != 0 && chains[""] == nil {
			run.problem("", anchorSeq, "the expected head is missing: the global chain is empty (rows were cut from the end)")
		}
		// Rows other chains must still reach.
		for _, chain := range sortedKeys(chains) {
			cs := chains[chain]
			if chain == "" {
				continue
			}
			for _, seq := range sortedKeys(cs.want) {
				w := cs.want[seq]
				switch {
				case seq == 0:
				case cs.v == nil:
					run.problem(chain, 0, "the chain is missing, yet row %d was %s (rows were deleted)", seq, w.why)
				case seq > cs.headSeq:
					run.problem(chain, 0, "the chain ends at row %d, before row %d, %s (rows were cut from the end)", cs.headSeq, seq, w.why)
				}
			}
		}

		// Sealed tables, and that they agree with the chains.
		for _, k := range sealedKinds {
			if err := k.check(s, tx, run); err != nil {
				return err
			}
		}
		convs, err := tx.Conversations()
		if err != nil {
			return err
		}
		exists := map[string]bool{}
		for _, c := range convs {
			exists[c.ID] = true
			switch cs := chains[c.ID]; {
			case cs == nil && expected[c.ID] != 0:
				run.problem(c.ID, 0, "the conversation's chain is missing: its audit rows were deleted")
			case cs == nil:
				run.problem(c.ID, 0, "the conversation was inserted outside agent-bridge: no audit row records its creation")
			}
		}
		for _, c := range sortedKeys(expected) {
			if !exists[c] && removed[c] == 0 {
				run.problem(c, 0, "the conversation was deleted outside agent-bridge: global row %d records it, and no cleanup removed it", expected[c])
			}
		}
		for _, chain := range sortedKeys(run.named) {
			for _, k := range sealedKinds {
				if k.ref == "" {
					continue
				}
				for _, ref := range sortedKeys(run.named[chain]) {
					if !strings.HasPrefix(ref, k.ref) || run.present[chain][ref] {
						continue
					}
					switch {
					case removed[chain] != 0 && !exists[chain]:
						rep.Removed++
					case exists[chain]:
						run.problem(chain, run.named[chain][ref], "names %s %s, which is missing: it was deleted outside agent-bridge", k.name, strings.TrimPrefix(ref, k.ref))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	slices.Sort(heads)
	rep.heads = heads
	return rep, nil
}

// SealHead appends to the global chain a row that seals the head of every
// chain as rep (a verification's report) saw it, and sets rep's head to
// that row: the SEQ:DIGEST to keep elsewhere and pass to a later
// verification as its expected head. A row of a chain that is no longer
// there, or different, is then reported by that verification.
func (s *Service) SealHead(ctx context.Context, rep *AuditReport) error {
	detail := fmt.Sprintf("verified %d rows in %d chains and %d sealed rows: ", rep.Checked, rep.Chains, rep.Rows)
	if rep.OK() {
		detail += "intact"
	} else {
		detail += fmt.Sprintf("%d problems", len(rep.Problems))
	}
	return s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
		e, err := s.appendTo(tx, "", AuditEntry{At: s.cfg.Now(), Tool: "cli:audit-verify", Outcome: OutcomeOK, Detail: detail, Refs: strings.Join(rep.heads, "\n")})
		if err == nil {
			rep.HeadSeq, rep.Head = e.Seq, e.Digest
		}
		return err
	})
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var checkpointRe = regexp.MustCompile(`^checkpoint: rows through (\d+) pruned; row \d+ follows digest ([0-9a-f]{64})`)

// parseCheckpoint reads a checkpoint row written before chains: it names
// the global chain's last pruned row and its digest.
func parseCheckpoint(e AuditEntry) (through int64, digest string, ok bool) {
	if e.Tool != checkpointTool || e.Outcome != OutcomeOK {
		return 0, "", false
	}
	m := checkpointRe.FindStringSubmatch(e.Detail)
	if m == nil {
		return 0, "", false
	}
	through, err := strconv.ParseInt(m[1], 10, 64)
	return through, m[2], err == nil
}
