package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// batchesUntil is the last protocol version with JSON-RPC batches; later
// versions removed them. A request without the version header speaks
// 2025-03-26, as the Streamable HTTP transport specifies.
const batchesUntil = "2025-03-26"

// shapeOK answers the message shapes mcp-go's HTTP transport gets wrong,
// and reports whether the request should go on to next:
//   - a JSON-RPC batch is served element by element for protocol versions
//     that have batches, and refused with -32600 for later ones (mcp-go
//     answered -32700, "not valid JSON");
//   - a message with an id but no method, result or error is neither a
//     request nor a response: -32600 (mcp-go accepted it as a response).
func shapeOK(w http.ResponseWriter, r *http.Request, body []byte, next http.Handler) bool {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return true
	}
	if trimmed[0] == '[' {
		serveBatch(w, r, trimmed, next)
		return false
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method *string         `json:"method"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(trimmed, &m) != nil {
		return true // mcp-go answers malformed JSON itself
	}
	if len(m.ID) > 0 && string(m.ID) != "null" && m.Method == nil && m.Result == nil && m.Error == nil {
		writeRPCError(w, http.StatusBadRequest, m.ID, "Invalid Request: a message with an id needs a method (a request) or a result or error (a response)")
		return false
	}
	return true
}

func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, msg string) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": id,
		"error": map[string]any{"code": -32600, "message": msg}})
}

func serveBatch(w http.ResponseWriter, r *http.Request, body []byte, next http.Handler) {
	version := r.Header.Get("Mcp-Protocol-Version")
	if version == "" {
		version = batchesUntil
	}
	if version > batchesUntil {
		writeRPCError(w, http.StatusBadRequest, nil, fmt.Sprintf("Invalid Request: protocol version %s has no JSON-RPC batches; send one message per request", version))
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		writeRPCError(w, http.StatusBadRequest, nil, "Parse error: the batch is not a JSON array of messages")
		return
	}
	if len(items) == 0 {
		writeRPCError(w, http.StatusBadRequest, nil, "Invalid Request: an empty batch")
		return
	}
	var out []json.RawMessage
	for _, item := range items {
		rec := httptest.NewRecorder()
		sub := r.Clone(r.Context())
		sub.Body = http.NoBody
		if shapeOK(rec, sub, item, next) {
			sub.Body = readCloser{bytes.NewReader(item)}
			sub.ContentLength = int64(len(item))
			next.ServeHTTP(rec, sub)
		}
		out = append(out, responses(rec)...)
		if sid := rec.Header().Get("Mcp-Session-Id"); sid != "" {
			w.Header().Set("Mcp-Session-Id", sid)
		}
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusAccepted) // only notifications and responses
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// responses extracts the JSON-RPC responses from one recorded answer, sent
// as JSON or as an event stream.
func responses(rec *httptest.ResponseRecorder) []json.RawMessage {
	body := rec.Body.Bytes()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
			return []json.RawMessage{t}
		}
		return nil
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal([]byte(data), &m) == nil && len(m.ID) > 0 && m.Method == "" {
			out = append(out, json.RawMessage(strings.TrimSpace(data)))
		}
	}
	return out
}
