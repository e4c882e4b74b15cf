package bridge

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies an Error. It is also the error kind of audit rows.
type ErrorKind string

const (
	EInvalid      ErrorKind = "invalid"      // an argument breaks a rule
	EUnauthorized ErrorKind = "unauthorized" // the token does not match
	ENotFound     ErrorKind = "not_found"    // no such conversation
	EExpired      ErrorKind = "expired"      // the conversation has expired
	ERateLimited  ErrorKind = "rate_limited" // a rate limit window is full
	ETooLarge     ErrorKind = "too_large"    // a field exceeds its size limit
	ECancelled    ErrorKind = "cancelled"    // the caller went away; nothing was delivered
	EInternal     ErrorKind = "internal"     // a bug or a storage failure
)

// Error is an error the caller can act on. Message is written for the
// caller (often a model): what was wrong, the rule, what to do next. It never
// contains a token, a key or a secret.
type Error struct {
	Kind       ErrorKind
	Message    string
	RetryAfter time.Duration // for ERateLimited
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// InternalMessage is what callers are told about an unexpected failure.
const InternalMessage = "internal error; nothing was stored. Retry once; if it fails again, tell the person running agent-bridge to check its log."

// KindOf returns the kind of err, EInternal for errors that are not *Error.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// MessageOf returns the caller-facing text of err: the Error's message, or a
// generic message for anything unexpected (whose details belong in the log).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return InternalMessage
}
