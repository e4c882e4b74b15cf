-- YOLO mode: a person's consent to enable command execution for a session,
-- or to run one exact command. Kept here, not in a process's memory, so
-- every process serving a session sees the same enablements. No code and no
-- token is stored: codes live only in the asking terminal or client, and
-- approval tokens are HMACs of the id, recomputed when presented.
CREATE TABLE approvals (
	id              TEXT    PRIMARY KEY,
	kind            TEXT    NOT NULL CHECK (kind IN ('enable', 'command')),
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL CHECK (session IN ('a', 'b')),
	mode            TEXT    NOT NULL,
	workspace       TEXT    NOT NULL,
	timeout_ms      INTEGER NOT NULL,
	sandbox         INTEGER NOT NULL,
	command         TEXT    NOT NULL, -- redacted, as shown to the person
	command_hash    TEXT    NOT NULL,
	enablement_id   TEXT    NOT NULL,
	origin          TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	reason          TEXT    NOT NULL,
	decided_by      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	decided_at      INTEGER,
	used_at         INTEGER,
	expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX approvals_session ON approvals (conversation_id, session, kind, state);
CREATE INDEX approvals_state ON approvals (state, created_at);
