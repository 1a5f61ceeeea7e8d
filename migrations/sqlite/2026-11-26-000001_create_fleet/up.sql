-- The same schema as PostgreSQL's, in SQLite's words.
CREATE TABLE garages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    capacity      INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    vehicle_count INTEGER NOT NULL DEFAULT 0 CHECK (vehicle_count >= 0),
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT garages_within_capacity CHECK (capacity IS NULL OR vehicle_count <= capacity)
);

CREATE TABLE vehicles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    garage_id     INTEGER NOT NULL REFERENCES garages (id) ON DELETE RESTRICT,
    brand         TEXT NOT NULL,
    model         TEXT NOT NULL,
    year          INTEGER NOT NULL,
    license_plate TEXT NOT NULL CONSTRAINT vehicles_license_plate_key UNIQUE,
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX vehicles_garage_id_id_idx ON vehicles (garage_id, id);
