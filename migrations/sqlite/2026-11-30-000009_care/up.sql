-- The same change as PostgreSQL's, in SQLite's words.
-- Fleet care. A vehicle may have a first-registration date, and keeps its
-- latest odometer reading beside it (written with each reading).
ALTER TABLE vehicles ADD COLUMN registered_on DATE;
ALTER TABLE vehicles ADD COLUMN odometer_km INTEGER;

-- Odometer readings: `correction` marks one an admin recorded below an
-- earlier reading.
CREATE TABLE odometer_readings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle_id  BIGINT NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    km          INTEGER NOT NULL CHECK (km >= 0),
    read_on     DATE NOT NULL,
    correction  BOOLEAN NOT NULL DEFAULT FALSE,
    recorded_at TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX odometer_readings_vehicle ON odometer_readings (vehicle_id, read_on, id);

-- One plan per vehicle and kind. `since_*` is when it was last done (or set
-- up); `next_due_*` is what the service computed from it, kept here so the
-- due plans are found by index, with `km_left`, the distance from the
-- vehicle's odometer to `next_due_km` (rewritten with each reading), so both
-- due conditions are index ranges. `cycle` moves on with each new due point;
-- `notified` is the most urgent reminder sent in it (0 none, 1 due soon,
-- 2 overdue).
CREATE TABLE care_plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle_id   BIGINT NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    every_months INTEGER,
    every_km     INTEGER,
    due_on       DATE,
    since_on     DATE NOT NULL,
    since_km     INTEGER,
    since_done   BOOLEAN NOT NULL,
    next_due_on  DATE,
    next_due_km  INTEGER,
    km_left      INTEGER,
    cycle        BIGINT NOT NULL,
    notified     SMALLINT NOT NULL DEFAULT 0,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (vehicle_id, kind)
);
CREATE INDEX care_plans_next_due_on ON care_plans (next_due_on) WHERE next_due_on IS NOT NULL;
CREATE INDEX care_plans_km_left ON care_plans (km_left) WHERE km_left IS NOT NULL;

-- Work done; it outlives the plan it was done for.
CREATE TABLE care_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle_id  BIGINT NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    done_on     DATE NOT NULL,
    km          INTEGER,
    note        TEXT,
    recorded_at TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX care_records_vehicle ON care_records (vehicle_id, id);

-- Read-only tokens for the reminders' calendar feed, as API keys are kept:
-- the SHA-256 of the secret, never the secret. A token lives as long as the
-- key that made it (`key_id`), within that key's garages.
CREATE TABLE calendar_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    garage_ids  TEXT,
    key_id      BIGINT NOT NULL REFERENCES api_keys (id),
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
