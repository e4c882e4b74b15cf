package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
)

// commitWhat names the commit step: a connection lost there leaves the
// outcome unknown, unlike anywhere before it.
const commitWhat = "commit"

// storeError is a driver failure that callers can act on: errors.As finds
// the *bridge.Error with the caller's message (no SQL, no driver text),
// while Error() keeps the driver's error for the log.
type storeError struct {
	caller *bridge.Error
	cause  error
}

func (e *storeError) Error() string   { return e.caller.Message + " (" + e.cause.Error() + ")" }
func (e *storeError) Unwrap() []error { return []error{e.caller, e.cause} }

// translate turns a driver error met while doing `what` into the error
// callers see. It is the one place that knows PostgreSQL's error codes:
// unique violations, serialisation failures and lost connections become
// *bridge.Error (through storeError); anything else stays a storage failure
// wrapped with what was being done. closed tells whether the transaction's
// connection is gone (pgx closes it on any fatal error).
func translate(what string, err error, closed bool) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	isPg := errors.As(err, &pgErr)
	cause := fmt.Errorf("%s: %w", what, err)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return cause // the caller gave up; pgx closed the connection for it
	case isPg && pgErr.Code == "23505": // unique_violation
		return &storeError{bridge.Errorf(bridge.EInvalid,
			"%s: a row with the same key already exists (%s); nothing was stored", what, pgErr.ConstraintName), cause}
	case isPg && (pgErr.Code == "40001" || pgErr.Code == "40P01"): // serialization_failure, deadlock_detected
		return &storeError{bridge.Errorf(bridge.EInternal,
			"the database could not order this write with a concurrent one while %s; nothing was stored. Retry.", what), cause}
	case errors.As(err, new(*pgconn.ConnectError)):
		return &storeError{bridge.Errorf(bridge.EInternal,
			"the bridge cannot connect to its PostgreSQL database; nothing was stored. Retry in a moment; if it keeps failing, tell the person running agent-bridge to check the database server and the URL."), cause}
	case connectionLost(err, pgErr, closed) && what == commitWhat:
		return &storeError{bridge.Errorf(bridge.EInternal,
			"the bridge lost its connection to PostgreSQL while committing: the change may or may not have been stored. Check before retrying; if it keeps failing, tell the person running agent-bridge to check the database server."), cause}
	case connectionLost(err, pgErr, closed):
		return &storeError{bridge.Errorf(bridge.EInternal,
			"the bridge lost its connection to PostgreSQL (while %s); nothing was stored. Retry in a moment; if it keeps failing, tell the person running agent-bridge to check the database server.", what), cause}
	}
	return cause
}

// connectionLost reports whether err means the server cannot be reached or
// dropped the connection.
func connectionLost(err error, pgErr *pgconn.PgError, closed bool) bool {
	if pgErr != nil {
		// Class 08: connection exception; 57P01-03: the server is shutting
		// down or starting, or an administrator ended the session.
		return len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return closed ||
		errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}
