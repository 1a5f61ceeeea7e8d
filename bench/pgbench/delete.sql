-- A deletion's transaction: remove a vehicle by id, free its place in its garage.
\set d random(1, 50000)
BEGIN;
WITH gone AS (DELETE FROM vehicles WHERE id = :d RETURNING garage_id)
UPDATE garages SET vehicle_count = vehicle_count - 1, version = version + 1
  WHERE id IN (SELECT garage_id FROM gone);
COMMIT;
