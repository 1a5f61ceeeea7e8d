-- Garages are searched and sorted by a key that ignores case, accents and
-- punctuation (garage_domain::search::search_key). The application writes
-- it with every name, and keys the rows a migration leaves at '' when it
-- starts, so every database keys names the same way.
ALTER TABLE garages ADD COLUMN name_key TEXT NOT NULL DEFAULT '';

-- Each sort of the lists reads its pages from an index, in keyset order.
CREATE INDEX garages_name_key_id_idx ON garages (name_key, id);
CREATE INDEX garages_vehicle_count_id_idx ON garages (vehicle_count, id);
CREATE INDEX vehicles_brand_id_idx ON vehicles (brand, id);
CREATE INDEX vehicles_model_id_idx ON vehicles (model, id);
CREATE INDEX vehicles_year_id_idx ON vehicles (year, id);
CREATE INDEX vehicles_updated_at_id_idx ON vehicles (updated_at, id);
-- The brand filter ignores case.
CREATE INDEX vehicles_lower_brand_id_idx ON vehicles (lower(brand), id);
