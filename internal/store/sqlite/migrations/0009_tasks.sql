-- Tasks and file leases (#17). Both carry a MAC over every field under the
-- bridge's key (computed by the service): a row written or changed without
-- the key is reported by audit --verify and never acted on.
CREATE TABLE tasks (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	id              INTEGER NOT NULL,          -- 1, 2, ... per conversation
	title           TEXT    NOT NULL,
	description     TEXT    NOT NULL,
	files           TEXT    NOT NULL,          -- JSON array of strings
	created_by      TEXT    NOT NULL,
	assignee        TEXT    NOT NULL DEFAULT '', -- '' while open
	state           TEXT    NOT NULL,
	note            TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	reassigned_for  INTEGER,                   -- heartbeat of the silence episode that reopened it
	mac             TEXT    NOT NULL,
	PRIMARY KEY (conversation_id, id)
) STRICT, WITHOUT ROWID;
-- Listing by state and the reassignment check read only what they need.
CREATE INDEX tasks_state ON tasks (conversation_id, state, id);
CREATE INDEX tasks_assignee ON tasks (conversation_id, assignee, id);

CREATE TABLE leases (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	id              INTEGER NOT NULL,
	member_id       TEXT    NOT NULL,
	pattern         TEXT    NOT NULL,          -- cleaned, repository-relative
	exclusive       INTEGER NOT NULL,
	task_id         INTEGER,                   -- NULL when tied to no task
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	mac             TEXT    NOT NULL,
	PRIMARY KEY (conversation_id, id)
) STRICT, WITHOUT ROWID;
-- Live leases are a range of this index; cleanup deletes its prefix.
CREATE INDEX leases_expiry ON leases (expires_at);
CREATE INDEX leases_task ON leases (conversation_id, task_id) WHERE task_id IS NOT NULL;

-- A conversation's reassignment threshold, when it set one.
CREATE TABLE task_settings (
	conversation_id   TEXT    PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
	reassign_after_ms INTEGER NOT NULL
) STRICT;
