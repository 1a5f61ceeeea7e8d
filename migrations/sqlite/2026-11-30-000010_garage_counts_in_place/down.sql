CREATE INDEX garages_vehicle_count_id_idx ON garages (vehicle_count, id);
