// Package limit decides rate limits from stored request times.
//
// Limits must hold across every process sharing a database and across
// restarts, so the state lives in the store as a log of accepted request
// times per subject; this package is the pure decision over that log
// (a sliding window per limit), used by every store so the rule exists once.
package limit

import (
	"fmt"
	"time"
)

// Window allows at most Max requests in any period of length Period.
// Max 0 turns the window off.
type Window struct {
	Max    int
	Period time.Duration
}

// Name describes the window for people: "10 requests per minute".
func (w Window) Name() string {
	return fmt.Sprintf("%d requests per %s", w.Max, periodName(w.Period))
}

func periodName(d time.Duration) string {
	switch d {
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

// Decision is the outcome of Decide.
type Decision struct {
	Allowed bool
	Window  Window    // the exceeded window when not allowed
	RetryAt time.Time // earliest time the request would be allowed
}

// Horizon is how far back the log must reach for these windows; older
// entries can be pruned.
func Horizon(ws []Window) time.Duration {
	var h time.Duration
	for _, w := range ws {
		if w.Max > 0 && w.Period > h {
			h = w.Period
		}
	}
	return h
}

// Decide reports whether one more request at now fits every window, given
// the times of earlier accepted requests in ascending order. When several
// windows are exceeded it names the one that keeps the caller waiting longest.
func Decide(now time.Time, ws []Window, past []time.Time) Decision {
	d := Decision{Allowed: true}
	for _, w := range ws {
		if w.Max <= 0 || w.Period <= 0 {
			continue
		}
		// Requests inside (now-Period, now].
		start := now.Add(-w.Period)
		i := len(past)
		for i > 0 && past[i-1].After(start) {
			i--
		}
		inWindow := past[i:]
		if len(inWindow) < w.Max {
			continue
		}
		// Allowed again once all but Max-1 of them have left the window.
		retry := inWindow[len(inWindow)-w.Max].Add(w.Period)
		if d.Allowed || retry.After(d.RetryAt) {
			d = Decision{Allowed: false, Window: w, RetryAt: retry}
		}
	}
	return d
}
