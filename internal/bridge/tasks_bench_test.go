package bridge_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// countingStore counts write transactions.
type countingStore struct {
	bridge.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(bridge.Tx) error, opts ...bridge.UpdateOption) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn, opts...)
}

func benchService(b *testing.B) (*bridge.Service, *countingStore) {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cs := &countingStore{Store: db}
	cfg := bridge.DefaultConfig()
	cfg.SessionLimits, cfg.CreateLimits, cfg.CreatorLimits = nil, nil, nil
	var key token.Key
	key[0] = 3
	return bridge.NewService(cs, key, nil, cfg, nil), cs
}

func benchTeam(b *testing.B, svc *bridge.Service) (bridge.Caller, bridge.Caller) {
	b.Helper()
	ctx := context.Background()
	c, err := svc.Create(ctx, bridge.CreateInput{MyRole: "orchestrator", PartnerRole: "worker", Invite: true, PartnerID: "w1"})
	if err != nil {
		b.Fatal(err)
	}
	j, err := svc.Join(ctx, c.Invite.Code, "")
	if err != nil {
		b.Fatal(err)
	}
	return bridge.Caller{ConversationID: c.Conversation.ID, Token: c.TokenA}, bridge.Caller{ConversationID: c.Conversation.ID, Token: j.Token}
}

// BenchmarkClaimAndFinish: a claim and a finish each cost one write
// transaction (writes/claim, writes/finish), with their latency.
func BenchmarkClaimAndFinish(b *testing.B) {
	ctx := context.Background()
	svc, cs := benchService(b)
	a, w := benchTeam(b, svc)
	var claims, finishes []time.Duration
	var claimWrites, finishWrites int64
	id := int64(0)
	for b.Loop() {
		b.StopTimer()
		if _, err := svc.CreateTask(ctx, a, bridge.NewTask{Title: "bench task"}); err != nil {
			b.Fatal(err)
		}
		id++
		before := cs.updates.Load()
		b.StartTimer()
		t0 := time.Now()
		if _, err := svc.ClaimTask(ctx, w, id); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		mid := cs.updates.Load()
		if _, err := svc.FinishTask(ctx, w, id, "", "done"); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		claims, finishes = append(claims, t1.Sub(t0)), append(finishes, t2.Sub(t1))
		claimWrites += mid - before
		finishWrites += cs.updates.Load() - mid
	}
	n := float64(len(claims))
	b.ReportMetric(float64(claimWrites)/n, "writes/claim")
	b.ReportMetric(float64(finishWrites)/n, "writes/finish")
	b.ReportMetric(p50ns(claims), "claim-p50-ns")
	b.ReportMetric(p50ns(finishes), "finish-p50-ns")
}

// BenchmarkListTasks1000Vs10 lists the board (the first page, as an agent
// does) of a conversation holding 1,000 tasks and of one holding 10, in
// the same run, alternating; and the caller's own tasks in each.
func BenchmarkListTasks1000Vs10(b *testing.B) {
	ctx := context.Background()
	svc, _ := benchService(b)
	boards := map[int]bridge.Caller{}
	for _, n := range []int{10, 1000} {
		a, w := benchTeam(b, svc)
		for i := range n {
			in := bridge.NewTask{Title: fmt.Sprintf("task %d", i)}
			if i%10 == 0 {
				in.Assignee = "w1"
			}
			if _, err := svc.CreateTask(ctx, a, in); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := svc.CheckMessages(ctx, w, bridge.CheckInput{}); err != nil { // drain the announcements
			b.Fatal(err)
		}
		boards[n] = w
	}
	lat := map[string][]time.Duration{}
	list := func(name string, c bridge.Caller, q bridge.TaskQuery) {
		t0 := time.Now()
		if _, err := svc.ListTasks(ctx, c, q); err != nil {
			b.Fatal(err)
		}
		lat[name] = append(lat[name], time.Since(t0))
	}
	for b.Loop() {
		list("10", boards[10], bridge.TaskQuery{})
		list("1000", boards[1000], bridge.TaskQuery{})
		list("mine10", boards[10], bridge.TaskQuery{Mine: true})
		list("mine1000", boards[1000], bridge.TaskQuery{Mine: true})
	}
	b.ReportMetric(p50ns(lat["10"]), "list10-p50-ns")
	b.ReportMetric(p50ns(lat["1000"]), "list1000-p50-ns")
	b.ReportMetric(p50ns(lat["1000"])/p50ns(lat["10"]), "list-ratio")
	b.ReportMetric(p50ns(lat["mine1000"])/p50ns(lat["mine10"]), "mine-ratio")
}

func p50ns(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[len(s)/2].Nanoseconds())
}
