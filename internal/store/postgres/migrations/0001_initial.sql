-- The whole schema of SQLite's migrations 0001 to 0003, in PostgreSQL's
-- types. Times are timestamptz holding whole milliseconds (the store rounds
-- down before writing), so they compare and round-trip exactly as SQLite's
-- Unix milliseconds do.
CREATE TABLE conversations (
	id         text        PRIMARY KEY,
	role_a     text        NOT NULL,
	role_b     text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX conversations_expires_at ON conversations (expires_at);

CREATE TABLE messages (
	-- Assigned max(id)+1 under the write lock, like SQLite's rowid, so an
	-- imported id never collides with a later one.
	id              bigint      PRIMARY KEY,
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	sender          text        NOT NULL CHECK (sender IN ('a', 'b')),
	action_type     text        NOT NULL,
	body            text        NOT NULL,
	files           text[]      NOT NULL,
	created_at      timestamptz NOT NULL,
	read_at         timestamptz,          -- NULL while unread
	-- Written by the bridge itself (watchdog notices): delivered to the
	-- partner of `sender` like any message, shown as coming from the bridge.
	system          boolean     NOT NULL DEFAULT false
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Unread messages only: check_messages stays flat however many have been read.
CREATE INDEX messages_unread ON messages (conversation_id, sender, id) WHERE read_at IS NULL;

CREATE TABLE statuses (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         text        NOT NULL CHECK (session IN ('a', 'b')),
	status          text        NOT NULL,
	heartbeat       timestamptz NOT NULL,
	PRIMARY KEY (conversation_id, session)
);

CREATE TABLE rate_events (
	subject text        NOT NULL,
	at      timestamptz NOT NULL
);
CREATE INDEX rate_events_subject_at ON rate_events (subject, at);

CREATE TABLE audit (
	seq             bigint      PRIMARY KEY,
	at              timestamptz NOT NULL,
	tool            text        NOT NULL,
	conversation_id text        NOT NULL,
	session         text        NOT NULL,
	outcome         text        NOT NULL,
	error_kind      text        NOT NULL,
	detail          text        NOT NULL,
	prev_digest     text        NOT NULL,
	digest          text        NOT NULL
);
CREATE INDEX audit_conversation ON audit (conversation_id, seq);

-- Where each session's agent runs: the working directory of the server
-- process that made its calls, so a hook started in the same project can
-- find the agent's conversations.
CREATE TABLE endpoints (
	workdir         text        NOT NULL,
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         text        NOT NULL CHECK (session IN ('a', 'b')),
	seen_at         timestamptz NOT NULL,
	PRIMARY KEY (workdir, conversation_id, session)
);
CREATE INDEX endpoints_conversation ON endpoints (conversation_id);

-- Silence episodes reported by watchdogs. An episode is named by the last
-- heartbeat before the silence, so several watchdogs report it once.
CREATE TABLE silences (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         text        NOT NULL CHECK (session IN ('a', 'b')),
	heartbeat       timestamptz NOT NULL,
	reported_at     timestamptz NOT NULL,
	ended_at        timestamptz,
	PRIMARY KEY (conversation_id, session, heartbeat)
);
