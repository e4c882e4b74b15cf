package bridge

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/audit"
)

// Management use cases, for the CLI. They trust their caller (whoever can
// read the database and key file) and are audited where they reveal
// secrets or change state.

// Overview summarises one conversation.
type Overview struct {
	Conversation Conversation
	Expired      bool
	States       [2]SessionState // a, b
	Unread       [2]int          // waiting for a, for b
	Members      []Membership    // every member, left ones included
	Messages     int
}

// Detail is a conversation with its states and every message.
type Detail struct {
	Overview
	All []Message
}

func overview(tx Tx, c Conversation, now time.Time) (Overview, error) {
	o := Overview{Conversation: c, Expired: c.Expired(now)}
	var err error
	if o.Members, err = tx.Members(c.ID); err != nil {
		return o, err
	}
	for i, sess := range []Session{SessionA, SessionB} {
		st, err := tx.State(c.ID, sess)
		if err != nil {
			return o, err
		}
		o.States[i] = st
		if o.Unread[i], err = tx.UnreadCount(c.ID, sess); err != nil {
			return o, err
		}
	}
	return o, nil
}

// List returns every stored conversation, oldest first.
func (s *Service) List(ctx context.Context) ([]Overview, error) {
	var out []Overview
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		convs, err := tx.Conversations()
		if err != nil {
			return err
		}
		for _, c := range convs {
			o, err := overview(tx, c, now)
			if err != nil {
				return err
			}
			msgs, err := tx.Messages(c.ID)
			if err != nil {
				return err
			}
			o.Messages = len(msgs)
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// Show returns one conversation with its messages (as stored, redacted).
// It marks nothing read.
func (s *Service) Show(ctx context.Context, id string) (Detail, error) {
	var out Detail
	now := s.cfg.Now()
	err := s.store.View(ctx, func(tx Tx) error {
		c, err := tx.Conversation(id)
		if err != nil {
			return err
		}
		if out.Overview, err = overview(tx, c, now); err != nil {
			return err
		}
		out.All, err = tx.Messages(id)
		out.Messages = len(out.All)
		return err
	})
	return out, err
}

// Tokens recomputes the tokens of members a and b from the key, at their
// current generations ("" for a seat that is not a member). The disclosure
// is audited.
func (s *Service) Tokens(ctx context.Context, id string) (a, b string, err error) {
	err = s.call(ctx, "cli:tokens", id, "", func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		if _, err := tx.Conversation(id); err != nil {
			return "", err
		}
		for _, m := range []struct {
			id  Member
			tok *string
		}{{SessionA, &a}, {SessionB, &b}} {
			mb, err := tx.Member(id, m.id)
			if IsNotFound(err) || (err == nil && !mb.Active()) {
				continue
			}
			if err != nil {
				return "", err
			}
			*m.tok = s.key.DeriveMember(id, string(m.id), mb.Generation)
		}
		return "tokens disclosed to the command line", nil
	})
	return a, b, err
}

// MemberToken recomputes one active member's token from the key. The
// disclosure is audited.
func (s *Service) MemberToken(ctx context.Context, id string, member Member) (string, error) {
	var tok string
	err := s.call(ctx, "cli:tokens", id, member, func(tx Tx, _ time.Time) (string, error) {
		if !ValidConversationID(id) {
			return "", Errorf(EInvalid, "%q is not a conversation id (conv_ followed by 16 hex digits)", id)
		}
		if !member.Valid() {
			return "", Errorf(EInvalid, "%q is not a member id (pattern %s)", member, MemberIDPattern)
		}
		if _, err := tx.Conversation(id); err != nil {
			return "", err
		}
		m, err := tx.Member(id, member)
		if err != nil {
			return "", err
		}
		if !m.Active() {
			return "", Errorf(ENotFound, "member %s left %s at %s: it has no token; invite it again", member, id, FormatTime(m.LeftAt))
		}
		tok = s.key.DeriveMember(id, string(member), m.Generation)
		return "token of member " + string(member) + " disclosed to the command line", nil
	})
	return tok, err
}

// Audit returns audit rows, oldest first.
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if err := s.Flush(ctx); err != nil { // this process's read-only calls first
		return nil, err
	}
	var out []AuditEntry
	err := s.store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Audit(f)
		return err
	})
	return out, err
}

// AuditReport is the result of VerifyAudit.
type AuditReport struct {
	Checked  int64
	Problems []audit.Problem
	HeadSeq  int64
	Head     string
	// PrunedThrough is the last row removed by audit retention (0 when
	// none): verification starts after it, from its checkpoint.
	PrunedThrough int64
}

// OK reports whether the whole chain verified.
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

// VerifyAudit checks the whole audit chain and reports every break. With
// expectHead (SEQ:DIGEST from an earlier run, "" for none) it also reports
// a chain that no longer reaches that row: rows cut from the end.
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
	var rep AuditReport
	err := s.store.View(ctx, func(tx Tx) error {
		// Pass 1: where the stored chain starts, and the checkpoint that
		// vouches for what was pruned before it. The checkpoint row is
		// itself a chain row, checked in pass 2.
		first := int64(0)
		cps := map[int64]string{}
		err := tx.EachAudit(func(e AuditEntry) error {
			if first == 0 {
				first = e.Seq
			}
			if through, digest, ok := parseCheckpoint(e); ok {
				cps[through] = digest
			}
			return nil
		})
		if err != nil {
			return err
		}
		v := audit.NewVerifier(s.auditKey)
		if digest, ok := cps[first-1]; first > 1 && ok {
			v = audit.NewVerifierAfter(s.auditKey, first-1, digest)
			rep.PrunedThrough = first - 1
		}
		if anchorSeq != 0 {
			v.Expect(anchorSeq, anchorDigest)
		}
		err = tx.EachAudit(func(e AuditEntry) error {
			v.Add(audit.Row{Record: auditRecord(e), Prev: e.PrevDigest, Digest: e.Digest})
			return nil
		})
		if err != nil {
			return err
		}
		v.Finish()
		rep.Checked, rep.Problems = v.Checked, v.Problems
		rep.HeadSeq, rep.Head = v.Head()
		// Approvals grant command execution: each must carry a MAC that
		// verifies, or it was written or changed without the key.
		all, err := tx.Approvals(ApprovalFilter{})
		if err != nil {
			return err
		}
		for _, a := range all {
			if !s.sealed(a) {
				rep.Problems = append(rep.Problems, audit.Problem{Reason: fmt.Sprintf("approval %s (%s, state %s) was written or changed outside agent-bridge: its MAC does not verify, so it is not honoured", a.ID, a.Kind, a.State)})
			}
		}
		rows, err := s.verifyTaskRows(tx, s.cfg.Now())
		if err != nil {
			return err
		}
		for _, r := range rows {
			rep.Problems = append(rep.Problems, audit.Problem{Reason: r})
		}
		return nil
	})
	return rep, err
}

// The checkpoint row audit retention leaves: written with the key like
// every row, so it cannot be forged, and naming the digest the first kept
// row follows.
const checkpointTool = "cli:audit-prune"

var checkpointRe = regexp.MustCompile(`^checkpoint: rows through (\d+) pruned; row \d+ follows digest ([0-9a-f]{64})`)

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

// PruneAudit removes audit rows older than before, keeping the chain
// verifiable: in the same transaction it appends a checkpoint row naming
// the last removed row and its digest, which VerifyAudit starts from.
// Rows since the last checkpoint stay: at most what the checkpoint covers
// is removed, never the checkpoint itself.
func (s *Service) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := s.call(ctx, checkpointTool, "", "", func(tx Tx, now time.Time) (string, error) {
		through, digest, removed, err := tx.PruneAudit(before)
		if err != nil || removed == 0 {
			if err == nil {
				return fmt.Sprintf("nothing older than %s to prune", FormatTime(before)), nil
			}
			return "", err
		}
		n = removed
		return fmt.Sprintf("checkpoint: rows through %d pruned; row %d follows digest %s (%d rows older than %s removed)",
			through, through+1, digest, removed, FormatTime(before)), nil
	})
	return n, err
}

// Cleanup removes expired conversations with their messages and states.
// Audit rows stay.
func (s *Service) Cleanup(ctx context.Context) (Cleanup, error) {
	var out Cleanup
	err := s.call(ctx, "cli:cleanup", "", "", func(tx Tx, now time.Time) (string, error) {
		var err error
		out, err = tx.DeleteExpired(now)
		if err != nil {
			return "", err
		}
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
