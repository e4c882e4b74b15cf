-- Messages written by the bridge itself (watchdog notices): delivered to
-- the partner of `sender` like any message, shown as coming from the bridge.
ALTER TABLE messages ADD COLUMN system INTEGER NOT NULL DEFAULT 0;

-- Silence episodes reported by watchdogs. An episode is named by the last
-- heartbeat before the silence, so several watchdogs report it once.
CREATE TABLE silences (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	session         TEXT    NOT NULL CHECK (session IN ('a', 'b')),
	heartbeat       INTEGER NOT NULL,
	reported_at     INTEGER NOT NULL,
	ended_at        INTEGER,
	PRIMARY KEY (conversation_id, session, heartbeat)
) STRICT;
