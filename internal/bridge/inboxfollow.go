package bridge

import "sync"

// A front that pushes new messages to its client as they arrive (Claude
// Code's channel events) follows a member's inbox. While a check_messages
// wait of the same process waits for that member, the wait takes what
// arrives, and a push would only repeat it: the follower asks whether the
// waits' takes covered every change it saw before it reads the inbox
// itself. An agent that waits in a loop then costs one read per message,
// not two.

// follows is the process's registry of inbox waits and followers, per
// conversation/member. An entry lives while either uses it.
type follows struct {
	mu sync.Mutex
	m  map[string]*follow
}

type follow struct {
	waits     int           // check_messages waits running
	ended     chan struct{} // closed when the last of them ends
	followers int
	seen      uint64 // changes a follower saw
	covered   uint64 // the most of them a take read after
}

func followKey(conv string, m Member) string { return conv + "/" + string(m) }

// get returns key's entry, making it; the caller holds f.mu.
func (f *follows) get(key string) *follow {
	if f.m == nil {
		f.m = map[string]*follow{}
	}
	e := f.m[key]
	if e == nil {
		e = &follow{}
		f.m[key] = e
	}
	return e
}

// release drops key's entry once nothing uses it; the caller holds f.mu.
func (f *follows) release(key string, e *follow) {
	if e.waits == 0 && e.followers == 0 && f.m[key] == e {
		delete(f.m, key)
	}
}

// waitBegins records a check_messages wait for key; call the result when
// it ends.
func (f *follows) waitBegins(key string) (end func()) {
	f.mu.Lock()
	e := f.get(key)
	if e.waits == 0 {
		e.ended = make(chan struct{})
	}
	e.waits++
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if e.waits--; e.waits == 0 {
			close(e.ended)
			e.ended = nil
		}
		f.release(key, e)
	}
}

// taking records that a wait's take for key reads the inbox now: it sees
// every change a follower has seen so far (those were committed before it).
func (f *follows) taking(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.m[key]; e != nil {
		e.covered = e.seen
	}
}

// InboxFollow is one follower of a member's inbox (see FollowInbox).
type InboxFollow struct {
	f   *follows
	key string
	e   *follow
}

// FollowInbox starts following member's inbox in conversation; Close it
// when done.
func (s *Service) FollowInbox(conversationID string, member Member) *InboxFollow {
	key := followKey(conversationID, member)
	s.follows.mu.Lock()
	defer s.follows.mu.Unlock()
	e := s.follows.get(key)
	e.followers++
	return &InboxFollow{f: &s.follows, key: key, e: e}
}

// Changed records that the follower saw the inbox change. It returns nil
// when no check_messages wait of this process waits for the member, and
// otherwise a channel closed when the last such wait ends.
func (i *InboxFollow) Changed() <-chan struct{} {
	i.f.mu.Lock()
	defer i.f.mu.Unlock()
	i.e.seen++
	if i.e.waits == 0 {
		return nil
	}
	return i.e.ended
}

// Covered reports whether waits' takes read the inbox after every change
// the follower saw: then there is nothing new for it to read.
func (i *InboxFollow) Covered() bool {
	i.f.mu.Lock()
	defer i.f.mu.Unlock()
	return i.e.covered == i.e.seen
}

// Close ends the follow.
func (i *InboxFollow) Close() {
	i.f.mu.Lock()
	defer i.f.mu.Unlock()
	i.e.followers--
	i.f.release(i.key, i.e)
}
