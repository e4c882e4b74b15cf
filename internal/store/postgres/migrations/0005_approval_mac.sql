-- Each approval carries a MAC over its fields under the bridge's key, so
-- an approval written or edited without the key is never honoured. Rows
-- from before this version have none and are refused: a pending request
-- or an enablement made before the upgrade must be asked for again.
ALTER TABLE approvals ADD COLUMN mac text NOT NULL DEFAULT '';
