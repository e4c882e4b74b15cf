package bridge_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
	"github.com/agent-bridge/agent-bridge/internal/store/postgres"
	"github.com/agent-bridge/agent-bridge/internal/store/sqlite"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// journaled is a service whose read-only calls wait in its journal until
// Flush (the delay is an hour), with the store it writes, so that a test
// sees what is stored and what is not.
func journaled(t *testing.T, tune func(*bridge.Config)) (*bridge.Service, bridge.Store, *time.Time) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	return journaledOn(t, db, tune)
}

func journaledOn(t *testing.T, db bridge.Store, tune func(*bridge.Config)) (*bridge.Service, bridge.Store, *time.Time) {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cfg := bridge.DefaultConfig()
	cfg.Now = func() time.Time { return now }
	cfg.JournalDelay = time.Hour
	if tune != nil {
		tune(&cfg)
	}
	var key token.Key
	key[0] = 7
	svc := bridge.NewService(db, key, nil, cfg, nil)
	t.Cleanup(func() { svc.Close() })
	return svc, db, &now
}

// eachStore runs fn on a new SQLite store and, when
// AGENT_BRIDGE_TEST_POSTGRES names a server, on a new PostgreSQL database.
func eachStore(t *testing.T, fn func(t *testing.T, db bridge.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "b.db"))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("AGENT_BRIDGE_TEST_POSTGRES")
		if base == "" {
			t.Skip("set AGENT_BRIDGE_TEST_POSTGRES to run on PostgreSQL too")
		}
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 6)
		rand.Read(b)
		name := "agent_bridge_test_" + hex.EncodeToString(b)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			admin.Close(ctx)
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		db, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, db)
	})
}

// stored returns the tools of the stored audit rows, in order.
func stored(t *testing.T, db bridge.Store) []string {
	t.Helper()
	var tools []string
	err := db.View(context.Background(), func(tx bridge.Tx) error {
		rows, err := tx.Audit(bridge.AuditFilter{})
		for _, r := range rows {
			tool := r.Tool
			if r.Outcome != bridge.OutcomeOK {
				tool += ":" + string(r.ErrorKind)
			}
			tools = append(tools, tool)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tools
}

func storedEvents(t *testing.T, db bridge.Store, c bridge.Caller) int {
	t.Helper()
	var n int
	err := db.View(context.Background(), func(tx bridge.Tx) error {
		ts, err := tx.RequestTimes(c.ConversationID+"/"+string(c.Session), time.Time{})
		n = len(ts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func journalPair(t *testing.T, svc *bridge.Service) (a, b bridge.Caller) {
	t.Helper()
	c, err := svc.CreateConversation(context.Background(), "backend", "frontend")
	if err != nil {
		t.Fatal(err)
	}
	return bridge.Caller{ConversationID: c.Conversation.ID, Session: "a", Token: c.TokenA},
		bridge.Caller{ConversationID: c.Conversation.ID, Session: "b", Token: c.TokenB}
}

// A status query, a peek, a history page and a check that finds nothing
// write nothing when they run; Flush stores their audit rows, in call
// order, and the chain verifies.
func TestReadOnlyCallsAreAuditedWhenFlushed(t *testing.T) {
	ctx := context.Background()
	svc, db, _ := journaled(t, nil)
	a, _ := journalPair(t, svc)
	before := stored(t, db)
	if _, err := svc.PartnerStatus(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, in := range []bridge.CheckInput{{}, {Peek: true}, {History: true}} {
		if _, err := svc.CheckMessages(ctx, a, in); err != nil {
			t.Fatal(err)
		}
	}
	bad := a
	bad.Token = a.Token[:63] + "0"
	if bad.Token == a.Token {
		bad.Token = a.Token[:63] + "1"
	}
	if _, err := svc.PartnerStatus(ctx, bad); bridge.KindOf(err) != bridge.EUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	if got := stored(t, db); len(got) != len(before) {
		t.Fatalf("read-only calls wrote audit rows at once: %v", got[len(before):])
	}
	if n := storedEvents(t, db, a); n != 0 {
		t.Fatalf("read-only calls stored %d rate events at once", n)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := stored(t, db)[len(before):]
	want := []string{"check_partner_status", "check_messages", "check_messages", "check_messages", "check_partner_status:unauthorized"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit rows after flush %v, want %v", got, want)
	}
	if n := storedEvents(t, db, a); n != 4 {
		t.Fatalf("%d rate events stored, want 4 (the refusal takes none)", n)
	}
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// A write of the conversation carries the rows its read-only calls
// queued, before its own; Close writes the rest.
func TestWriteCarriesQueuedRowsAndCloseFlushes(t *testing.T) {
	ctx := context.Background()
	svc, db, _ := journaled(t, nil)
	a, b := journalPair(t, svc)
	other, _ := journalPair(t, svc)
	before := len(stored(t, db))
	if _, err := svc.PartnerStatus(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PartnerStatus(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "hello"}); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, db)[before:]; fmt.Sprint(got) != "[check_partner_status send_to_partner]" {
		t.Fatalf("after the send: %v", got)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, db)[before:]; fmt.Sprint(got) != "[check_partner_status send_to_partner check_partner_status]" {
		t.Fatalf("after Close: %v", got)
	}
	// After Close, a read-only call is written at once.
	if _, err := svc.PartnerStatus(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, db)[before:]; len(got) != 4 {
		t.Fatalf("a call after Close: %v", got)
	}
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// The limit counts queued events: read-only and write calls share it
// exactly, before and after the flush; another process sees the events
// once they are stored.
func TestRateLimitCountsQueuedEvents(t *testing.T) {
	eachStore(t, testRateLimitCountsQueuedEvents)
}

func testRateLimitCountsQueuedEvents(t *testing.T, db bridge.Store) {
	ctx := context.Background()
	limits := func(c *bridge.Config) { c.SessionLimits = []limit.Window{{Max: 3, Period: time.Minute}} }
	svc, db, _ := journaledOn(t, db, limits)
	a, b := journalPair(t, svc)
	for i := 0; i < 2; i++ {
		if _, err := svc.PartnerStatus(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "third"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PartnerStatus(ctx, a); bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("fourth call (read-only): %v", err)
	}
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "fourth"}); bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("fourth call (write): %v", err)
	}
	if _, err := svc.PartnerStatus(ctx, b); err != nil {
		t.Fatalf("the other member has its own limit: %v", err)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, db, a); n != 3 {
		t.Fatalf("%d events stored, want 3", n)
	}
	var key token.Key
	key[0] = 7
	cfg := bridge.DefaultConfig()
	limits(&cfg)
	cfg.Now = svc.Config().Now
	other := bridge.NewService(db, key, nil, cfg, nil)
	defer other.Close()
	if _, err := other.PartnerStatus(ctx, a); bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("another process after the flush: %v", err)
	}
}

// A member's heartbeat is written at most once a second, by writes and by
// read-only calls alike; this process reports its queued heartbeats.
func TestHeartbeatsCoalesced(t *testing.T) {
	ctx := context.Background()
	svc, db, now := journaled(t, nil)
	a, b := journalPair(t, svc)
	beat := func() time.Time {
		var m bridge.Membership
		err := db.View(ctx, func(tx bridge.Tx) (err error) { m, err = tx.Member(a.ConversationID, "a"); return err })
		if err != nil {
			t.Fatal(err)
		}
		return m.Heartbeat
	}
	t0 := *now
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "one"}); err != nil {
		t.Fatal(err)
	}
	*now = t0.Add(500 * time.Millisecond)
	if _, err := svc.Send(ctx, a, bridge.SendInput{Message: "two"}); err != nil {
		t.Fatal(err)
	}
	if got := beat(); !got.Equal(t0) {
		t.Fatalf("heartbeat %v after a second write within a second, want %v", got, t0)
	}
	*now = t0.Add(1500 * time.Millisecond)
	if _, err := svc.PartnerStatus(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := beat(); !got.Equal(t0) {
		t.Fatalf("a read-only call wrote the heartbeat at once: %v", got)
	}
	st, err := svc.PartnerStatus(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Heartbeat != t0.Add(1500*time.Millisecond) {
		t.Fatalf("this process reports %v, want its queued heartbeat", st.Heartbeat)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := beat(); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Fatalf("heartbeat %v after the flush", got)
	}
}

// Many goroutines mixing read-only calls, writes and flushes: the limit
// admits exactly its maximum, every call leaves exactly one audit row, and
// the chain verifies. Run with -race.
func TestJournalConcurrentCallsExact(t *testing.T) {
	eachStore(t, testJournalConcurrentCallsExact)
}

func testJournalConcurrentCallsExact(t *testing.T, db bridge.Store) {
	ctx := context.Background()
	const max = 40
	svc, db, _ := journaledOn(t, db, func(c *bridge.Config) {
		c.SessionLimits = []limit.Window{{Max: max, Period: time.Minute}}
		c.JournalDelay = time.Millisecond // flushes race with the calls
	})
	a, b := journalPair(t, svc)
	before := len(stored(t, db))
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				var err error
				switch (g + i) % 4 {
				case 0:
					_, err = svc.PartnerStatus(ctx, a)
				case 1:
					_, err = svc.Send(ctx, a, bridge.SendInput{Message: "x"})
				case 2:
					_, err = svc.CheckMessages(ctx, a, bridge.CheckInput{Peek: true})
				default:
					_, err = svc.CheckMessages(ctx, a, bridge.CheckInput{})
					if ferr := svc.Flush(ctx); ferr != nil {
						t.Error(ferr)
					}
				}
				switch {
				case err == nil:
					ok.Add(1)
				case bridge.KindOf(err) == bridge.ERateLimited:
					limited.Add(1)
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := svc.CheckMessages(ctx, b, bridge.CheckInput{}); err != nil { // b takes what a sent
		t.Fatal(err)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ok.Load() != max || limited.Load() != 80-max {
		t.Fatalf("%d admitted, %d limited", ok.Load(), limited.Load())
	}
	if n := storedEvents(t, db, a); n != max {
		t.Fatalf("%d rate events stored, want exactly %d", n, max)
	}
	// Every call of a (80, flushes aside) and b's check.
	if rows := stored(t, db)[before:]; len(rows) != 80+1 {
		t.Fatalf("%d audit rows, want 81", len(rows))
	}
	rep, err := svc.VerifyAudit(ctx, "")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// Rate-limit events older than the longest window are deleted by the
// member's first call and then at most once a minute, not on every call;
// the limit counts only the window either way.
func TestOldRateEventsForgottenOnceAMinute(t *testing.T) {
	ctx := context.Background()
	svc, db, now := journaled(t, func(c *bridge.Config) {
		c.SessionLimits = []limit.Window{{Max: 2, Period: time.Minute}}
	})
	a, _ := journalPair(t, svc)
	t0 := *now
	send := func(at time.Duration) error {
		*now = t0.Add(at)
		_, err := svc.Send(ctx, a, bridge.SendInput{Message: "hi"})
		return err
	}
	for _, at := range []time.Duration{0, 30 * time.Second} {
		if err := send(at); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(40 * time.Second); bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("third send in a minute: %v, want rate limited", err)
	}
	// 65 s: a minute after the first delete, the event at 0 goes.
	if err := send(65 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, db, a); n != 2 {
		t.Fatalf("%d events stored at 65 s, want 2 (30 s, 65 s)", n)
	}
	// 100 s: the event at 30 s is past the window, stored but not
	// counted (a delete is due only at 125 s).
	if err := send(100 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, db, a); n != 3 {
		t.Fatalf("%d events stored at 100 s, want 3 (30 s, 65 s, 100 s)", n)
	}
	if err := send(110 * time.Second); bridge.KindOf(err) != bridge.ERateLimited {
		t.Fatalf("a send at 110 s after 65 s and 100 s: %v, want rate limited", err)
	}
	// 126 s: the events before 66 s go.
	if err := send(126 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, db, a); n != 2 {
		t.Fatalf("%d events stored at 126 s, want 2 (100 s, 126 s)", n)
	}
}
