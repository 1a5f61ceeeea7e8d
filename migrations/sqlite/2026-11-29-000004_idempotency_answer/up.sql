-- The same change as PostgreSQL's, in SQLite's words.
-- An idempotency key keeps its request's answer as one opaque value that
-- the HTTP adapter encodes. NULL while the first request runs. Answers
-- already kept are carried over in that encoding; the old columns stay,
-- unused, for a rollback.
ALTER TABLE idempotency_keys ADD COLUMN answer BLOB;
UPDATE idempotency_keys
SET answer = CAST(
    json_object(
        'status', status,
        'location', location,
        'content_type', content_type,
        'etag', etag,
        'body', CAST(coalesce(body, x'') AS TEXT)
    ) AS BLOB
)
WHERE status IS NOT NULL;
