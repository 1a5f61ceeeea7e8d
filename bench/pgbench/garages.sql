-- The garage page's query.
SELECT id, name, address, capacity, vehicle_count, created_at, updated_at, version
  FROM garages ORDER BY id LIMIT 51;
