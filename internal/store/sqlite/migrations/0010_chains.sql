-- One audit chain per conversation plus the global chain '' (#14.3), and
-- row MACs (#13.6). Rows written before this version become the global
-- chain's prefix and keep their digests. Messages, members and invites get
-- a MAC under the bridge's key; the rows there are now have none, so a
-- mark asks the first process that opens the database with the key to seal
-- them once (and record that in the global chain): from then on a row
-- without a MAC was written outside agent-bridge.
CREATE TABLE audit_v8 (
	chain           TEXT    NOT NULL, -- '' for the global chain, else a conversation id
	seq             INTEGER NOT NULL, -- 1, 2, ... within the chain
	at              INTEGER NOT NULL,
	tool            TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL,
	session         TEXT    NOT NULL,
	outcome         TEXT    NOT NULL,
	error_kind      TEXT    NOT NULL,
	detail          TEXT    NOT NULL,
	refs            TEXT    NOT NULL, -- rows the row vouches for, one per line (m:ID, ...)
	prev_digest     TEXT    NOT NULL,
	digest          TEXT    NOT NULL,
	PRIMARY KEY (chain, seq)
) STRICT; -- the rowid keeps the order rows were written in, across chains, for listing
INSERT INTO audit_v8 (chain, seq, at, tool, conversation_id, session, outcome, error_kind, detail, refs, prev_digest, digest)
SELECT '', seq, at, tool, conversation_id, session, outcome, error_kind, detail, '', prev_digest, digest FROM audit ORDER BY seq;
DROP TABLE audit;
ALTER TABLE audit_v8 RENAME TO audit;

ALTER TABLE messages ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE invites ADD COLUMN mac TEXT NOT NULL DEFAULT '';

CREATE TABLE legacy_seal (
	one INTEGER PRIMARY KEY CHECK (one = 1)
) STRICT;
INSERT INTO legacy_seal (one)
SELECT 1 WHERE EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM members) OR EXISTS (SELECT 1 FROM invites);
