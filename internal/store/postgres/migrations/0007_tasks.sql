-- Tasks and file leases (#17), as SQLite's migration 0008. Both carry a
-- MAC over every field under the bridge's key (computed by the service).
CREATE TABLE tasks (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	id              bigint      NOT NULL,
	title           text        NOT NULL,
	description     text        NOT NULL,
	files           text[]      NOT NULL,
	created_by      text        NOT NULL,
	assignee        text        NOT NULL DEFAULT '',
	state           text        NOT NULL,
	note            text        NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	reassigned_for  timestamptz,
	mac             text        NOT NULL,
	PRIMARY KEY (conversation_id, id)
);
CREATE INDEX tasks_state ON tasks (conversation_id, state, id);
CREATE INDEX tasks_assignee ON tasks (conversation_id, assignee, id);

CREATE TABLE leases (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	id              bigint      NOT NULL,
	member_id       text        NOT NULL,
	pattern         text        NOT NULL,
	exclusive       boolean     NOT NULL,
	task_id         bigint,
	created_at      timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	mac             text        NOT NULL,
	PRIMARY KEY (conversation_id, id)
);
CREATE INDEX leases_expiry ON leases (expires_at);
CREATE INDEX leases_task ON leases (conversation_id, task_id) WHERE task_id IS NOT NULL;

CREATE TABLE task_settings (
	conversation_id   text   PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
	reassign_after_ms bigint NOT NULL
);
