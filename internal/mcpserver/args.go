package mcpserver

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// A param describes one tool argument. The same description produces the
// input schema a client sees and the binder that reads the call, so the two
// cannot drift apart. Rules that need the store or the key (token validity,
// expiry, limits) stay in the service.
type param struct {
	name     string
	desc     string
	kind     string // "string" (when empty), "array" (of strings), "integer" or "boolean"
	required bool
	enum     []string
	def      any
	pattern  string
	minLen   int // characters; 0 = none
	maxLen   int // characters (per item for arrays); 0 = none
	maxItems int
	min, max int // integers: inclusive bounds; both 0: none here (the service checks)
	format   string
}

func (p param) schema() map[string]any {
	s := map[string]any{}
	if p.desc != "" {
		s["description"] = p.desc
	}
	switch p.kind {
	case "integer":
		s["type"] = "integer"
		if p.min != 0 || p.max != 0 { // 0, 0: the service checks the range
			s["minimum"], s["maximum"] = p.min, p.max
		}
	case "boolean":
		s["type"] = "boolean"
	default:
		str := map[string]any{"type": "string"}
		if len(p.enum) > 0 {
			str["enum"] = p.enum
		}
		if p.pattern != "" {
			str["pattern"] = p.pattern
		}
		if p.format != "" {
			str["format"] = p.format
		}
		if p.minLen > 0 {
			str["minLength"] = p.minLen
		}
		if p.maxLen > 0 {
			str["maxLength"] = p.maxLen
		}
		if p.kind == "array" {
			s["type"], s["items"] = "array", str
			if p.maxItems > 0 {
				s["maxItems"] = p.maxItems
			}
		} else {
			for k, v := range str {
				s[k] = v
			}
		}
	}
	if p.def != nil {
		s["default"] = p.def
	}
	return s
}

// inputSchema returns the JSON Schema of a tool's arguments.
func inputSchema(params []param) json.RawMessage {
	props := map[string]any{}
	required := []string{}
	for _, p := range params {
		props[p.name] = p.schema()
		if p.required {
			required = append(required, p.name)
		}
	}
	b, err := json.Marshal(map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	})
	if err != nil {
		panic(err) // static data
	}
	return b
}

// callerParams are the arguments every call after create or join takes.
// They are described fully once, in the server's instructions; each
// schema carries a short reminder.
func callerParams() []param {
	return []param{
		{name: "conversation_id", required: true, pattern: bridge.ConversationIDPattern},
		{name: "token", required: true, pattern: "^[0-9a-f]{64}$", desc: "Yours; secret."},
		{name: "session_id", pattern: bridge.MemberIDPattern, desc: "Optional."},
	}
}

// args reads a tool call's arguments against its params. The first problem
// is kept; later reads return zero values.
type args struct {
	tool   string
	params []param
	raw    map[string]any
	err    error
}

func newArgs(tool string, params []param, raw any) *args {
	a := &args{tool: tool, params: params}
	switch v := raw.(type) {
	case map[string]any:
		a.raw = v
	case nil:
		a.raw = map[string]any{}
	default:
		a.fail("arguments must be a JSON object with the fields %s", a.names())
		a.raw = map[string]any{}
	}
	for name := range a.raw {
		if a.param(name) == nil {
			a.fail("unknown argument %q: %s accepts %s", name, tool, a.names())
			break
		}
	}
	return a
}

func (a *args) names() string {
	n := make([]string, len(a.params))
	for i, p := range a.params {
		n[i] = p.name
		if !p.required {
			n[i] += " (optional)"
		}
	}
	return strings.Join(n, ", ")
}

func (a *args) param(name string) *param {
	for i := range a.params {
		if a.params[i].name == name {
			return &a.params[i]
		}
	}
	return nil
}

func (a *args) fail(format string, v ...any) {
	if a.err == nil {
		a.err = bridge.Errorf(bridge.EInvalid, format, v...)
	}
}

// Err returns the first problem found.
func (a *args) Err() error { return a.err }

// lookup returns the raw value of name; absent and JSON null are the same.
func (a *args) lookup(name string) (any, bool) {
	v, ok := a.raw[name]
	return v, ok && v != nil
}

// String reads a string argument. Rules a service also checks with more
// context (lengths, enums of the business rules) are left to it; the binder
// checks only presence and type, and the shape of caller fields.
func (a *args) String(name string) string {
	p := a.param(name)
	v, ok := a.lookup(name)
	if !ok {
		if p.required {
			a.fail("missing required argument %s: %s", name, p.desc)
		}
		def, _ := p.def.(string)
		return def
	}
	s, ok := v.(string)
	if !ok {
		a.fail("%s must be a string; got %s", name, jsonType(v))
		return ""
	}
	return s
}

// Strings reads an array-of-strings argument.
func (a *args) Strings(name string) []string {
	p := a.param(name)
	v, ok := a.lookup(name)
	if !ok {
		if p.required {
			a.fail("missing required argument %s: %s", name, p.desc)
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail("%s must be an array of strings; got %s", name, jsonType(v))
		return nil
	}
	out := make([]string, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			a.fail("%s[%d] must be a string; got %s", name, i, jsonType(item))
			return nil
		}
		out[i] = s
	}
	return out
}

// Int reads an integer argument and checks its bounds.
func (a *args) Int(name string) int {
	p := a.param(name)
	v, ok := a.lookup(name)
	if !ok {
		if p.required {
			a.fail("missing required argument %s: %s", name, p.desc)
		}
		def, _ := p.def.(int)
		return def
	}
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case json.Number:
		f, ok = 0, false
		if x, err := n.Float64(); err == nil {
			f, ok = x, true
		}
	default:
		ok = false
	}
	if !ok || f != math.Trunc(f) {
		a.fail("%s must be a whole number; got %s", name, jsonType(v))
		return 0
	}
	if (p.min != 0 || p.max != 0) && (f < float64(p.min) || f > float64(p.max)) {
		a.fail("%s must be %d to %d; got %v", name, p.min, p.max, f)
		return 0
	}
	return int(f)
}

// Bool reads a boolean argument.
func (a *args) Bool(name string) bool {
	p := a.param(name)
	v, ok := a.lookup(name)
	if !ok {
		if p.required {
			a.fail("missing required argument %s: %s", name, p.desc)
		}
		def, _ := p.def.(bool)
		return def
	}
	b, ok := v.(bool)
	if !ok {
		a.fail("%s must be true or false; got %s", name, jsonType(v))
	}
	return b
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// withInput declares a tool's arguments (replacing NewTool's empty schema).
func withInput(params []param) mcp.ToolOption {
	return func(t *mcp.Tool) {
		t.InputSchema = mcp.ToolInputSchema{}
		t.RawInputSchema = inputSchema(params)
	}
}
