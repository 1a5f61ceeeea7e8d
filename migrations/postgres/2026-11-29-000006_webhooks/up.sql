-- Webhook endpoints and their outbox. A delivery is queued by the
-- dispatcher, which reads the event feed from the cursor kept in
-- webhook_dispatch (one row, locked while it moves).
CREATE TABLE webhooks (
    id              BIGSERIAL PRIMARY KEY,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    description     TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        BIGINT,
    event_type      TEXT NOT NULL,
    -- Deliveries of one entity to one endpoint go in order.
    entity          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    last_status     INTEGER,
    last_latency_ms INTEGER,
    last_error      TEXT,
    next_attempt_at TIMESTAMP,
    -- Names the lease too: an outcome is recorded only under its own lease.
    leased_until    TIMESTAMP,
    -- Since when its attempts fail; three days of it disable the endpoint.
    failing_since   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, entity, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, id);
CREATE TABLE webhook_dispatch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    tx       BIGINT NOT NULL,
    event_id BIGINT NOT NULL
);
INSERT INTO webhook_dispatch (id, tx, event_id) VALUES (1, 0, 0);
