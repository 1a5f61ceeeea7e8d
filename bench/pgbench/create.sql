-- A creation's transaction: take a place in the garage, insert the vehicle.
\set g random(1, 1000)
\set n random(1, 999999999)
BEGIN;
UPDATE garages SET vehicle_count = vehicle_count + 1
  WHERE id = :g AND (capacity IS NULL OR vehicle_count < capacity);
INSERT INTO vehicles (garage_id, brand, model, year, license_plate, created_at, updated_at)
  VALUES (:g, 'Bench', 'Load', 2024, 'P' || :client_id || 'X' || :n, now(), now())
  RETURNING id, garage_id, brand, model, year, license_plate, created_at, updated_at;
COMMIT;
