-- A creation's transaction: take a place in the garage, insert the vehicle.
\set g random(1, 1000)
\set n random(1, 999999999)
BEGIN;
UPDATE garages SET vehicle_count = vehicle_count + 1, version = version + 1
  WHERE id = :g AND (capacity IS NULL OR vehicle_count < capacity);
-- A plate the API accepts (at most 12 letters and digits), so an export reads every row back.
INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, created_at, updated_at)
  VALUES (:g, 'Bench', 'Load', 2024, 'P' || :client_id || upper(to_hex(:n::integer)), NULL, now(), now())
  RETURNING id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin;
COMMIT;
