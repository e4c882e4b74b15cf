package mcpserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/limit"
)

// Refused calls are audited, so without a bound a client sending bad calls
// grows the database without bound (138 calls with a 1 MB bogus argument
// once added 139 MB). Refusals are therefore limited per connection (the
// stdio process, or the HTTP client session) and per remote host: past a
// limit, every call from there is answered "rate limited" at once, touching
// neither the database nor the audit trail, until the window has room.
// Accepted calls are limited per session by the service, in the store. The
// windows are bridge.Config's RefusalLimits and HostRefusalLimits.
//
// refusals keeps the recent refusal times of each connection and host in
// this process's memory: the bound is on what one process writes.
type refusals struct {
	conn, host []limit.Window

	mu    sync.Mutex
	times map[string][]time.Time
	calls int // since the last sweep of idle keys
}

type remoteHostKey struct{}

// withRemoteHost records the HTTP client's host for the refusal limit, and
// as the origin of its calls for the service's per-origin limits.
func withRemoteHost(ctx context.Context, r *http.Request) context.Context {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return bridge.WithOrigin(context.WithValue(ctx, remoteHostKey{}, host), "host "+host)
}

type refusalKey struct {
	key string
	ws  []limit.Window
	who string
}

// keys names the limits a call from ctx counts against.
func (r *refusals) keys(ctx context.Context) []refusalKey {
	out := []refusalKey{{"conn:" + clientSession(ctx), r.conn, "this connection"}}
	if host, ok := ctx.Value(remoteHostKey{}).(string); ok {
		out = append(out, refusalKey{"host:" + host, r.host, "calls from " + host})
	}
	return out
}

// check returns a refusal of tool when ctx's connection or host is over
// its limit.
func (r *refusals) check(ctx context.Context, tool string, now time.Time) *mcp.CallToolResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys(ctx) {
		d := limit.Decide(now, k.ws, r.times[k.key])
		if !d.Allowed {
			wait := max(d.RetryAt.Sub(now).Round(time.Second), time.Second)
			return mcp.NewToolResultError(fmt.Sprintf("%s failed (%s): %s had too many refused calls (at most %s). Fix what the earlier errors named, then retry after %s; calls made until then are refused without being read or recorded.",
				tool, bridge.ERateLimited, k.who, d.Window.Name(), wait))
		}
	}
	return nil
}

// add records one refusal of ctx's connection and host.
func (r *refusals) add(ctx context.Context, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.times == nil {
		r.times = map[string][]time.Time{}
	}
	for _, k := range r.keys(ctx) {
		h := limit.Horizon(k.ws)
		ts := r.times[k.key]
		for len(ts) > 0 && (h == 0 || now.Sub(ts[0]) >= h) {
			ts = ts[1:]
		}
		if h > 0 {
			r.times[k.key] = append(ts, now)
		}
	}
	// Forget keys with nothing left in their windows now and then, so the
	// map holds only connections that refused recently.
	if r.calls++; r.calls >= 1024 {
		r.calls = 0
		for key, ts := range r.times {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= time.Hour {
				delete(r.times, key)
			}
		}
	}
}
