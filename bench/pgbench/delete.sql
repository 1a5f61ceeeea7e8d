-- A deletion as the API sends it on PostgreSQL: the vehicle read, then
-- deleted at the version read, with its place freed and its event, in one
-- statement.
\set d random(1, 50000)
SELECT id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin
  FROM vehicles WHERE id = :d;
WITH gone AS (
    DELETE FROM vehicles WHERE id = :d AND version = 1 RETURNING garage_id
), freed AS (
    UPDATE garages SET vehicle_count = vehicle_count - 1, version = version + 1
     WHERE id IN (SELECT garage_id FROM gone)
)
INSERT INTO events (type, occurred_at, actor_key_id, actor_name, request_id, garage_id, vehicle_id, changes)
SELECT 'vehicle.deleted', now(), NULL, 'anonymous', 'bench-request-id', garage_id, :d,
       jsonb_build_object('id', :d::bigint, 'garage_id', garage_id, 'brand', 'Brand1', 'model', 'Model1',
                          'year', 2001, 'license_plate', 'S1V1', 'vin', NULL)::text
  FROM gone;
