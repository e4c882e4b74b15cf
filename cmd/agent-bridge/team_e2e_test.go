package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// An orchestrator invites four workers; each joins in its own process.
// The orchestrator never sees a worker's token; a broadcast reaches each
// worker exactly once; a direct message only its addressee; a removed
// worker is refused at once in its own process; a redeemed code is refused.
func TestTeamOfFiveAcrossProcesses(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	orch := launch(t, home, home, nil, db)
	// Everything the orchestrator's client receives (text and structured
	// content) goes into its transcript.
	var transcript strings.Builder
	rec := func(name string, args map[string]any) map[string]any {
		t.Helper()
		res, err := orch.call(name, args)
		if err != nil || res.IsError {
			t.Fatalf("orchestrator %s: %v %v", name, err, res)
		}
		raw, _ := json.Marshal(res)
		transcript.Write(raw)
		var m map[string]any
		raw = res.RawStructuredContent
		if len(raw) == 0 {
			raw, _ = json.Marshal(res.StructuredContent)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	created := rec("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true, "partner_id": "worker-1"})
	if created["session_b_token"] != nil || created["invite_code"] == nil {
		t.Fatalf("invite shape: %v", created)
	}
	conv := created["conversation_id"].(string)
	me := session{conv, "", created["session_a_token"].(string)}
	codes := []string{created["invite_code"].(string)}
	for i := 2; i <= 4; i++ {
		inv := rec("invite_member", me.args(map[string]any{"role": "worker", "member_id": fmt.Sprintf("worker-%d", i)}))
		codes = append(codes, inv["invite_code"].(string))
	}

	workers := make([]*proc, 4)
	sessions := make([]session, 4)
	for i, code := range codes {
		workers[i] = launch(t, home, home, nil, db)
		j := workers[i].ok("join_conversation", map[string]any{"invite_code": code})
		if j["member_id"] != fmt.Sprintf("worker-%d", i+1) || j["conversation_id"] != conv {
			t.Fatalf("join %d: %v", i+1, j)
		}
		sessions[i] = session{conv, "", j["token"].(string)}
	}
	// A redeemed code is refused, in any process.
	res, err := workers[3].call("join_conversation", map[string]any{"invite_code": codes[0]})
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "already used") {
		t.Fatalf("redeemed code: %v %v", res, err)
	}

	if sent := rec("send_to_partner", me.args(map[string]any{"message": "plan: split the work", "to": "all"})); sent["to"] != "all" {
		t.Fatalf("broadcast: %v", sent)
	}
	if direct := rec("send_to_partner", me.args(map[string]any{"message": "worker-3 only", "to": "worker-3"})); direct["to"] != "worker-3" {
		t.Fatalf("direct: %v", direct)
	}
	for i, w := range workers {
		got := bodies(w, sessions[i])
		want := []string{"plan: split the work"}
		if i == 2 {
			want = append(want, "worker-3 only")
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("worker-%d received %q, want %q", i+1, got, want)
		}
		if again := bodies(w, sessions[i]); len(again) != 0 {
			t.Fatalf("worker-%d received %q twice", i+1, again)
		}
	}
	if team := rec("check_partner_status", me.args(nil)); len(team["members"].([]any)) != 5 {
		t.Fatalf("team view: %v", team)
	}

	// The orchestrator removes worker-2; worker-2's own process is refused
	// on its very next call.
	if removed := rec("leave_conversation", me.args(map[string]any{"member_id": "worker-2"})); removed["removed"] != true {
		t.Fatalf("remove: %v", removed)
	}
	res, err = workers[1].call("check_messages", sessions[1].args(nil))
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "no longer in conversation") {
		t.Fatalf("removed worker: %v %v", res, err)
	}

	for i, s := range sessions {
		if strings.Contains(transcript.String(), s.token) {
			t.Fatalf("the orchestrator's transcript holds worker-%d's token", i+1)
		}
	}
	if !strings.Contains(transcript.String(), me.token) {
		t.Fatal("the transcript check saw nothing (the orchestrator's own token is missing)")
	}
}

// serve --require-invites (or AGENT_BRIDGE_REQUIRE_INVITES) refuses the
// original both-tokens shape of create_conversation.
func TestRequireInvitesFlag(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	for _, p := range []*proc{
		launch(t, home, home, nil, "serve", "--db", db, "--require-invites"),
		launch(t, home, home, []string{"AGENT_BRIDGE_REQUIRE_INVITES=true"}, "serve", "--db", db),
	} {
		res, err := p.call("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker"})
		if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "requires invites") {
			t.Fatalf("original shape: %v %v", res, err)
		}
		p.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true})
	}
}

// The CLI shows members, addresses, and one member's token on request.
func TestCLIShowsMembers(t *testing.T) {
	home, db := t.TempDir(), filepath.Join(t.TempDir(), "b.db")
	p := launch(t, home, home, nil, db)
	created := p.ok("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "reviewer", "invite": true})
	conv := created["conversation_id"].(string)
	lead := session{conv, "", created["session_a_token"].(string)}
	j := launch(t, home, home, nil, db).ok("join_conversation", map[string]any{"invite_code": created["invite_code"]})
	inv := p.ok("invite_member", lead.args(map[string]any{"role": "tester", "member_id": "qa"}))
	launch(t, home, home, nil, db).ok("join_conversation", map[string]any{"invite_code": inv["invite_code"]})
	p.ok("send_to_partner", lead.args(map[string]any{"message": "hello team", "to": "all"}))

	out, _, code := runCLI(t, home, "show", conv, "--db", db)
	for _, want := range []string{"member b (reviewer)", "member qa (tester)", "#1 a -> all"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: %d %q", want, code, out)
		}
	}
	out, _, _ = runCLI(t, home, "list", "--json", "--db", db)
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || len(list[0]["members"].([]any)) != 3 {
		t.Fatalf("list --json: %v %q", err, out)
	}
	out, stderr, code := runCLI(t, home, "tokens", conv, "b", "--db", db)
	if code != 0 || !strings.Contains(out, j["token"].(string)) || strings.Contains(out, lead.token) || !strings.Contains(stderr, "warning") {
		t.Fatalf("tokens ID b: %d %q %q", code, out, stderr)
	}
}

// The same team over Streamable HTTP, on two nodes sharing a store (SQLite,
// and PostgreSQL when AGENT_BRIDGE_TEST_POSTGRES is set): workers join and
// read on either node; a removal on one node is refused on the other at
// once.
func TestHTTPTeamAcrossNodes(t *testing.T) {
	eachStore(t, func(t *testing.T, st storeKind) {
		nodes := []*node{startNode(t, st), startNode(t, st)}
		orch := nodes[0].dial()
		var transcript strings.Builder
		rec := func(name string, args map[string]any) map[string]any {
			t.Helper()
			res, err := orch.call(name, args)
			if err != nil || res.IsError {
				t.Fatalf("orchestrator %s: %v %v", name, err, res)
			}
			raw, _ := json.Marshal(res)
			transcript.Write(raw)
			return structuredOf(t, res)
		}
		created := rec("create_conversation", map[string]any{"my_role": "orchestrator", "partner_role": "worker", "invite": true, "partner_id": "worker-1"})
		conv := created["conversation_id"].(string)
		me := session{conv, "", created["session_a_token"].(string)}
		codes := []string{created["invite_code"].(string)}
		for i := 2; i <= 4; i++ {
			codes = append(codes, rec("invite_member", me.args(map[string]any{"role": "worker", "member_id": fmt.Sprintf("worker-%d", i)}))["invite_code"].(string))
		}
		workers := make([]*proc, 4)
		sessions := make([]session, 4)
		for i, code := range codes {
			workers[i] = nodes[(i+1)%2].dial()
			j := workers[i].ok("join_conversation", map[string]any{"invite_code": code})
			sessions[i] = session{conv, "", j["token"].(string)}
		}
		if res, err := workers[0].call("join_conversation", map[string]any{"invite_code": codes[3]}); err != nil || !res.IsError {
			t.Fatalf("a redeemed code over HTTP: %v %v", res, err)
		}
		rec("send_to_partner", me.args(map[string]any{"message": "to everyone", "to": "all"}))
		rec("send_to_partner", me.args(map[string]any{"message": "to worker-4", "to": "worker-4"}))
		for i, w := range workers {
			want := []string{"to everyone"}
			if i == 3 {
				want = append(want, "to worker-4")
			}
			if got := bodies(w, sessions[i]); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("worker-%d received %q, want %q", i+1, got, want)
			}
			if again := bodies(w, sessions[i]); len(again) != 0 {
				t.Fatalf("worker-%d received %q twice", i+1, again)
			}
		}
		rec("leave_conversation", me.args(map[string]any{"member_id": "worker-1"})) // worker-1 is on node 2
		res, err := workers[0].call("send_to_partner", sessions[0].args(map[string]any{"message": "still here?", "to": "a"}))
		if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "no longer in conversation") {
			t.Fatalf("a removed worker on the other node: %v %v", res, err)
		}
		for i, s := range sessions {
			if strings.Contains(transcript.String(), s.token) {
				t.Fatalf("the orchestrator's transcript holds worker-%d's token", i+1)
			}
		}
	})
}
