-- The least SQL a creation needs: one INSERT of the row, in its own
-- implicit transaction (no capacity check, no count, no event).
\set g random(1, 1000)
\set k :k + 1
INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, created_at, updated_at)
  VALUES (:g, 'Bench', 'Load', 2024, :run || 'M' || :client_id || 'K' || :k, NULL, now(), now())
  RETURNING id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin;
