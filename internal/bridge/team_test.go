package bridge_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// team creates a conversation with an invite, and joins workers by invite;
// it returns the creator and the workers.
func team(t *testing.T, svc *bridge.Service, workers ...bridge.Member) (bridge.Created, bridge.Caller, []bridge.Caller) {
	t.Helper()
	ctx := context.Background()
	c, err := svc.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "worker", Invite: true, PartnerID: workers[0]})
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenB != "" || c.Invite.Code == "" {
		t.Fatalf("invite shape returned %+v", c)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Token: c.TokenA}
	var out []bridge.Caller
	code := c.Invite.Code
	for i, w := range workers {
		if i > 0 {
			inv, err := svc.Invite(ctx, a, bridge.InviteInput{Member: w, Role: "worker"})
			if err != nil {
				t.Fatal(err)
			}
			code = inv.Code
		}
		j, err := svc.Join(ctx, code, "")
		if err != nil {
			t.Fatalf("join %s: %v", w, err)
		}
		if j.Member != w || j.Token == "" || j.Token == c.TokenA {
			t.Fatalf("joined %+v", j)
		}
		out = append(out, bridge.Caller{ConversationID: c.Conversation.ID, Token: j.Token})
	}
	return c, a, out
}

// state summarises what a refused call must not change.
func state(t *testing.T, svc *bridge.Service, conv string) (string, int) {
	t.Helper()
	d, err := svc.Show(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range d.Members {
		fmt.Fprintf(&b, "%s:%d:%v:%d;", m.Member, m.Generation, m.Active(), m.Unread)
	}
	rep, err := svc.VerifyAudit(context.Background(), "")
	if err != nil || !rep.OK() {
		t.Fatalf("audit: %+v %v", rep, err)
	}
	return fmt.Sprintf("%s messages=%d", b.String(), d.Messages), int(rep.Checked)
}

func TestInviteCodesAreShortSingleUseAndHashed(t *testing.T) {
	ctx := context.Background()
	svc, now := newService(t, nil)
	c, err := svc.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "worker", Invite: true})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(c.Invite.Code) {
		t.Fatalf("invite code %q", c.Invite.Code)
	}
	if !c.Invite.ExpiresAt.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("invite expires %v", c.Invite.ExpiresAt)
	}
	// Case, dashes and spaces do not matter.
	sloppy := strings.ToLower(strings.ReplaceAll(c.Invite.Code, "-", " "))
	j, err := svc.Join(ctx, sloppy, "")
	if err != nil || j.Member != "b" || j.Role != "worker" || j.InvitedBy != "a" {
		t.Fatalf("join: %+v %v", j, err)
	}
	b := bridge.Caller{ConversationID: c.Conversation.ID, Token: j.Token}
	if _, err := svc.Send(ctx, b, bridge.SendInput{Message: "hello"}); err != nil {
		t.Fatalf("joined member's token: %v", err)
	}
	// Neither the code nor the token is in the audit trail.
	rows, _ := svc.Audit(ctx, bridge.AuditFilter{})
	norm, _ := bridge.NormalizeInviteCode(c.Invite.Code)
	for _, r := range rows {
		for _, secret := range []string{c.Invite.Code, norm, j.Token, c.TokenA} {
			if strings.Contains(r.Detail, secret) {
				t.Fatalf("audit row leaks a secret: %+v", r)
			}
		}
	}
	if rows[len(rows)-2].Tool != "join_conversation" || rows[len(rows)-2].Session != "b" || rows[len(rows)-2].ConversationID != c.Conversation.ID {
		t.Fatalf("join audit row %+v", rows[len(rows)-2])
	}
}

func TestBadTeamInputIsRefusedChangesNothingAndIsAuditedOnce(t *testing.T) {
	ctx := context.Background()
	svc, now := newService(t, func(c *bridge.Config) { c.MaxMembers = 4 })
	c, a, ws := team(t, svc, "worker-1", "worker-2")
	conv := c.Conversation.ID
	w1 := ws[0]
	spent, err := svc.Invite(ctx, a, bridge.InviteInput{Member: "worker-3", Role: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Join(ctx, spent.Code, ""); err != nil {
		t.Fatal(err)
	}
	// Now a, worker-1..3: full at 4.
	expiring, err := svc.Create(ctx, bridge.CreateInput{MyRole: "other", PartnerRole: "worker", Invite: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Leave(ctx, ws[1], ""); err != nil { // worker-2 leaves: a seat frees
		t.Fatal(err)
	}
	if _, err := svc.Invite(ctx, a, bridge.InviteInput{Member: "worker-4", Role: "worker"}); err != nil {
		t.Fatal(err) // the freed seat is now an open invite: full again
	}
	// A pair whose second seat is taken, with an invite that leaves the
	// joiner's id open.
	spare, err := svc.Create(ctx, bridge.CreateInput{MyRole: "lead", PartnerRole: "worker", Invite: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Join(ctx, spare.Invite.Code, ""); err != nil {
		t.Fatal(err)
	}
	open, err := svc.Invite(ctx, bridge.Caller{ConversationID: spare.Conversation.ID, Token: spare.TokenA}, bridge.InviteInput{Role: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	spareCode := open.Code
	forged := "ABCD-EFGH-JKMN"
	cases := []struct {
		name string
		call func() error
		kind bridge.ErrorKind
		says string
	}{
		{"unknown member", func() error {
			_, err := svc.Send(ctx, a, bridge.SendInput{Message: "x", To: "worker-9"})
			return err
		}, bridge.ENotFound, `to "worker-9" is not a member`},
		{"malformed member id", func() error {
			_, err := svc.Invite(ctx, a, bridge.InviteInput{Member: "Worker 9", Role: "worker"})
			return err
		}, bridge.EInvalid, "is malformed"},
		{"reserved member id", func() error {
			_, err := svc.Invite(ctx, a, bridge.InviteInput{Member: "all", Role: "worker"})
			return err
		}, bridge.EInvalid, "is reserved"},
		{"member id taken", func() error {
			_, err := svc.Join(ctx, spareCode, "b")
			return err
		}, bridge.EInvalid, `"b" is taken`},
		{"the creator's seat", func() error {
			_, err := svc.Join(ctx, spareCode, "a")
			return err
		}, bridge.EInvalid, "belongs to the conversation's creator"},
		{"member id held by an open invite", func() error {
			_, err := svc.Invite(ctx, bridge.Caller{ConversationID: expiring.Conversation.ID, Token: expiring.TokenA}, bridge.InviteInput{Member: "b", Role: "worker"})
			return err
		}, bridge.EInvalid, "taken by an open invite"},
		{"invite for another id", func() error {
			_, err := svc.Join(ctx, expiring.Invite.Code, "c")
			return err
		}, bridge.EInvalid, `this invite is for member id "b"`},
		{"full conversation", func() error {
			_, err := svc.Invite(ctx, a, bridge.InviteInput{Role: "worker"})
			return err
		}, bridge.EInvalid, "is full"},
		{"redeemed code", func() error {
			_, err := svc.Join(ctx, spent.Code, "")
			return err
		}, bridge.EUnauthorized, "already used"},
		{"forged code", func() error {
			_, err := svc.Join(ctx, forged, "")
			return err
		}, bridge.EUnauthorized, "not valid"},
		{"malformed code", func() error {
			_, err := svc.Join(ctx, "hello", "")
			return err
		}, bridge.EInvalid, "12-character code"},
		{"removed member's token", func() error {
			_, err := svc.CheckMessages(ctx, ws[1], bridge.CheckInput{})
			return err
		}, bridge.EUnauthorized, "is no longer in conversation"},
		{"broadcast to a pair", func() error {
			_, err := svc.Send(ctx, bridge.Caller{ConversationID: expiring.Conversation.ID, Token: expiring.TokenA}, bridge.SendInput{Message: "x", To: "all"})
			return err
		}, bridge.EInvalid, "you are the only member"},
		{"no recipient in a team", func() error {
			_, err := svc.Send(ctx, w1, bridge.SendInput{Message: "x"})
			return err
		}, bridge.EInvalid, "to is required"},
		{"to yourself", func() error {
			_, err := svc.Send(ctx, w1, bridge.SendInput{Message: "x", To: "worker-1"})
			return err
		}, bridge.EInvalid, "names you"},
		{"reply to nothing", func() error {
			_, err := svc.Send(ctx, w1, bridge.SendInput{Message: "x", To: "a", ReplyTo: 999})
			return err
		}, bridge.EInvalid, "reply_to 999"},
		{"remove without being creator", func() error {
			_, err := svc.Leave(ctx, w1, "worker-3")
			return err
		}, bridge.EForbidden, "only the conversation's creator"},
		{"remove a stranger", func() error {
			_, err := svc.Leave(ctx, a, "worker-9")
			return err
		}, bridge.ENotFound, `no member "worker-9"`},
		{"unknown conversation", func() error {
			_, err := svc.CheckMessages(ctx, bridge.Caller{ConversationID: "conv_00000000000000aa", Token: c.TokenA}, bridge.CheckInput{})
			return err
		}, bridge.EUnauthorized, "or no such conversation exists"},
		{"wrong token for the id", func() error {
			_, err := svc.CheckMessages(ctx, bridge.Caller{ConversationID: conv, Token: expiring.TokenA}, bridge.CheckInput{})
			return err
		}, bridge.EUnauthorized, "or no such conversation exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, rows := state(t, svc, conv)
			other, _ := state(t, svc, expiring.Conversation.ID)
			err := tc.call()
			if bridge.KindOf(err) != tc.kind || !strings.Contains(bridge.MessageOf(err), tc.says) {
				t.Fatalf("got %v (%s), want %s saying %q", err, bridge.KindOf(err), tc.kind, tc.says)
			}
			after, rows2 := state(t, svc, conv)
			other2, _ := state(t, svc, expiring.Conversation.ID)
			if after != before || other2 != other {
				t.Fatalf("a refused call changed state:\n%s\n%s", before, after)
			}
			if rows2 != rows+1 {
				t.Fatalf("%d audit rows for one refusal", rows2-rows)
			}
			last, _ := svc.Audit(ctx, bridge.AuditFilter{Limit: 1})
			if last[0].Outcome != bridge.OutcomeRefused || last[0].ErrorKind != tc.kind {
				t.Fatalf("audit row %+v", last[0])
			}
		})
	}
	// An expired code has its own answer.
	*now = now.Add(31 * time.Minute)
	if _, err := svc.Join(ctx, expiring.Invite.Code, ""); bridge.KindOf(err) != bridge.EExpired {
		t.Fatalf("expired code: %v", err)
	}
	// The unknown-conversation answer does not tell ids apart.
	_, e1 := svc.CheckMessages(ctx, bridge.Caller{ConversationID: "conv_00000000000000aa", Token: c.TokenA}, bridge.CheckInput{})
	_, e2 := svc.CheckMessages(ctx, bridge.Caller{ConversationID: conv, Token: expiring.TokenA}, bridge.CheckInput{})
	strip := func(err error) string {
		return strings.NewReplacer("conv_00000000000000aa", "ID", conv, "ID").Replace(bridge.MessageOf(err))
	}
	if strip(e1) != strip(e2) {
		t.Fatalf("an unknown conversation and a wrong token are told apart:\n%s\n%s", e1, e2)
	}
}

func TestBroadcastReachesEachOtherMemberOnceAndDirectOnlyItsAddressee(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	_, a, ws := team(t, svc, "w1", "w2", "w3", "w4")
	bc, err := svc.Send(ctx, a, bridge.SendInput{Message: "plan for everyone", To: "all"})
	if err != nil || bc.Message.To != bridge.Broadcast {
		t.Fatalf("broadcast: %+v %v", bc, err)
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "only for w2", To: "w2", ActionType: "question"}); err != nil {
		t.Fatal(err)
	}
	for i, w := range ws {
		in, err := svc.CheckMessages(ctx, w, bridge.CheckInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"plan for everyone"}
		if i == 1 {
			want = append(want, "only for w2")
		}
		var got []string
		for _, m := range in.Messages {
			got = append(got, m.Body)
			if m.From != "a" || m.Role != "orchestrator" {
				t.Errorf("sender shown as %s (%s)", m.From, m.Role)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || in.Member != bridge.Member(fmt.Sprintf("w%d", i+1)) {
			t.Fatalf("w%d got %v, want %v", i+1, got, want)
		}
		if again, _ := svc.CheckMessages(ctx, w, bridge.CheckInput{}); len(again.Messages) != 0 {
			t.Fatalf("w%d received a message twice", i+1)
		}
	}
	if in, _ := svc.CheckMessages(ctx, a, bridge.CheckInput{}); len(in.Messages) != 0 {
		t.Fatal("the sender received its own broadcast")
	}
	// A reply names the message it answers; the team view shows reads.
	reply, err := svc.Send(ctx, ws[1], bridge.SendInput{Message: "yes", To: "a", ReplyTo: bc.Message.ID})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := svc.CheckMessages(ctx, a, bridge.CheckInput{})
	if len(in.Messages) != 1 || in.Messages[0].ReplyTo != bc.Message.ID || in.Messages[0].ID != reply.Message.ID || in.Messages[0].From != "w2" {
		t.Fatalf("reply: %+v", in.Messages)
	}
	st, err := svc.PartnerStatus(ctx, a)
	if err != nil || len(st.Team) != 5 || st.Session != "" {
		t.Fatalf("team view: %+v %v", st, err)
	}
	for _, m := range st.Team {
		if m.Member != "a" && (m.Role != "worker" || !m.Alive || m.YourUnread != 0 || m.You) {
			t.Errorf("team view of %s: %+v", m.Member, m)
		}
	}
}

func TestRemovedMemberIsRefusedAtOnceAndRejoinsOnlyWithANewInvite(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil)
	_, a, ws := team(t, svc, "w1", "w2")
	old := ws[0]
	if l, err := svc.Leave(ctx, a, "w1"); err != nil || !l.Removed {
		t.Fatalf("remove: %+v %v", l, err)
	}
	if _, err := svc.Send(ctx, old, bridge.SendInput{Message: "still here?", To: "a"}); !strings.Contains(bridge.MessageOf(err), "no longer in") {
		t.Fatalf("removed member: %v", err)
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "to w1", To: "w1"}); bridge.KindOf(err) != bridge.ENotFound {
		t.Fatalf("send to a removed member: %v", err)
	}
	// With two members left, a broadcast is meaningless and to defaults.
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "hi"}); err != nil {
		t.Fatalf("default recipient in a pair: %v", err)
	}
	inv, err := svc.Invite(ctx, a, bridge.InviteInput{Member: "w1", Role: "reviewer"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := svc.Join(ctx, inv.Code, "")
	if err != nil || j.Token == old.Token || j.Role != "reviewer" {
		t.Fatalf("rejoin: %+v %v", j, err)
	}
	if _, err := svc.CheckMessages(ctx, old, bridge.CheckInput{}); bridge.KindOf(err) != bridge.EUnauthorized {
		t.Fatalf("the old token works again after a rejoin: %v", err)
	}
	if _, err := svc.CheckMessages(ctx, bridge.Caller{ConversationID: old.ConversationID, Token: j.Token}, bridge.CheckInput{}); err != nil {
		t.Fatalf("the new token: %v", err)
	}
}

func TestRequireInvitesRefusesTheBothTokensShape(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, func(c *bridge.Config) { c.RequireInvites = true })
	if _, err := svc.CreateConversation(ctx, "orchestrator", "worker"); !strings.Contains(bridge.MessageOf(err), "requires invites") {
		t.Fatalf("original shape under RequireInvites: %v", err)
	}
	if c, err := svc.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "worker", Invite: true}); err != nil || c.TokenB != "" {
		t.Fatalf("invite shape: %+v %v", c, err)
	}
}

// The delivery rule: nothing is marked read unless the caller is still
// there when the taking transaction commits.
func TestNothingIsMarkedReadForACallerThatHasGone(t *testing.T) {
	svc, _ := newService(t, nil)
	ctx := context.Background()
	c, err := svc.CreateConversation(ctx, "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	a := bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA}
	b := bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "keep me"}); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := svc.CheckMessages(gone, b, bridge.CheckInput{}); bridge.KindOf(err) != bridge.ECancelled {
		t.Fatalf("a gone caller: %v", err)
	}
	in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{})
	if err != nil || len(in.Messages) != 1 || in.Messages[0].Body != "keep me" {
		t.Fatalf("the message was lost with the caller: %+v %v", in, err)
	}
}

func TestCheckMessagesTakesAPageAndSaysHowManyWait(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, func(c *bridge.Config) { c.PageSize = 2 })
	c, _ := svc.CreateConversation(ctx, "backend", "frontend")
	a := bridge.Caller{ConversationID: c.Conversation.ID, Token: c.TokenA} // no session_id: the token says "a"
	b := bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
	for i := 0; i < 5; i++ {
		if _, err := svc.Send(ctx, a, bridge.SendInput{Message: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, more := range []int{3, 1, 0} {
		in, err := svc.CheckMessages(ctx, b, bridge.CheckInput{})
		if err != nil || in.Unread != more {
			t.Fatalf("page: %d more, want %d (%v)", in.Unread, more, err)
		}
		for _, m := range in.Messages {
			got = append(got, m.Body)
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("got %v", got)
	}
}

// The watchdog's notice about a silent member goes to each of its
// teammates, once, and not to the silent member.
func TestWatchdogNotifiesTheSilentMembersTeammates(t *testing.T) {
	ctx := context.Background()
	svc, now := newService(t, nil)
	_, a, ws := team(t, svc, "w1", "w2")
	*now = now.Add(time.Minute)
	for _, c := range []bridge.Caller{a, ws[1]} {
		if _, err := svc.UpdateStatus(ctx, c, "working"); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(4 * time.Minute) // w1 last called 5 minutes ago, the others 4
	evs, err := svc.Watchdog(ctx, 5*time.Minute, true)
	if err != nil || len(evs) != 1 || evs[0].Session != "w1" || evs[0].Kind != "silent" {
		t.Fatalf("events %+v %v", evs, err)
	}
	if again, _ := svc.Watchdog(ctx, 5*time.Minute, true); len(again) != 0 {
		t.Fatalf("reported twice: %+v", again)
	}
	for _, c := range []bridge.Caller{a, ws[1]} {
		in, err := svc.CheckMessages(ctx, c, bridge.CheckInput{})
		if err != nil || len(in.Messages) != 1 || !in.Messages[0].System || !strings.Contains(in.Messages[0].Body, "member w1") {
			t.Fatalf("teammate %s got %+v %v", in.Member, in.Messages, err)
		}
	}
	if in, _ := svc.CheckMessages(ctx, ws[0], bridge.CheckInput{}); len(in.Messages) != 0 {
		t.Fatalf("the silent member got its own notice: %+v", in.Messages)
	}
}
