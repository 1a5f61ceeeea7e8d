-- A deletion as the API sends it on PostgreSQL: the vehicle read, then
-- deleted at the version read, with its place freed and its event, in one
-- statement. The vehicle is the oldest this client created by create.sql
-- and has not deleted yet (a DELETE that finds nothing writes nothing, not
-- even a commit); a client with none left creates one instead, as the
-- API's mix does.
\if :d < :k
\set d :d + 1
SELECT id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin
  FROM vehicles WHERE license_plate = :run || 'P' || :client_id || 'K' || :d \gset v_
WITH gone AS (
    DELETE FROM vehicles WHERE id = :v_id AND version = :v_version RETURNING garage_id
), freed AS (
    UPDATE garages SET vehicle_count = vehicle_count - 1, version = version + 1
     WHERE id IN (SELECT garage_id FROM gone)
)
INSERT INTO events (type, occurred_at, actor_key_id, actor_name, request_id, garage_id, vehicle_id, changes)
SELECT 'vehicle.deleted', now(), NULL, 'anonymous', 'bench-request-id', garage_id, :v_id,
       jsonb_build_object('id', :v_id::bigint, 'garage_id', garage_id, 'brand', 'Bench', 'model', 'Load',
                          'year', 2024, 'license_plate', :v_license_plate::text, 'vin', NULL)::text
  FROM gone;
\else
\set g random(1, 1000)
\set k :k + 1
WITH place AS (
    UPDATE garages SET vehicle_count = vehicle_count + 1, version = version + 1
     WHERE (capacity IS NULL OR vehicle_count < capacity) AND id = :g
    RETURNING id
), created AS (
    INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, created_at, updated_at)
    SELECT id, 'Bench', 'Load', 2024, :run || 'P' || :client_id || 'K' || :k, NULL, now(), now() FROM place
    RETURNING *
), recorded AS (
    INSERT INTO events (type, occurred_at, actor_key_id, actor_name, request_id, garage_id, vehicle_id, changes)
    SELECT 'vehicle.created', now(), NULL, 'anonymous', 'bench-request-id', garage_id, id,
           jsonb_set(jsonb_build_object('id', 1, 'garage_id', garage_id, 'brand', 'Bench', 'model', 'Load',
                                        'year', 2024, 'license_plate', license_plate, 'vin', NULL),
                     '{id}', to_jsonb(id))::text
      FROM created
)
SELECT * FROM created;
\endif
