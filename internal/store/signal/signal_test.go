package signal

import (
	"slices"
	"sync"
	"testing"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestRaiseWakesOnlyItsTopics(t *testing.T) {
	var h Hub
	a, stopA := h.Watch("inbox/c1/a")
	b, stopB := h.Watch("inbox/c1/b", "conv/c1")
	defer stopA()
	defer stopB()
	h.Raise("inbox/c2/a")
	if closed(a) || closed(b) {
		t.Fatal("a topic nobody watches woke a waiter")
	}
	h.Raise("conv/c1")
	if closed(a) || !closed(b) {
		t.Fatalf("conv/c1: a woken %v, b woken %v", closed(a), closed(b))
	}
	h.Raise("inbox/c1/a", "inbox/c1/a")
	if !closed(a) {
		t.Fatal("inbox/c1/a did not wake its waiter")
	}
	h.RaiseAll() // waking twice is harmless
}

func TestFirstAndLastFollowWaiters(t *testing.T) {
	var mu sync.Mutex
	var events []string
	h := Hub{
		First: func(topic string) { mu.Lock(); events = append(events, "+"+topic); mu.Unlock() },
		Last:  func(topic string) { mu.Lock(); events = append(events, "-"+topic); mu.Unlock() },
	}
	_, stop1 := h.Watch("x", "y")
	_, stop2 := h.Watch("y")
	stop1()
	stop1() // idempotent
	if got := h.Topics(); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("topics after one stop: %v", got)
	}
	stop2()
	want := []string{"+x", "+y", "-x", "-y"}
	if !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if len(h.Topics()) != 0 {
		t.Fatal("topics left with no waiter")
	}
}

func TestConcurrentWatchRaiseStop(t *testing.T) {
	var h Hub
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, stop := h.Watch("t")
			h.Raise("t")
			<-ch
			stop()
		}()
	}
	wg.Wait()
	if len(h.Topics()) != 0 {
		t.Fatal("a topic outlived its waiters")
	}
}
