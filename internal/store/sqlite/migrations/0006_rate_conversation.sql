-- A rate-limit event names the conversation it belongs to, so cleanup
-- forgets a removed conversation's events without parsing the subject.
-- Events from before this version belong to none and are forgotten by age.
ALTER TABLE rate_events ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
CREATE INDEX rate_events_conversation ON rate_events (conversation_id);
