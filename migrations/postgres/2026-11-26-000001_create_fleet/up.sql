-- Garages and their vehicles. vehicle_count is kept by the application in
-- the same transaction as every vehicle write, so the capacity rule is one
-- row lock, and listing garages with their counts needs no join.
CREATE TABLE garages (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    capacity      INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    vehicle_count INTEGER NOT NULL DEFAULT 0 CHECK (vehicle_count >= 0),
    created_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    CONSTRAINT garages_within_capacity CHECK (capacity IS NULL OR vehicle_count <= capacity)
);

CREATE TABLE vehicles (
    id            BIGSERIAL PRIMARY KEY,
    -- RESTRICT: deleting a garage never deletes its vehicles.
    garage_id     BIGINT NOT NULL REFERENCES garages (id) ON DELETE RESTRICT,
    brand         TEXT NOT NULL,
    model         TEXT NOT NULL,
    year          INTEGER NOT NULL,
    -- Canonical form (upper-case letters and digits), so one plate has one spelling.
    license_plate TEXT NOT NULL CONSTRAINT vehicles_license_plate_key UNIQUE,
    created_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- A garage's vehicles in keyset order.
CREATE INDEX vehicles_garage_id_id_idx ON vehicles (garage_id, id);
