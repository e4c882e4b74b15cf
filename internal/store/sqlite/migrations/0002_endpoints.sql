-- Where each session's agent runs: the working directory of the server
-- process that made its calls, so a hook started in the same project can
-- find the agent's conversations. No tokens: hooks are local and trusted.
CREATE TABLE endpoints (
	workdir         TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL CHECK (session IN ('a', 'b')),
	seen_at         INTEGER NOT NULL,
	PRIMARY KEY (workdir, conversation_id, session)
) STRICT;
CREATE INDEX endpoints_conversation ON endpoints (conversation_id);
