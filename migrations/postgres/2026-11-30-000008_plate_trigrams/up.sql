-- PostgreSQL finds part of a plate with its trigram index (migration 7);
-- this step gives SQLite the same.
SELECT 1;
