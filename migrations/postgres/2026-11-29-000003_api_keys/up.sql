-- Named API keys. Only the SHA-256 of a secret is kept (hex); `prefix` is
-- its first characters, to recognise it in lists. `garage_ids` limits the
-- key to those garages (comma-separated ids); NULL means every garage.
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    garage_ids   TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
