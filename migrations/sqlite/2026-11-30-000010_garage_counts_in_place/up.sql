-- Every vehicle written changes its garage's count: with no index on it,
-- that is one row rewritten instead of an index entry moved as well, inside
-- the one writer's turn. The sort by count reads the garages instead.
DROP INDEX garages_vehicle_count_id_idx;
