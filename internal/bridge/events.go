package bridge

import "time"

// Events receives what happens in the service and its fronts, for metrics.
// Calls come after the fact (a rolled-back write reports nothing) and must
// not block; they never carry conversation ids, tokens or text.
type Events interface {
	// ToolCall is one tool call as a front answered it: outcome is
	// OutcomeOK or OutcomeRefused, kind the error kind when refused.
	ToolCall(tool, outcome string, kind ErrorKind, d time.Duration)
	MessagesStored(n int)
	MessagesDelivered(n int)
	Redacted(kind string, n int)
	RateLimited()
	// Woke is how long a message waited between being stored and reaching
	// a check_messages call that was waiting for it.
	Woke(d time.Duration)
}

// noEvents is the Events of a service configured without any.
type noEvents struct{}

func (noEvents) ToolCall(string, string, ErrorKind, time.Duration) {}
func (noEvents) MessagesStored(int)                                {}
func (noEvents) MessagesDelivered(int)                             {}
func (noEvents) Redacted(string, int)                              {}
func (noEvents) RateLimited()                                      {}
func (noEvents) Woke(time.Duration)                                {}

// Events returns where the service reports events (never nil).
func (s *Service) Events() Events { return s.cfg.Events }
