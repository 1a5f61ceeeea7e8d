DROP TABLE idempotency_keys;
DROP INDEX vehicles_vin_key;
ALTER TABLE vehicles DROP COLUMN vin;
ALTER TABLE vehicles DROP COLUMN version;
ALTER TABLE garages DROP COLUMN version;
