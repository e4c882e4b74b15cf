-- HTTP sessions ended by DELETE /mcp, so every node sharing the store
-- answers 404 for them. Only a keyed digest of the session id is kept,
-- never the id, until the id would have expired anyway (cleanup removes
-- the row then).
CREATE TABLE ended_sessions (
    digest     TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);
