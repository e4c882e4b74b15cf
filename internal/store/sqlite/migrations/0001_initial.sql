-- Conversations, messages, statuses, rate-limit events, audit trail.
-- Times are Unix milliseconds; STRICT tables make a wrong type an error.
CREATE TABLE conversations (
	id         TEXT    PRIMARY KEY,
	role_a     TEXT    NOT NULL,
	role_b     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_expires_at ON conversations (expires_at);

CREATE TABLE messages (
	id              INTEGER PRIMARY KEY, -- increases within a live conversation
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	sender          TEXT    NOT NULL CHECK (sender IN ('a', 'b')),
	action_type     TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	files           TEXT    NOT NULL, -- JSON array of strings
	created_at      INTEGER NOT NULL,
	read_at         INTEGER           -- NULL while unread
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Unread messages only: check_messages stays flat however many have been read.
CREATE INDEX messages_unread ON messages (conversation_id, sender, id) WHERE read_at IS NULL;

CREATE TABLE statuses (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL CHECK (session IN ('a', 'b')),
	status          TEXT    NOT NULL,
	heartbeat       INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, session)
) STRICT;

CREATE TABLE rate_events (
	subject TEXT    NOT NULL,
	at      INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_events_subject_at ON rate_events (subject, at);

CREATE TABLE audit (
	seq             INTEGER PRIMARY KEY,
	at              INTEGER NOT NULL,
	tool            TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL,
	session         TEXT    NOT NULL,
	outcome         TEXT    NOT NULL,
	error_kind      TEXT    NOT NULL,
	detail          TEXT    NOT NULL,
	prev_digest     TEXT    NOT NULL,
	digest          TEXT    NOT NULL
) STRICT;
