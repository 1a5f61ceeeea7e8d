DROP TABLE calendar_tokens;
DROP TABLE care_records;
DROP TABLE care_plans;
DROP TABLE odometer_readings;
ALTER TABLE vehicles DROP COLUMN odometer_km;
ALTER TABLE vehicles DROP COLUMN registered_on;
