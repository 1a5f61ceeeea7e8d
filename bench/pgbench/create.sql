-- A creation as the API sends it on PostgreSQL: one statement taking a
-- place in the garage, inserting the vehicle and recording its event.
\set g random(1, 1000)
\set k :k + 1
-- A plate the API accepts (at most 12 letters and digits), so an export reads every row back.
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
