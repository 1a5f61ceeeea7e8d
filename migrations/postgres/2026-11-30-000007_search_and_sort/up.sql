-- Garages are searched and sorted by a key that ignores case, accents and
-- punctuation (garage_domain::search::search_key). The application writes
-- it with every name, and keys the rows a migration leaves at '' when it
-- starts, so every database keys names the same way.
ALTER TABLE garages ADD COLUMN name_key TEXT NOT NULL DEFAULT '';

-- Substring searches (a garage's name, part of a plate) by trigram.
-- Trusted since PostgreSQL 13: a database owner may create it.
-- fastupdate off: a bulk import writes its rows into the index at once,
-- rather than into a pending list that every lookup in the same
-- transaction (the import's own plate checks) would have to scan whole.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX garages_name_key_trgm_idx ON garages
    USING gin (name_key gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX vehicles_license_plate_trgm_idx ON vehicles
    USING gin (license_plate gin_trgm_ops) WITH (fastupdate = off);

-- Each sort of the lists reads its pages from an index, in keyset order.
CREATE INDEX garages_name_key_id_idx ON garages (name_key, id);
CREATE INDEX garages_vehicle_count_id_idx ON garages (vehicle_count, id);
CREATE INDEX vehicles_brand_id_idx ON vehicles (brand, id);
CREATE INDEX vehicles_model_id_idx ON vehicles (model, id);
CREATE INDEX vehicles_year_id_idx ON vehicles (year, id);
CREATE INDEX vehicles_updated_at_id_idx ON vehicles (updated_at, id);
-- The brand filter ignores case.
CREATE INDEX vehicles_lower_brand_id_idx ON vehicles (lower(brand), id);
