// Package signal delivers named signals to the waiters of one process.
//
// A store names what each write changed (a member's inbox, a
// conversation, the approvals) as topics and raises them after the commit,
// in its own process directly and in others through its own mechanism
// (files on SQLite, NOTIFY on PostgreSQL). A waiter watches the topics it
// cares about and is woken only by those: an idle process pays nothing for
// other conversations' traffic. The Hub also tells its store when a topic
// gains its first waiter or loses its last, so the store watches across
// processes only what someone here waits on.
package signal

import "sync"

// Hub is the registry of one process's waiters. The zero Hub is ready.
type Hub struct {
	// First and Last, when set, are called (with the hub unlocked, in
	// order per topic) when a topic gains its first waiter and loses its
	// last.
	First, Last func(topic string)

	mu      sync.Mutex
	waiters map[string]map[*waiter]struct{}
	order   sync.Mutex // serialises First/Last calls
}

type waiter struct {
	ch   chan struct{}
	once sync.Once
}

func (w *waiter) wake() { w.once.Do(func() { close(w.ch) }) }

// Watch returns a channel closed at the next Raise of any of topics, and a
// stop function that releases the watch (call it when done, woken or not).
func (h *Hub) Watch(topics ...string) (<-chan struct{}, func()) {
	w := &waiter{ch: make(chan struct{})}
	var first []string
	h.order.Lock()
	h.mu.Lock()
	if h.waiters == nil {
		h.waiters = map[string]map[*waiter]struct{}{}
	}
	for _, t := range topics {
		ws := h.waiters[t]
		if ws == nil {
			ws = map[*waiter]struct{}{}
			h.waiters[t] = ws
			first = append(first, t)
		}
		ws[w] = struct{}{}
	}
	h.mu.Unlock()
	if h.First != nil {
		for _, t := range first {
			h.First(t)
		}
	}
	h.order.Unlock()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			var last []string
			h.order.Lock()
			defer h.order.Unlock()
			h.mu.Lock()
			for _, t := range topics {
				ws := h.waiters[t]
				delete(ws, w)
				if len(ws) == 0 && ws != nil {
					delete(h.waiters, t)
					last = append(last, t)
				}
			}
			h.mu.Unlock()
			if h.Last != nil {
				for _, t := range last {
					h.Last(t)
				}
			}
		})
	}
	return w.ch, stop
}

// Raise wakes the waiters of any of topics.
func (h *Hub) Raise(topics ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range topics {
		for w := range h.waiters[t] {
			w.wake()
		}
	}
}

// RaiseAll wakes every waiter: for when signals may have been lost.
func (h *Hub) RaiseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.waiters {
		for w := range ws {
			w.wake()
		}
	}
}

// Topics returns the topics someone waits on now.
func (h *Hub) Topics() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.waiters))
	for t := range h.waiters {
		out = append(out, t)
	}
	return out
}
