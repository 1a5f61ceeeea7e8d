-- The same change as PostgreSQL's, in SQLite's words.
-- An idempotency key keeps its request's answer as one opaque value that
-- the HTTP adapter encodes. NULL while the first request runs. Keys of the
-- last 24 hours are forgotten once, at this upgrade.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    answer       BLOB,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
