-- Entity tags: every write that changes what a client reads of a row
-- increments its version, and conditional writes compare it.
ALTER TABLE garages ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE vehicles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Optional VIN, canonical (upper-case), unique when present: NULLs are distinct.
ALTER TABLE vehicles ADD COLUMN vin TEXT;
CREATE UNIQUE INDEX vehicles_vin_key ON vehicles (vin);

-- Responses of POST requests sent with an Idempotency-Key, for replay. `key`
-- is a digest of the caller's credential, the route and the client's key;
-- `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    location     TEXT,
    content_type TEXT,
    etag         TEXT,
    body         BYTEA,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
