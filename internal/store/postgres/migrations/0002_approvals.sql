-- YOLO mode: a person's consent to enable command execution for a session,
-- or to run one exact command (SQLite's migration 0004). Kept here, not in
-- a process's memory, so every process on every node serving a session sees
-- the same enablements. No code and no token is stored: codes live only in
-- the asking terminal or client, and approval tokens are HMACs of the id,
-- recomputed when presented.
CREATE TABLE approvals (
	id              text        PRIMARY KEY,
	kind            text        NOT NULL CHECK (kind IN ('enable', 'command')),
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         text        NOT NULL CHECK (session IN ('a', 'b')),
	mode            text        NOT NULL,
	workspace       text        NOT NULL,
	timeout_ms      bigint      NOT NULL,
	sandbox         boolean     NOT NULL,
	command         text        NOT NULL, -- redacted, as shown to the person
	command_hash    text        NOT NULL,
	enablement_id   text        NOT NULL,
	origin          text        NOT NULL,
	state           text        NOT NULL,
	reason          text        NOT NULL,
	decided_by      text        NOT NULL,
	created_at      timestamptz NOT NULL,
	decided_at      timestamptz,
	used_at         timestamptz,
	expires_at      timestamptz NOT NULL
);
CREATE INDEX approvals_session ON approvals (conversation_id, session, kind, state);
CREATE INDEX approvals_state ON approvals (state, created_at);
