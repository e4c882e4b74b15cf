package bridge

import (
	"context"
	"time"
)

// An origin names where a call came from, as the front knows it: this
// stdio server's process, or an HTTP client's host. Calls made before any
// token exists (create_conversation) are limited per origin, so one agent
// creating conversations in a loop cannot lock every other agent out.
type originKey struct{}

// WithOrigin returns ctx carrying the origin of the calls made with it,
// described for people: "this agent's server process 4242", "host 10.0.0.5".
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

func originOf(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

// RateMemory is how long a store keeps rate-limit events: longer than any
// limit window (the longest is a day), so cleanup forgets older ones, such
// as those of an origin that never calls again.
const RateMemory = 48 * time.Hour
