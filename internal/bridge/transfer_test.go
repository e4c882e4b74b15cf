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
	snap := Snapshot{
		Conversation: Conversation{ID: "conv_0123456789abcdef", RoleA: "backend", RoleB: "frontend", CreatedAt: at, ExpiresAt: at.Add(3 * time.Hour)},
		States:       []SessionState{{Session: SessionA, Status: "working", Heartbeat: at}},
		Messages: []Message{
			{ID: 1, From: SessionA, ActionType: "info", Body: "line one\n\"quoted\"", Files: []string{"a.go"}, CreatedAt: at, ReadAt: at.Add(time.Second)},
			{ID: 2, From: SessionB, ActionType: "question", Body: "", CreatedAt: at.Add(time.Minute), System: true},
		},
		Audit: []AuditEntry{{Seq: 7, At: at, Tool: "send_to_partner", Session: "a", Outcome: OutcomeOK, Digest: "d"}},
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, snap, at); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); !strings.Contains(first, `"format":"agent-bridge-conversation"`) || !strings.Contains(first, `"version":1`) {
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

func TestReadSnapshotRefusesWithTheLine(t *testing.T) {
	header := `{"type":"header","format":"agent-bridge-conversation","version":1}` + "\n"
	for _, c := range []struct{ in, want string }{
		{"", "empty file"},
		{`{"type":"conversation"}` + "\n", "line 1: not an agent-bridge export"},
		{`{"type":"header","format":"agent-bridge-conversation","version":9}` + "\n", "version 9"},
		{header + "not json\n", "line 2"},
		{header + `{"type":"message","message_id":1}` + "\n", "line 2: message without text"},
		{header + `{"type":"status","heartbeat":"yesterday"}` + "\n", "line 2: heartbeat"},
		{header + `{"type":"mystery"}` + "\n", `unknown line type "mystery"`},
		{header, "no conversation line"},
	} {
		if _, err := ReadSnapshot(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}
