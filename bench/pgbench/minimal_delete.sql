-- The least SQL a deletion needs: one DELETE of a row that exists, the
-- oldest this client created by minimal_create.sql and has not deleted yet
-- (a DELETE that finds nothing writes nothing, not even a commit). A client
-- with none left creates one instead, as the API's mix does.
\if :d < :k
\set d :d + 1
DELETE FROM vehicles WHERE license_plate = :run || 'M' || :client_id || 'K' || :d;
\else
\set g random(1, 1000)
\set k :k + 1
INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, created_at, updated_at)
  VALUES (:g, 'Bench', 'Load', 2024, :run || 'M' || :client_id || 'K' || :k, NULL, now(), now())
  RETURNING id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin;
\endif
