package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxFrame is the largest stdio frame (one JSON-RPC message, one line) the
// server reads, the stdio twin of the HTTP front's DefaultMaxBody. The
// transport would otherwise buffer a line of any length: a 400 MB frame
// once took 1.9 GB of memory. A message of the largest size allowed is far
// below it.
const MaxFrame = DefaultMaxBody

// oversized is the method of the stand-in request that replaces a frame
// over the limit; refuseOversized answers it with an error the client can
// read under its request's id.
const oversized = "agent-bridge/frame-too-large"

// frameLimiter passes stdin through line by line, but replaces a line
// longer than max with a small stand-in request carrying the original id
// (when the id comes early enough to be read), so the client is told why
// instead of waiting for an answer that never comes. It holds at most max
// bytes of any line.
type frameLimiter struct {
	r       *bufio.Reader
	max     int
	line    []byte // the line being read, up to max bytes
	out     []byte // bytes ready for Read
	discard bool   // inside a line over the limit
	size    int    // bytes of the current line so far
}

func newFrameLimiter(r io.Reader, max int) *frameLimiter {
	return &frameLimiter{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

func (f *frameLimiter) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		chunk, err := f.r.ReadSlice('\n')
		f.size += len(chunk)
		switch {
		case f.discard:
		case f.size > f.max:
			f.discard = true
		default:
			f.line = append(f.line, chunk...)
		}
		full := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if full || (err != nil && !errors.Is(err, bufio.ErrBufferFull)) {
			f.finishLine()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && len(f.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

func (f *frameLimiter) finishLine() {
	if f.discard {
		f.out = standIn(f.line, f.size, f.max)
	} else {
		f.out = f.line
	}
	f.line, f.size, f.discard = f.line[:0:0], 0, false
}

// standIn builds the request that replaces an oversized frame whose first
// bytes are prefix.
func standIn(prefix []byte, size, max int) []byte {
	req := map[string]any{"jsonrpc": "2.0", "method": oversized,
		"params": map[string]any{"size": size, "max": max}}
	if id, ok := leadingID(prefix); ok {
		req["id"] = id
	}
	b, _ := json.Marshal(req)
	return append(b, '\n')
}

// leadingID finds the top-level "id" of a JSON object of which only the
// first bytes are known, if it comes before the object is cut off.
func leadingID(prefix []byte) (json.RawMessage, bool) {
	d := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		if k == "id" && (len(v) > 0 && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
			return v, true
		}
	}
	return nil, false
}

// refuseMalformed answers, with an invalid-request error (-32600) that
// says what to change, the stand-in for an oversized frame and a message
// with an id but no method, which is neither a request nor a response
// (mcp-go would answer "method not found").
func refuseMalformed(_ context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var m struct {
		Method *string `json:"method"`
		Params struct{ Size, Max int }
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	if m.Method == nil {
		return errors.New("invalid request: a message with an id needs a method (a request) or a result or error (a response)")
	}
	if *m.Method != oversized {
		return nil
	}
	return fmt.Errorf("request refused: it is %d bytes and a message to agent-bridge may be at most %d bytes; nothing was done. Send less text (a message holds at most 50,000 characters) or split it", m.Params.Size, m.Params.Max)
}
