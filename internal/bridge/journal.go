package bridge

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/agent-bridge/agent-bridge/internal/limit"
)

// The journal holds what read-only calls of this process must still write:
// their audit rows, rate-limit events, heartbeats and endpoints (see
// reads.go and docs/design.md section 3, "Reads stay reads"). It is written
// in one transaction within Config.JournalDelay of the first queued record
// (a flush), earlier by any write of this process in the same conversation
// (which carries them in its own transaction), and at Close.
//
// Rate limits stay exact within the process: a decision counts the stored
// events plus every event this process admitted that no commit has stored
// yet ("unseen"). An event leaves unseen in the same critical section in
// which its commit lands, so a decision never counts it twice or not at
// all: decisions read the store holding their conversation's stripe for
// reading; a commit that stores unseen events holds the stripes of their
// conversations for writing from just before its commit until they are
// forgotten.
type journal struct {
	stripes [64]sync.RWMutex
	flushMu sync.Mutex // one flush at a time

	mu       sync.Mutex
	pending  []record               // queued, carried by no transaction
	unseen   map[string][]time.Time // admitted events no commit has stored, per subject
	touched  map[string]time.Time   // the last heartbeat queued, per conversation/member
	timer    *time.Timer            // armed while pending is not empty
	failures int                    // flushes failed in a row
	closed   bool
}

// record is what one read-only call leaves to write: an audit row (tool ""
// for none), and optionally a rate-limit event, a heartbeat and an
// endpoint.
type record struct {
	at     time.Time
	conv   string
	sess   Session
	tool   string
	err    error
	detail string

	admitted string    // subject whose event this record holds in unseen ("" for none)
	subject  string    // rate event to store ("" for none)
	forget   time.Time // the subject's events before this are forgotten
	touch    time.Time // heartbeat to record (zero for none)
	endpoint *Endpoint
}

// heartbeatEvery coalesces heartbeats: a member whose stored (or queued)
// heartbeat is younger than this is not touched again.
const heartbeatEvery = time.Second

// maxPending is how many records may wait; the call that queues more
// flushes before it returns.
const maxPending = 4096

func (j *journal) stripe(conv string) int {
	h := fnv.New32a()
	h.Write([]byte(conv))
	return int(h.Sum32() % uint32(len(j.stripes)))
}

// admit decides whether subject may make one more request at now, counting
// past (the stored events, read while holding the subject's stripe) and the
// process's unseen events; an admitted request is unseen from here on.
// Events in stored are in past already (a transaction that carried them
// reads its own writes): they are not counted twice.
func (j *journal) admit(subject string, ws []limit.Window, now time.Time, past []time.Time, stored []record) limit.Decision {
	j.mu.Lock()
	defer j.mu.Unlock()
	if u := j.unseen[subject]; len(u) > 0 {
		u = slices.Clone(u)
		for _, r := range stored {
			if r.admitted != subject {
				continue
			}
			if i := slices.IndexFunc(u, r.at.Equal); i >= 0 {
				u = slices.Delete(u, i, i+1)
			}
		}
		past = slices.Concat(past, u)
		slices.SortFunc(past, func(a, b time.Time) int { return a.Compare(b) })
	}
	d := limit.Decide(now, ws, past)
	if d.Allowed {
		if j.unseen == nil {
			j.unseen = map[string][]time.Time{}
		}
		j.unseen[subject] = append(j.unseen[subject], now)
	}
	return d
}

// forgetLocked drops one unseen event of subject at `at`.
func (j *journal) forgetLocked(subject string, at time.Time) {
	u := j.unseen[subject]
	for i, t := range u {
		if t.Equal(at) {
			u = slices.Delete(u, i, i+1)
			break
		}
	}
	if len(u) == 0 {
		delete(j.unseen, subject)
	} else {
		j.unseen[subject] = u
	}
}

func (j *journal) forget(events []event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range events {
		j.forgetLocked(e.subject, e.at)
	}
}

// event is an admitted rate-limit event.
type event struct {
	subject, conv string
	at            time.Time
}

// lockStripes takes the stripes of convs for writing, in ascending order
// (so two commits never wait for each other crosswise), and returns the
// function that releases them.
func (j *journal) lockStripes(convs []string) func() {
	idx := make([]int, 0, len(convs))
	for _, c := range convs {
		idx = append(idx, j.stripe(c))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		j.stripes[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			j.stripes[i].Unlock()
		}
	}
}

// carry takes the queued records of conversation conv, for a write of that
// conversation to store in its own transaction.
func (j *journal) carry(conv string) []record {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []record
	keep := j.pending[:0]
	for _, r := range j.pending {
		// A refusal may land in the global chain, whose lock must come
		// before the conversation's: the next flush writes it.
		if r.conv == conv && r.err == nil {
			out = append(out, r)
		} else {
			keep = append(keep, r)
		}
	}
	clear(j.pending[len(keep):])
	j.pending = keep
	return out
}

// settle ends the life of records a transaction carried: stored, their
// events leave unseen; not stored, they wait again, before anything queued
// since.
func (j *journal) settle(rs []record, stored bool) {
	if len(rs) == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if stored {
		for _, r := range rs {
			if r.admitted != "" {
				j.forgetLocked(r.admitted, r.at)
			}
		}
		return
	}
	j.pending = append(slices.Clone(rs), j.pending...)
}

// chain is the lock a record's writes need first: its conversation's, or
// the global chain's for a refusal (which lands there when the
// conversation does not exist) and a record naming no valid conversation.
func (r record) chain() string {
	if r.err != nil || !ValidConversationID(r.conv) {
		return ""
	}
	return r.conv
}

// writeRecords stores rs in tx, in order, each under its conversation's
// lock (Tx.Lock), taken before any of its writes: rs must be in ascending
// order of their conversations, after the global chain's lock if any
// record needs it.
func (s *Service) writeRecords(tx Tx, rs []record) error {
	for _, r := range rs {
		if ValidConversationID(r.conv) {
			if err := tx.Lock(r.conv); err != nil {
				return err
			}
		}
		// What a record writes raises the topics the same write raises
		// outside the journal, so watchers (status, console, hooks) see it.
		if !r.touch.IsZero() {
			if err := tx.Touch(r.conv, r.sess, r.touch); err != nil {
				return err
			}
			tx.Signal(ConversationTopic(r.conv))
		}
		if r.endpoint != nil {
			if err := tx.SeeEndpoint(*r.endpoint); err != nil {
				return err
			}
			tx.Signal(EndpointsTopic)
		}
		if r.subject != "" {
			if err := tx.AddRequest(r.subject, r.conv, r.at, r.forget); err != nil {
				return err
			}
		}
		if r.tool != "" {
			if err := s.appendAudit(tx, r.at, r.tool, r.conv, r.sess, r.err, r.detail); err != nil {
				return err
			}
			callTopics(tx, r.conv)
		}
	}
	return nil
}

// queue adds r to the journal and makes sure it is written within the
// delay (at once when the delay is zero, the journal is closed, or too many
// records wait).
func (s *Service) queue(r record) {
	j := &s.jr
	j.mu.Lock()
	if !r.touch.IsZero() {
		key := r.conv + "/" + string(r.sess)
		if t, ok := j.touched[key]; ok && r.touch.Sub(t) < heartbeatEvery && !r.touch.Before(t) {
			r.touch = time.Time{} // queued already: one heartbeat write a second
		} else {
			if j.touched == nil {
				j.touched = map[string]time.Time{}
			}
			j.touched[key] = r.touch
		}
	}
	if r.tool == "" && r.touch.IsZero() && r.subject == "" && r.endpoint == nil {
		j.mu.Unlock()
		return // nothing left to write
	}
	j.pending = append(j.pending, r)
	now := j.closed || s.cfg.JournalDelay <= 0 || len(j.pending) >= maxPending
	if !now && j.timer == nil {
		j.timer = time.AfterFunc(s.cfg.JournalDelay, s.flushLater)
	}
	j.mu.Unlock()
	if now {
		if err := s.Flush(context.Background()); err != nil {
			s.log.Error("write journal", "err", err)
		}
	}
}

func (s *Service) flushLater() {
	s.jr.mu.Lock()
	s.jr.timer = nil
	s.jr.mu.Unlock()
	if err := s.Flush(context.Background()); err != nil {
		s.log.Error("write journal", "err", err)
	}
}

// Flush writes what read-only calls of this process queued (their audit
// rows, rate-limit events and heartbeats) in one transaction. The
// service flushes on its own within Config.JournalDelay; Close flushes
// too. Commands that read the audit trail flush first.
func (s *Service) Flush(ctx context.Context) error {
	j := &s.jr
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	batch := j.pending
	j.pending = nil
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
	}
	for k, t := range j.touched { // older ones no longer coalesce anything
		if len(batch) == 0 || batch[len(batch)-1].at.Sub(t) >= heartbeatEvery {
			delete(j.touched, k)
		}
	}
	j.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	// Grouped by conversation (in call order within each), so that a
	// store locking per conversation takes the locks in one order.
	key := func(r record) string {
		if !ValidConversationID(r.conv) {
			return ""
		}
		return r.conv
	}
	sort.SliceStable(batch, func(a, b int) bool { return key(batch[a]) < key(batch[b]) })
	global := slices.ContainsFunc(batch, func(r record) bool { return r.chain() == "" })
	var unlock func()
	err := s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
		if global {
			if err := tx.Lock(""); err != nil {
				return err
			}
		}
		if err := s.writeRecords(tx, batch); err != nil {
			return err
		}
		if unlock == nil {
			unlock = j.lockStripes(recordConvs(batch))
		}
		return nil
	})
	j.settle(batch, err == nil)
	if unlock != nil {
		unlock()
	}
	j.mu.Lock()
	if err == nil {
		j.failures = 0
	} else if !j.closed && j.timer == nil && s.cfg.JournalDelay > 0 {
		// Try again, less often while the store keeps failing (up to
		// every half minute): the records wait, and so do their limits.
		j.failures++
		j.timer = time.AfterFunc(s.cfg.JournalDelay<<min(j.failures, 7), s.flushLater)
	}
	j.mu.Unlock()
	return err
}

func recordConvs(rs []record) []string {
	var convs []string
	for _, r := range rs {
		if r.admitted != "" && (len(convs) == 0 || convs[len(convs)-1] != r.conv) {
			convs = append(convs, r.conv)
		}
	}
	return convs
}

// Close writes what the journal holds and stops its timer; records queued
// after Close are written at once. Close the service before its store.
func (s *Service) Close() error {
	s.jr.mu.Lock()
	s.jr.closed = true
	if s.jr.timer != nil {
		s.jr.timer.Stop()
		s.jr.timer = nil
	}
	s.jr.mu.Unlock()
	return s.Flush(context.Background())
}

// update runs fn in a write transaction (Store.Update) that also stores
// the records queued for conversation conv, before fn's own rows, and
// keeps the rate-limit events fn admits unseen until it commits.
func (s *Service) update(ctx context.Context, conv string, fn func(Tx) error, opts ...UpdateOption) error {
	carried := s.jr.carry(conv)
	err := s.updateCarrying(ctx, carried, fn, opts...)
	if ce := (carryError{}); errors.As(err, &ce) {
		// A queued record could not be stored: it waits for the next
		// flush (updateCarrying queued it again), and this call goes on
		// without it.
		s.log.Error("write journal", "err", ce.error)
		return s.updateCarrying(ctx, nil, fn, opts...)
	}
	return err
}

type carryError struct{ error }

// updateCarrying runs fn in a write transaction that first stores carried.
// The carried records and the events fn admits leave the journal (stored)
// or wait again (not stored) before the stripes are released.
func (s *Service) updateCarrying(ctx context.Context, carried []record, fn func(Tx) error, opts ...UpdateOption) error {
	j := &s.jr
	var wtx *writeTx
	var unlock func()
	err := s.store.Update(ctx, func(tx Tx) error {
		if wtx != nil {
			j.forget(wtx.held) // a store that runs fn again
		}
		wtx = &writeTx{Tx: tx, j: j, carried: carried}
		if err := s.writeRecords(tx, carried); err != nil {
			return carryError{err}
		}
		if err := fn(wtx); err != nil {
			return err
		}
		convs := recordConvs(carried)
		for _, e := range wtx.held {
			convs = append(convs, e.conv)
		}
		if len(convs) > 0 && unlock == nil {
			unlock = j.lockStripes(convs)
		}
		return nil
	}, opts...)
	if wtx != nil {
		j.forget(wtx.held)
	}
	j.settle(carried, err == nil)
	if unlock != nil {
		unlock()
	}
	return err
}

// writeTx is the transaction update hands its function: decisions in it
// count the process's unseen events, and the events it admits stay unseen
// until it ends.
type writeTx struct {
	Tx
	j       *journal
	held    []event
	carried []record // written by this transaction before fn
}

// admit decides one request of subject (a rate limit's take), counting the
// process's unseen events when tx is a journaled transaction (writeTx,
// readTx).
func (s *Service) admit(tx LimitTx, subject, conv string, ws []limit.Window, now, since time.Time) (limit.Decision, error) {
	j := &s.jr
	if st, ok := tx.(*sealTx); ok {
		tx = st.Tx // sealing wraps the journal's transaction
	}
	switch t := tx.(type) {
	case *writeTx:
		st := &j.stripes[j.stripe(conv)]
		st.RLock()
		defer st.RUnlock()
		past, err := tx.RequestTimes(subject, since)
		if err != nil {
			return limit.Decision{}, err
		}
		d := j.admit(subject, ws, now, past, t.carried)
		if d.Allowed {
			t.held = append(t.held, event{subject: subject, conv: conv, at: now})
		}
		return d, nil
	case *readTx:
		// callRead holds the conversation's stripe for the whole view.
		past, err := tx.RequestTimes(subject, since)
		if err != nil {
			return limit.Decision{}, err
		}
		d := j.admit(subject, ws, now, past, nil)
		if d.Allowed {
			t.rec.admitted = subject
		}
		return d, nil
	}
	past, err := tx.RequestTimes(subject, since)
	if err != nil {
		return limit.Decision{}, err
	}
	return limit.Decide(now, ws, past), nil
}

// beat returns the later of a member's stored heartbeat and the one this
// process queued for it, so that this process never reports a member
// older than its own calls show it.
func (j *journal) beat(conv string, m Member, stored time.Time) time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	if t, ok := j.touched[conv+"/"+string(m)]; ok && t.After(stored) {
		return t
	}
	return stored
}
