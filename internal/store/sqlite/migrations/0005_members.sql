-- Teams (#19): a conversation has 2 to 32 members instead of two fixed
-- sessions. Member ids are no longer only 'a' and 'b', so every table that
-- checked that is rebuilt without the check (SQLite cannot drop a CHECK).
-- Foreign keys are checked at commit, after every table is in place.
PRAGMA defer_foreign_keys = ON;

-- members replaces statuses. generation is folded into the member's token
-- (0 = the original derivation, which the two seats of every existing
-- conversation keep); left_at set = left or removed, token refused at once.
-- unread is maintained by every delivery and every take.
CREATE TABLE members (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	member_id       TEXT    NOT NULL,
	role            TEXT    NOT NULL,
	generation      INTEGER NOT NULL,
	status          TEXT    NOT NULL,
	heartbeat       INTEGER,          -- NULL until the member's first call
	joined_at       INTEGER NOT NULL,
	left_at         INTEGER,          -- NULL while a member
	unread          INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation_id, member_id)
) STRICT, WITHOUT ROWID; -- a conversation's members share a page: a broadcast's counters are one write

-- Invites: only a keyed hash of the one-time code is stored.
CREATE TABLE invites (
	code_hash       TEXT    PRIMARY KEY,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	member_id       TEXT    NOT NULL, -- '' when the joiner chooses
	role            TEXT    NOT NULL,
	created_by      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	redeemed_at     INTEGER,
	redeemed_by     TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX invites_conversation ON invites (conversation_id);
-- Open invites only: a join counts a conversation's seats without reading
-- the invites already redeemed.
CREATE INDEX invites_open ON invites (conversation_id) WHERE redeemed_at IS NULL;

-- Messages get a recipient ('*' = every other member) and the id of the
-- message they answer; read_at moves to one inbox row per recipient.
CREATE TABLE messages_v5 (
	id              INTEGER PRIMARY KEY,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	sender          TEXT    NOT NULL,
	recipient       TEXT    NOT NULL,
	reply_to        INTEGER,
	action_type     TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	files           TEXT    NOT NULL, -- JSON array of strings
	created_at      INTEGER NOT NULL,
	system          INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE inbox (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	message_id      INTEGER NOT NULL,
	member_id       TEXT    NOT NULL,
	read_at         INTEGER,          -- NULL while unread
	-- Clustered by message: a broadcast's rows share a page or two.
	PRIMARY KEY (conversation_id, message_id, member_id)
) STRICT, WITHOUT ROWID;
-- Unread rows only: check_messages stays flat however many have been read,
-- and the index stays small while members keep up.
CREATE INDEX inbox_unread ON inbox (conversation_id, member_id, message_id) WHERE read_at IS NULL;

-- Every existing conversation has the two original seats, generation 0,
-- so their tokens keep working. Status and heartbeat come from statuses.
INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread)
SELECT c.id, s.member_id, CASE s.member_id WHEN 'a' THEN c.role_a ELSE c.role_b END, 0,
       coalesce(st.status, 'unknown'), st.heartbeat, c.created_at, NULL,
       (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.sender <> s.member_id AND m.read_at IS NULL)
FROM conversations c
CROSS JOIN (SELECT 'a' AS member_id UNION ALL SELECT 'b') s
LEFT JOIN statuses st ON st.conversation_id = c.id AND st.session = s.member_id;

INSERT INTO messages_v5 (id, conversation_id, sender, recipient, reply_to, action_type, body, files, created_at, system)
SELECT id, conversation_id, sender, CASE sender WHEN 'a' THEN 'b' ELSE 'a' END, NULL, action_type, body, files, created_at, system
FROM messages;

INSERT INTO inbox (conversation_id, member_id, message_id, read_at)
SELECT conversation_id, CASE sender WHEN 'a' THEN 'b' ELSE 'a' END, id, read_at FROM messages;

DROP TABLE messages;
ALTER TABLE messages_v5 RENAME TO messages;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
DROP TABLE statuses;

CREATE TABLE endpoints_v5 (
	workdir         TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL,
	seen_at         INTEGER NOT NULL,
	PRIMARY KEY (workdir, conversation_id, session)
) STRICT;
INSERT INTO endpoints_v5 SELECT workdir, conversation_id, session, seen_at FROM endpoints;
DROP TABLE endpoints;
ALTER TABLE endpoints_v5 RENAME TO endpoints;
CREATE INDEX endpoints_conversation ON endpoints (conversation_id);

CREATE TABLE silences_v5 (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL,
	heartbeat       INTEGER NOT NULL,
	reported_at     INTEGER NOT NULL,
	ended_at        INTEGER,
	PRIMARY KEY (conversation_id, session, heartbeat)
) STRICT;
INSERT INTO silences_v5 SELECT conversation_id, session, heartbeat, reported_at, ended_at FROM silences;
DROP TABLE silences;
ALTER TABLE silences_v5 RENAME TO silences;

CREATE TABLE approvals_v5 (
	id              TEXT    PRIMARY KEY,
	kind            TEXT    NOT NULL CHECK (kind IN ('enable', 'command')),
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL,
	mode            TEXT    NOT NULL,
	workspace       TEXT    NOT NULL,
	timeout_ms      INTEGER NOT NULL,
	sandbox         INTEGER NOT NULL,
	command         TEXT    NOT NULL,
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
INSERT INTO approvals_v5 SELECT id, kind, conversation_id, session, mode, workspace, timeout_ms, sandbox, command,
	command_hash, enablement_id, origin, state, reason, decided_by, created_at, decided_at, used_at, expires_at FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_v5 RENAME TO approvals;
CREATE INDEX approvals_session ON approvals (conversation_id, session, kind, state);
CREATE INDEX approvals_state ON approvals (state, created_at);
