-- One event per write, written in the write's transaction. No foreign
-- keys: a history outlives what it is about.
--
-- `tx` is the writing transaction's id. Sequence ids are taken before
-- commit, so they commit out of order; the feed is ordered by (tx, id) and
-- shows only events of transactions older than every one still running
-- (pg_snapshot_xmin), so a later commit never lands behind a reader.
CREATE TABLE events (
    id             BIGSERIAL PRIMARY KEY,
    tx             BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
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
