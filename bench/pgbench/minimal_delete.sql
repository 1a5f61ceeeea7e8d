-- The least SQL a deletion needs: one DELETE of the row.
\set d random(1, 50000)
DELETE FROM vehicles WHERE id = :d;
