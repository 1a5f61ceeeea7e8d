DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    location     TEXT,
    content_type TEXT,
    etag         TEXT,
    body         BLOB,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
