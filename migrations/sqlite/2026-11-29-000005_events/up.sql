-- The same change as PostgreSQL's, in SQLite's words. Writes are serial
-- here, so ids commit in order and `tx` stays 0.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tx             BIGINT NOT NULL DEFAULT 0,
    type           TEXT NOT NULL,
    occurred_at    TIMESTAMP NOT NULL,
    actor_key_id   BIGINT,
    actor_name     TEXT NOT NULL,
    request_id     TEXT,
    garage_id      BIGINT,
    from_garage_id BIGINT,
    vehicle_id     BIGINT,
    key_id         BIGINT,
    changes        TEXT NOT NULL
);
CREATE INDEX events_feed ON events (tx, id);
CREATE INDEX events_vehicle ON events (vehicle_id, id) WHERE vehicle_id IS NOT NULL;
CREATE INDEX events_garage ON events (garage_id, id) WHERE garage_id IS NOT NULL;
CREATE INDEX events_from_garage ON events (from_garage_id, id) WHERE from_garage_id IS NOT NULL;
