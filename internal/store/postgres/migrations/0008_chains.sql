-- One audit chain per conversation plus the global chain '' (#14.3), and
-- row MACs (#13.6), as SQLite's migration 0008. Rows written before this
-- version become the global chain's prefix and keep their digests. Writers
-- of different conversations now run at once, so message ids come from a
-- sequence instead of max(id)+1. Messages, members and invites get a MAC
-- under the bridge's key; the rows there are now have none, so a mark asks
-- the first process that opens the database with the key to seal them
-- once (and record that in the global chain): from then on a row without
-- a MAC was written outside agent-bridge.
ALTER TABLE audit ADD COLUMN chain text NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN refs text NOT NULL DEFAULT '';
ALTER TABLE audit DROP CONSTRAINT audit_pkey;
ALTER TABLE audit ADD PRIMARY KEY (chain, seq);
-- id keeps the order rows were written in, across chains, for listing.
CREATE SEQUENCE audit_id_seq AS bigint;
ALTER TABLE audit ADD COLUMN id bigint;
UPDATE audit SET id = seq;
SELECT setval('audit_id_seq', coalesce((SELECT max(seq) FROM audit), 0) + 1, false);
ALTER TABLE audit ALTER COLUMN id SET DEFAULT nextval('audit_id_seq');
ALTER TABLE audit ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX audit_id ON audit (id);
DROP INDEX IF EXISTS audit_conversation;
CREATE INDEX audit_conversation ON audit (conversation_id, id);

CREATE SEQUENCE messages_id_seq AS bigint;
SELECT setval('messages_id_seq', coalesce((SELECT max(id) FROM messages), 0) + 1, false);

ALTER TABLE messages ADD COLUMN mac text NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN mac text NOT NULL DEFAULT '';
ALTER TABLE invites ADD COLUMN mac text NOT NULL DEFAULT '';

CREATE TABLE legacy_seal (
	one boolean PRIMARY KEY DEFAULT true CHECK (one)
);
INSERT INTO legacy_seal (one)
SELECT true WHERE EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM members) OR EXISTS (SELECT 1 FROM invites);
