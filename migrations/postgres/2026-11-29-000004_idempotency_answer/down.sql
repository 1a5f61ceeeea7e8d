DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    DROP COLUMN answer,
    ADD COLUMN status INTEGER,
    ADD COLUMN location TEXT,
    ADD COLUMN content_type TEXT,
    ADD COLUMN etag TEXT,
    ADD COLUMN body BYTEA;
