package bridge

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSnapshotFormatRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	hash := strings.Repeat("ab", 32)
	snap := Snapshot{
		Conversation: Conversation{ID: "conv_0123456789abcdef", RoleA: "backend", RoleB: "frontend", CreatedAt: at, ExpiresAt: at.Add(3 * time.Hour)},
		Members: []Membership{
			{Member: SessionA, Role: "backend", Generation: 0, Status: "working", Heartbeat: at, JoinedAt: at},
			{Member: "worker-2", Role: "tests", Generation: 3, Status: StatusUnknown, JoinedAt: at.Add(time.Minute), LeftAt: at.Add(time.Hour)},
		},
		Invites: []Invite{{CodeHash: hash, Member: "worker-3", Role: "docs", CreatedBy: SessionA, CreatedAt: at, ExpiresAt: at.Add(30 * time.Minute)}},
		Messages: []Message{
			{ID: 1, From: SessionA, To: Broadcast, ActionType: "info", Body: "line one\n\"quoted\"", Files: []string{"a.go"}, CreatedAt: at},
			{ID: 2, From: "worker-2", To: SessionA, ReplyTo: 1, ActionType: "question", Body: "", CreatedAt: at.Add(time.Minute), System: true},
		},
		Deliveries: []Delivery{
			{MessageID: 1, Member: "worker-2", ReadAt: at.Add(time.Second)},
			{MessageID: 2, Member: SessionA},
		},
		Audit: []AuditEntry{{Seq: 7, At: at, Tool: "send_to_partner", Session: "a", Outcome: OutcomeOK, Digest: "d"}},
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, snap, at); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); !strings.Contains(first, `"format":"agent-bridge-conversation"`) || !strings.Contains(first, `"version":2`) {
		t.Fatalf("header %s", first)
	}
	got, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// Audit rows come back for their count only.
	if len(got.Audit) != 1 || got.Audit[0].Seq != 7 || got.Audit[0].Tool != "send_to_partner" {
		t.Fatalf("audit %+v", got.Audit)
	}
	got.Audit, snap.Audit = nil, nil
	if !reflect.DeepEqual(got, snap) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, snap)
	}
}

// Files written by version 1 (a pair: statuses and one read time per
// message) still import: they become members a and b and one delivery
// per message, to the partner.
func TestReadSnapshotVersion1(t *testing.T) {
	in := `{"type":"header","format":"agent-bridge-conversation","version":1}
{"type":"conversation","id":"conv_0123456789abcdef","role_a":"backend","role_b":"frontend","created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T06:04:05Z"}
{"type":"status","session":"b","status":"waiting","heartbeat":"2026-01-02T03:05:00Z"}
{"type":"message","message_id":1,"from":"a","action_type":"info","message":"hi","created_at":"2026-01-02T03:04:06Z","read_at":"2026-01-02T03:04:07Z"}
{"type":"message","message_id":2,"from":"b","action_type":"info","message":"yo","created_at":"2026-01-02T03:04:08Z"}
`
	got, err := ReadSnapshot(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	wantMembers := []Membership{
		{Member: SessionA, Role: "backend", Status: StatusUnknown, JoinedAt: at},
		{Member: SessionB, Role: "frontend", Status: "waiting", Heartbeat: at.Add(55 * time.Second), JoinedAt: at},
	}
	wantDeliveries := []Delivery{{MessageID: 1, Member: SessionB, ReadAt: at.Add(2 * time.Second)}, {MessageID: 2, Member: SessionA}}
	if !reflect.DeepEqual(got.Members, wantMembers) || !reflect.DeepEqual(got.Deliveries, wantDeliveries) ||
		got.Messages[0].To != SessionB || got.Messages[1].To != SessionA || !got.Messages[0].ReadAt.IsZero() {
		t.Fatalf("version 1 read as\n%+v\n%+v\n%+v", got.Members, got.Deliveries, got.Messages)
	}
}

func TestReadSnapshotRefusesWithTheLine(t *testing.T) {
	header := `{"type":"header","format":"agent-bridge-conversation","version":2}` + "\n"
	v1 := `{"type":"header","format":"agent-bridge-conversation","version":1}` + "\n"
	for _, c := range []struct{ in, want string }{
		{"", "empty file"},
		{`{"type":"conversation"}` + "\n", "line 1: not an agent-bridge export"},
		{`{"type":"header","format":"agent-bridge-conversation","version":9}` + "\n", "version 9; this agent-bridge reads versions 1 to 2"},
		{header + "not json\n", "line 2"},
		{header + `{"type":"message","message_id":1}` + "\n", "line 2: message without text"},
		{header + `{"type":"member","member":"a","generation":0,"heartbeat":"yesterday","joined_at":"2026-01-02T03:04:05Z"}` + "\n", "line 2: heartbeat"},
		{header + `{"type":"member","member":"a","joined_at":"2026-01-02T03:04:05Z"}` + "\n", `line 2: member "a" without a generation`},
		{header + `{"type":"member","member":"a","generation":0}` + "\n", `line 2: member "a" without joined_at`},
		{header + `{"type":"message","message_id":1,"message":"x","delivered":[{"member":"b","read_at":"soon"}]}` + "\n", "line 2: delivered read_at"},
		{header + `{"type":"status","session":"a"}` + "\n", `unknown line type "status" for version 2`},
		{v1 + `{"type":"member","member":"a","generation":0}` + "\n", `unknown line type "member" for version 1`},
		{header + `{"type":"mystery"}` + "\n", `unknown line type "mystery"`},
		{header + `{"type":"conversation","id":"x"}` + "\n" + `{"type":"conversation","id":"y"}` + "\n", "line 3: a second conversation line"},
		{header, "no conversation line"},
	} {
		if _, err := ReadSnapshot(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}
