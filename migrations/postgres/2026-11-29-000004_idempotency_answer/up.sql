-- An idempotency key keeps its request's answer as one opaque value that
-- the HTTP adapter encodes (status, headers and body were columns, which
-- put HTTP in the store's contract). NULL while the first request runs.
-- Answers already kept are carried over in the adapter's encoding (JSON:
-- status, location, content_type, etag, body). The old columns stay, unused,
-- so instances of the previous release keep working during a rolling
-- upgrade or after a rollback; a later release drops them.
ALTER TABLE idempotency_keys ADD COLUMN answer BYTEA;
UPDATE idempotency_keys
SET answer = convert_to(
    json_build_object(
        'status', status,
        'location', location,
        'content_type', content_type,
        'etag', etag,
        'body', convert_from(coalesce(body, ''::bytea), 'UTF8')
    )::text,
    'UTF8'
)
WHERE status IS NOT NULL;
