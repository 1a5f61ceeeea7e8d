-- An idempotency key keeps its request's answer as one opaque value that
-- the HTTP adapter encodes (status, headers and body were columns, which
-- put HTTP in the store's contract). NULL while the first request runs.
-- Answers kept in the old shape cannot be re-encoded here: keys of the last
-- 24 hours are forgotten once, at this upgrade.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    DROP COLUMN status,
    DROP COLUMN location,
    DROP COLUMN content_type,
    DROP COLUMN etag,
    DROP COLUMN body,
    ADD COLUMN answer BYTEA;
