-- Teams (#19), as SQLite's migration 0005: members replace statuses,
-- invites (a keyed hash of the code only), messages get a recipient ('*' =
-- every other member) and reply_to, read_at moves to one inbox row per
-- recipient, and member ids are no longer only 'a' and 'b'.
CREATE TABLE members (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	member_id       text        NOT NULL,
	role            text        NOT NULL,
	generation      integer     NOT NULL,
	status          text        NOT NULL,
	heartbeat       timestamptz,          -- NULL until the member's first call
	joined_at       timestamptz NOT NULL,
	left_at         timestamptz,          -- NULL while a member
	unread          integer     NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation_id, member_id)
);

CREATE TABLE invites (
	code_hash       text        PRIMARY KEY,
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	member_id       text        NOT NULL, -- '' when the joiner chooses
	role            text        NOT NULL,
	created_by      text        NOT NULL,
	created_at      timestamptz NOT NULL,
	expires_at      timestamptz NOT NULL,
	redeemed_at     timestamptz,
	redeemed_by     text        NOT NULL DEFAULT ''
);
CREATE INDEX invites_conversation ON invites (conversation_id);
CREATE INDEX invites_open ON invites (conversation_id) WHERE redeemed_at IS NULL;

CREATE TABLE inbox (
	conversation_id text        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	message_id      bigint      NOT NULL,
	member_id       text        NOT NULL,
	read_at         timestamptz,          -- NULL while unread
	-- Ordered by message: a broadcast's rows sit together in the index.
	PRIMARY KEY (conversation_id, message_id, member_id)
);
CREATE INDEX inbox_unread ON inbox (conversation_id, member_id, message_id) WHERE read_at IS NULL;

INSERT INTO members (conversation_id, member_id, role, generation, status, heartbeat, joined_at, left_at, unread)
SELECT c.id, s.member_id, CASE s.member_id WHEN 'a' THEN c.role_a ELSE c.role_b END, 0,
       coalesce(st.status, 'unknown'), st.heartbeat, c.created_at, NULL,
       (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.sender <> s.member_id AND m.read_at IS NULL)
FROM conversations c
CROSS JOIN (VALUES ('a'), ('b')) AS s (member_id)
LEFT JOIN statuses st ON st.conversation_id = c.id AND st.session = s.member_id;
DROP TABLE statuses;

ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_sender_check;
ALTER TABLE messages ADD COLUMN recipient text;
ALTER TABLE messages ADD COLUMN reply_to bigint;
UPDATE messages SET recipient = CASE sender WHEN 'a' THEN 'b' ELSE 'a' END;
ALTER TABLE messages ALTER COLUMN recipient SET NOT NULL;
INSERT INTO inbox (conversation_id, member_id, message_id, read_at)
SELECT conversation_id, recipient, id, read_at FROM messages;
DROP INDEX IF EXISTS messages_unread;
ALTER TABLE messages DROP COLUMN read_at;

ALTER TABLE endpoints DROP CONSTRAINT IF EXISTS endpoints_session_check;
ALTER TABLE silences DROP CONSTRAINT IF EXISTS silences_session_check;
ALTER TABLE approvals DROP CONSTRAINT IF EXISTS approvals_session_check;
