package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// serviceAt opens a service over a new database in dir with key k and
// the clock *now.
func serviceAt(t *testing.T, dir string, k token.Key, now *time.Time) *bridge.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	cfg.Now = func() time.Time { return *now }
	return bridge.NewService(db, k, nil, cfg, nil)
}

// teamView is everything a member sees of its inbox and team, for
// comparing two stores.
type teamView struct {
	Unread  []string // id: body, oldest first
	Count   int
	History []string // id: body (read time), every message delivered to it
	Team    []string // member role status unread your-unread
}

func viewOf(t *testing.T, svc *bridge.Service, c bridge.Caller) teamView {
	t.Helper()
	ctx := context.Background()
	var v teamView
	in, err := svc.Peek(ctx, c)
	if err != nil {
		t.Fatalf("peek as %s: %v", c.Session, err)
	}
	for _, m := range in.Messages {
		v.Unread = append(v.Unread, fmt.Sprintf("%d: %s", m.ID, m.Body))
	}
	v.Count = in.Unread
	h, err := svc.CheckMessages(ctx, c, bridge.CheckInput{History: true})
	if err != nil {
		t.Fatalf("history as %s: %v", c.Session, err)
	}
	for _, m := range h.Messages {
		v.History = append(v.History, fmt.Sprintf("%d: %s from %s to %s re %d (read %s)", m.ID, m.Body, m.From, m.To, m.ReplyTo, bridge.FormatTime(m.ReadAt)))
	}
	ps, err := svc.PartnerStatus(ctx, c)
	if err != nil {
		t.Fatalf("status as %s: %v", c.Session, err)
	}
	for _, tm := range ps.Team {
		v.Team = append(v.Team, fmt.Sprintf("%s %s %s gen %d unread %d yours %d", tm.Member, tm.Role, tm.Status, tm.Generation, tm.Unread, tm.YourUnread))
	}
	return v
}

// A team's conversation moves to another store whole: members with their
// generations (so every token still works), who left, open invites (their
// codes still work), and who received and read which message (so every
// inbox and unread count is identical).
func TestExportImportTeamRoundTrip(t *testing.T) {
	ctx := context.Background()
	var key token.Key
	key[0] = 42
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	src := serviceAt(t, t.TempDir(), key, &now)
	tick := func() { now = now.Add(time.Second) }

	cr, err := src.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "backend_worker", Invite: true})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.Conversation.ID
	a := bridge.Caller{ConversationID: id, Session: "a", Token: cr.TokenA}
	join := func(svc *bridge.Service, code string) bridge.Caller {
		t.Helper()
		j, err := svc.Join(ctx, code, "")
		if err != nil {
			t.Fatal(err)
		}
		return bridge.Caller{ConversationID: id, Session: j.Member, Token: j.Token}
	}
	invite := func(member bridge.Member, role string) string {
		t.Helper()
		iss, err := src.Invite(ctx, a, bridge.InviteInput{Member: member, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return iss.Code
	}
	b := join(src, cr.Invite.Code)
	w3 := join(src, invite("worker-3", "test_writer"))
	openCode := invite("worker-4", "docs_writer") // never redeemed before the export
	send := func(from bridge.Caller, to bridge.Member, body string, replyTo int64) int64 {
		t.Helper()
		tick()
		s, err := src.Send(ctx, from, bridge.SendInput{Message: body, To: to, ReplyTo: replyTo})
		if err != nil {
			t.Fatal(err)
		}
		return s.Message.ID
	}
	read := func(c bridge.Caller) {
		t.Helper()
		tick()
		if _, err := src.CheckMessages(ctx, c, bridge.CheckInput{}); err != nil {
			t.Fatal(err)
		}
	}
	plan := send(a, "all", "plan: b builds, worker-3 tests", 0)
	q := send(b, "a", "which database?", plan)
	read(a)  // a read b's question
	read(w3) // worker-3 read the plan; b has not
	send(a, "worker-3", "write the tests first", 0)
	send(a, "b", "sqlite", q)
	tick()
	if _, err := src.UpdateStatus(ctx, b, "working"); err != nil {
		t.Fatal(err)
	}
	tick()
	if _, err := src.Leave(ctx, w3, ""); err != nil { // worker-3 leaves with a message unread
		t.Fatal(err)
	}
	send(b, "a", "halfway there", 0)

	snap, err := src.Export(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := bridge.WriteSnapshot(&file, snap, now); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{cr.TokenA, b.Token, w3.Token, strings.ReplaceAll(openCode, "-", ""), openCode} {
		if strings.Contains(file.String(), secret) {
			t.Fatal("the export holds a token or an invite code")
		}
	}
	before := map[bridge.Member]teamView{"a": viewOf(t, src, a), "b": viewOf(t, src, b)}

	dst := serviceAt(t, t.TempDir(), key, &now)
	read2, err := bridge.ReadSnapshot(&file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Import(ctx, read2, false); err != nil {
		t.Fatal(err)
	}
	// An export of the copy says the same (but its own audit rows).
	again, err := dst.Export(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	snap.Audit, again.Audit = nil, nil
	if !reflect.DeepEqual(again, snap) {
		t.Fatalf("export of the import differs:\n got %+v\nwant %+v", again, snap)
	}
	// Every member's own token works in the new store, and sees exactly
	// what it saw.
	for _, c := range []bridge.Caller{a, b} {
		if got := viewOf(t, dst, c); !reflect.DeepEqual(got, before[c.Session]) {
			t.Errorf("member %s after import:\n got %+v\nwant %+v", c.Session, got, before[c.Session])
		}
	}
	// The member that left is still gone, with its own answer.
	_, errSrc := src.Peek(ctx, w3)
	_, errDst := dst.Peek(ctx, w3)
	if bridge.KindOf(errDst) != bridge.EUnauthorized || bridge.MessageOf(errDst) != bridge.MessageOf(errSrc) {
		t.Fatalf("the member that left, after import: %v (before: %v)", errDst, errSrc)
	}
	// The open invite's code works in the new store, once.
	w4 := join(dst, openCode)
	if w4.Session != "worker-4" {
		t.Fatalf("joined as %s", w4.Session)
	}
	if _, err := dst.Send(ctx, w4, bridge.SendInput{Message: "hello", To: "a"}); err != nil {
		t.Fatalf("the new member's token: %v", err)
	}
	if _, err := dst.Join(ctx, openCode, ""); err == nil {
		t.Fatal("an imported invite code worked twice")
	}
}

// An export is text from outside: a malformed one is refused with an error
// that names what is wrong, and nothing of it is stored.
func TestImportRefusesMalformedTeams(t *testing.T) {
	ctx := context.Background()
	var key token.Key
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	svc := serviceAt(t, t.TempDir(), key, &now)
	at := now
	good := func() bridge.Snapshot {
		return bridge.Snapshot{
			Conversation: bridge.Conversation{ID: "conv_00000000000000cc", RoleA: "orchestrator", RoleB: "worker", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
			Members: []bridge.Membership{
				{Member: "a", Role: "orchestrator", JoinedAt: at},
				{Member: "b", Role: "worker", Generation: 1, JoinedAt: at},
				{Member: "worker-3", Role: "tester", Generation: 1, JoinedAt: at, LeftAt: at.Add(time.Minute)},
			},
			Invites: []bridge.Invite{{CodeHash: strings.Repeat("0f", 32), Member: "worker-4", Role: "docs_writer", CreatedBy: "a", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}},
			Messages: []bridge.Message{
				{ID: 1, From: "a", To: bridge.Broadcast, ActionType: "info", Body: "plan", CreatedAt: at},
				{ID: 2, From: "b", To: "a", ReplyTo: 1, ActionType: "question", Body: "q", CreatedAt: at},
			},
			Deliveries: []bridge.Delivery{{MessageID: 1, Member: "b", ReadAt: at}, {MessageID: 1, Member: "worker-3"}, {MessageID: 2, Member: "a"}},
		}
	}
	for _, c := range []struct {
		name, want string
		spoil      func(*bridge.Snapshot)
	}{
		{"one member", "has 1 members; a conversation has 2 to 32", func(s *bridge.Snapshot) { s.Members = s.Members[:1] }},
		{"no creator", "no member a", func(s *bridge.Snapshot) { s.Members[0].Member, s.Members[0].Generation = "boss", 1 }},
		{"reserved id", `member "operator" is not a member id`, func(s *bridge.Snapshot) { s.Members[1].Member = "operator" }},
		{"twice", `member "b" appears twice`, func(s *bridge.Snapshot) { s.Members[2].Member = "b" }},
		{"generation 0 for an invited seat", "generation 0 belongs to seats a and b only", func(s *bridge.Snapshot) { s.Members[2].Generation = 0 }},
		{"left before joining", "left", func(s *bridge.Snapshot) { s.Members[2].LeftAt = at.Add(-time.Hour) }},
		{"bad status", `status "napping"`, func(s *bridge.Snapshot) { s.Members[1].Status = "napping" }},
		{"invite with a code", "no valid code hash", func(s *bridge.Snapshot) { s.Invites[0].CodeHash = "7K2M-QX9D-4HNC" }},
		{"invite by a stranger", `created by "mallory"`, func(s *bridge.Snapshot) { s.Invites[0].CreatedBy = "mallory" }},
		{"sender not a member", `sender "mallory"`, func(s *bridge.Snapshot) { s.Messages[1].From = "mallory" }},
		{"recipient not a member", `addressed to "mallory"`, func(s *bridge.Snapshot) { s.Messages[1].To = "mallory" }},
		{"reply to a later message", "replies to message 2", func(s *bridge.Snapshot) { s.Messages[0].ReplyTo = 2 }},
		{"ids out of order", "ids must be positive and increasing", func(s *bridge.Snapshot) { s.Messages[1].ID = 1 }},
		{"delivery of no message", "message 9", func(s *bridge.Snapshot) { s.Deliveries[0].MessageID = 9 }},
		{"delivery to a stranger", `to "mallory" names no member`, func(s *bridge.Snapshot) { s.Deliveries[0].Member = "mallory" }},
		{"delivered twice", "appears twice", func(s *bridge.Snapshot) { s.Deliveries[1].Member = "b" }},
		{"read before sent", "was read", func(s *bridge.Snapshot) { s.Deliveries[0].ReadAt = at.Add(-time.Hour) }},
		{"NUL in a message", "message 2 of the export", func(s *bridge.Snapshot) { s.Messages[1].Body = "a\x00b" }},
	} {
		s := good()
		c.spoil(&s)
		_, err := svc.Import(ctx, s, false)
		if bridge.KindOf(err) != bridge.EInvalid || !strings.Contains(bridge.MessageOf(err), c.want) {
			t.Errorf("%s: %v, want invalid naming %q", c.name, err, c.want)
		}
		if list, _ := svc.List(ctx); len(list) != 0 {
			t.Fatalf("%s: a refused import stored %d conversations", c.name, len(list))
		}
	}
	if _, err := svc.Import(ctx, good(), false); err != nil {
		t.Fatalf("the unspoiled snapshot: %v", err)
	}
}
