DROP INDEX vehicles_lower_brand_id_idx;
DROP INDEX vehicles_updated_at_id_idx;
DROP INDEX vehicles_year_id_idx;
DROP INDEX vehicles_model_id_idx;
DROP INDEX vehicles_brand_id_idx;
DROP INDEX garages_vehicle_count_id_idx;
DROP INDEX garages_name_key_id_idx;
ALTER TABLE garages DROP COLUMN name_key;
