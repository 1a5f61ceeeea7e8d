-- Every vehicle written changes its garage's count and version. With an
-- index on the count, each such update wrote a new entry into every index
-- of garages, its trigram index among them; with none on a column it
-- changes, PostgreSQL updates the row in place on its page (a HOT update),
-- and garages and their indexes stay their size under steady writes.
-- The sort by count reads the garages instead: a few milliseconds at
-- 10,000 garages (docs/performance.md).
DROP INDEX garages_vehicle_count_id_idx;
-- Room on each page for a row's next version, which a HOT update needs.
ALTER TABLE garages SET (fillfactor = 80);
