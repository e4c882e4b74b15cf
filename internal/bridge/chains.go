package bridge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The audit trail is one chain per conversation plus the global chain "".
// A call's row goes to the chain of its conversation (see appendAudit), so
// two conversations' writes never wait on one chain head. The global chain
// holds what concerns the whole store, and its rows name, in Refs, one
// line per fact about the other chains:
//
//	new:CONV                          conversation CONV was created (its chain opens in the same transaction)
//	del:CONV:SEQ:DIGEST               cleanup removed CONV; its chain ended at row SEQ with DIGEST
//	live:CONV                         CONV existed when this row was written (checkpoints, legacy sealing)
//	cp:CHAIN:THROUGH:DIGEST:MSG       CHAIN's rows through THROUGH were pruned; the next follows DIGEST;
//	                                  they named messages up to id MSG
//	head:CHAIN:SEQ:DIGEST             audit --verify saw CHAIN end at row SEQ with DIGEST
//	legacy:MESSAGES:MEMBERS:INVITES:ID rows from before row MACs were sealed, messages through id ID
//	rearmed                           the upgrade mark was found re-created, and nothing was sealed
//
// A conversation chain's rows name the messages they stored as m:ID.

// ref is one parsed line of Refs.
type ref struct {
	kind   string
	chain  string
	seq    int64
	digest string
	n      int64
}

func parseRefs(refs string) []ref {
	var out []ref
	for _, line := range strings.Split(refs, "\n") {
		f := strings.Split(line, ":")
		num := func(i int) int64 {
			if i >= len(f) {
				return 0
			}
			n, _ := strconv.ParseInt(f[i], 10, 64)
			return n
		}
		str := func(i int) string {
			if i >= len(f) {
				return ""
			}
			return f[i]
		}
		switch f[0] {
		case "new", "live":
			out = append(out, ref{kind: f[0], chain: str(1)})
		case "del", "head":
			out = append(out, ref{kind: f[0], chain: str(1), seq: num(2), digest: str(3)})
		case "cp":
			out = append(out, ref{kind: f[0], chain: str(1), seq: num(2), digest: str(3), n: num(4)})
		case "legacy":
			out = append(out, ref{kind: f[0], n: num(4)})
		case "rearmed":
			out = append(out, ref{kind: f[0]})
		case "m":
			out = append(out, ref{kind: f[0], n: num(1)})
		}
	}
	return out
}

// created records in the global chain that a conversation was created
// (its own chain opens with the creating call's row). The caller holds the
// global chain's lock.
func (s *Service) created(tx Tx, now time.Time, tool, id string) error {
	_, err := s.appendTo(tx, "", AuditEntry{At: now, Tool: tool, ConversationID: id, Outcome: OutcomeOK,
		Detail: "conversation " + id + " created", Refs: "new:" + id})
	return err
}

// Cleanup removes expired conversations with their messages and states.
// Audit rows stay; the call's row in the global chain records each
// removal with the head its chain had, so neither the conversation nor its
// chain can vanish unnoticed afterwards.
func (s *Service) Cleanup(ctx context.Context) (Cleanup, error) {
	var out Cleanup
	err := s.call(ctx, "cli:cleanup", "", "", func(tx Tx, now time.Time) (string, error) {
		if err := tx.Lock(""); err != nil {
			return "", err
		}
		all, err := tx.Conversations()
		if err != nil {
			return "", err
		}
		var ids []string
		for _, c := range all {
			if c.Expired(now) {
				ids = append(ids, c.ID)
			}
		}
		slices.Sort(ids)
		if err := tx.Lock(ids...); err != nil {
			return "", err
		}
		var refs []string
		for _, id := range ids {
			seq, digest, err := tx.LastAudit(id)
			if err != nil {
				return "", err
			}
			refs = append(refs, fmt.Sprintf("del:%s:%d:%s", id, seq, digest))
		}
		if out, err = tx.DeleteExpired(now); err != nil {
			return "", err
		}
		if out.Conversations != len(ids) {
			return "", fmt.Errorf("cleanup: %d conversations expired, %d removed", len(ids), out.Conversations)
		}
		vouch(tx, refs...)
		if out.Leases, err = tx.DeleteExpiredLeases(now); err != nil {
			return "", err
		}
		if out.Conversations > 0 {
			tx.Signal(ConversationsTopic)
		}
		return fmt.Sprintf("removed %d conversations, %d messages, %d members, %d ended HTTP sessions, %d expired leases",
			out.Conversations, out.Messages, out.Statuses, out.Sessions, out.Leases), nil
	})
	return out, err
}

// The checkpoint row audit retention leaves in the global chain: written
// with the key like every row, so it cannot be forged.
const checkpointTool = "cli:audit-prune"

// PruneAudit removes audit rows older than before from every chain,
// never a chain's newest row, keeping every chain verifiable: its own row
// in the global chain is a checkpoint naming, for
// every chain with a pruned prefix, the last removed row and its digest
// (which VerifyAudit starts that chain from), and the conversations that
// exist (whose creation rows may be among those removed).
func (s *Service) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := s.call(ctx, checkpointTool, "", "", func(tx Tx, now time.Time) (string, error) {
		if err := tx.Lock(""); err != nil {
			return "", err
		}
		// The newest checkpoint carries what earlier ones said.
		prior := map[string]ref{}
		global := ""
		err := tx.EachAudit(&global, func(e AuditEntry) error {
			if cps := checkpointsOf(e); cps != nil {
				prior = cps
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		type chainState struct {
			first     AuditEntry
			held      AuditEntry // the row before the one being read: never the newest
			hasHeld   bool
			cut       AuditEntry // the last row to remove
			hasCut    bool
			maxMsg    int64 // the highest message named by rows through held
			cutMaxMsg int64
		}
		var order []string
		states := map[string]*chainState{}
		err = tx.EachAudit(nil, func(e AuditEntry) error {
			st := states[e.Chain]
			if st == nil {
				st = &chainState{first: e, maxMsg: prior[e.Chain].n}
				states[e.Chain] = st
				order = append(order, e.Chain)
			}
			if st.hasHeld && st.held.At.Before(before) {
				st.cut, st.hasCut, st.cutMaxMsg = st.held, true, st.maxMsg
			}
			for _, r := range parseRefs(e.Refs) {
				if r.kind == "m" && r.n > st.maxMsg {
					st.maxMsg = r.n
				}
			}
			st.held, st.hasHeld = e, true
			return nil
		})
		if err != nil {
			return "", err
		}
		var refs []string
		chains := 0
		for _, chain := range order {
			st := states[chain]
			through, digest, maxMsg := st.first.Seq-1, st.first.PrevDigest, prior[chain].n
			if st.hasCut {
				removed, err := tx.DeleteAudit(chain, st.cut.Seq)
				if err != nil {
					return "", err
				}
				n += removed
				chains++
				through, digest, maxMsg = st.cut.Seq, st.cut.Digest, st.cutMaxMsg
			}
			if through > 0 {
				refs = append(refs, fmt.Sprintf("cp:%s:%d:%s:%d", chain, through, digest, maxMsg))
			}
		}
		if n == 0 {
			return fmt.Sprintf("nothing older than %s to prune", FormatTime(before)), nil
		}
		convs, err := tx.Conversations()
		if err != nil {
			return "", err
		}
		for _, c := range convs {
			refs = append(refs, "live:"+c.ID)
		}
		vouch(tx, refs...)
		return fmt.Sprintf("checkpoint: %d rows of %d chains older than %s pruned", n, chains, FormatTime(before)), nil
	})
	return n, err
}

// checkpointsOf returns the chains a checkpoint row says were pruned
// (nil when e is no checkpoint). A checkpoint from before chains (one
// global chain) is read as one for the global chain.
func checkpointsOf(e AuditEntry) map[string]ref {
	if e.Tool != checkpointTool || e.Outcome != OutcomeOK {
		return nil
	}
	if through, digest, ok := parseCheckpoint(e); ok && e.Refs == "" {
		return map[string]ref{"": {kind: "cp", seq: through, digest: digest}}
	}
	var out map[string]ref
	for _, r := range parseRefs(e.Refs) {
		if r.kind == "cp" {
			if out == nil {
				out = map[string]ref{}
			}
			out[r.chain] = r
		}
	}
	return out
}
