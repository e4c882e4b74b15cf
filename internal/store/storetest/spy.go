package storetest

import (
	"slices"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// Spy is a bridge.Store that reports every Watch on Watches (buffered; a
// full buffer drops reports), so a test can see what a waiter waits on and
// check, right after a write returns, whether the write woke it: a store
// wakes this process's waiters before Update returns.
type Spy struct {
	bridge.Store
	Watches chan Watched
}

// Watched is one Watch call: its topics, sorted, and its channel.
type Watched struct {
	Topics []string
	Ch     <-chan struct{}
}

// NewSpy wraps s.
func NewSpy(s bridge.Store) *Spy { return &Spy{Store: s, Watches: make(chan Watched, 1024)} }

// Watch watches topics on the wrapped store and reports it.
func (s *Spy) Watch(topics ...string) (<-chan struct{}, func()) {
	ch, stop := s.Store.Watch(topics...)
	w := Watched{Topics: slices.Sorted(slices.Values(topics)), Ch: ch}
	select {
	case s.Watches <- w:
	default:
	}
	return ch, stop
}

// Woken reports whether a watch's channel is closed.
func Woken(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
