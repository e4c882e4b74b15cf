package postgres

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agent-bridge/agent-bridge/internal/store/signal"
)

// FallbackInterval is how often waiters re-check when no notification
// came: a safety net for writers that are not agent-bridge, not the way
// changes normally arrive (NOTIFY is transactional and reliable while the
// listening connection lives, and its loss wakes every waiter).
const FallbackInterval = 5 * time.Second

// Reconnect backoff of the listening connection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// notifier wakes waiters when a commit raised a topic they watch.
//
// A write transaction that raised topics runs pg_notify(Channel, topics)
// before it commits (one that raised none notifies nobody), and PostgreSQL
// delivers the notification to every listening session when (and only if)
// the transaction commits, after its changes are visible. The first watch
// starts one dedicated connection that LISTENs on the channel and wakes
// this process's waiters of the topics each payload lists. When that
// connection is lost it wakes every waiter (notifications may be missed
// while nobody listens), and reconnects with backoff; every time LISTEN
// takes effect it wakes them again, so a write that committed before it is
// not slept through. Commits by this process wake its waiters directly,
// and a slow timer covers anything else.
type notifier struct {
	connect func(context.Context) (*pgx.Conn, error)
	where   string // for log messages

	hub signal.Hub // waiters on topics (Store.Watch)

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newNotifier(connect func(context.Context) (*pgx.Conn, error), where string) *notifier {
	n := &notifier{connect: connect, where: where}
	n.hub.First = func(string) { n.mu.Lock(); n.start(); n.mu.Unlock() }
	return n
}

// watch returns a channel closed when a commit on any node raises one of
// topics, starting the listener on first use.
func (n *notifier) watch(topics ...string) (<-chan struct{}, func()) {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		ch := make(chan struct{})
		close(ch)
		return ch, func() {}
	}
	return n.hub.Watch(topics...)
}

// raised wakes this process's waiters on the topics a notification's
// payload lists: one per line, or "*" for all.
func (n *notifier) raised(payload string) {
	if payload == "" {
		return
	}
	if payload == "*" {
		n.hub.RaiseAll()
		return
	}
	n.hub.Raise(strings.Split(payload, "\n")...)
}

// start starts the listener and the fallback timer once; n.mu is held.
func (n *notifier) start() {
	if !n.started && !n.closed {
		n.started = true
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		n.wg.Add(2)
		go n.listen(ctx)
		go n.tick(ctx)
	}
}

// broadcast wakes every waiter: for when notifications may have been lost.
func (n *notifier) broadcast() { n.hub.RaiseAll() }

// close stops the listener and waits for its goroutines to end.
func (n *notifier) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	cancel := n.cancel
	n.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	n.wg.Wait()
	n.broadcast()
}

func (n *notifier) tick(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(FallbackInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.broadcast()
		}
	}
}

// listen keeps one listening connection until ctx is done.
func (n *notifier) listen(ctx context.Context) {
	defer n.wg.Done()
	backoff := minBackoff
	for {
		err := n.session(ctx, func() { backoff = minBackoff })
		if ctx.Err() != nil {
			return
		}
		n.broadcast() // notifications may be lost until we listen again
		slog.Warn("database change listener lost its connection; waiters re-check every few seconds until it is back",
			"db", n.where, "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// session connects, listens and broadcasts each notification until the
// connection fails or ctx is done; listening calls back once LISTEN took
// effect.
func (n *notifier) session(ctx context.Context, listening func()) error {
	conn, err := n.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	n.broadcast() // a write that committed before LISTEN took effect
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		n.raised(msg.Payload)
	}
}
