-- The vehicle list's query: one garage's first page (limit + 1 look-ahead row).
\set g random(1, 1000)
SELECT id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin
  FROM vehicles WHERE garage_id = :g ORDER BY id LIMIT 51;
