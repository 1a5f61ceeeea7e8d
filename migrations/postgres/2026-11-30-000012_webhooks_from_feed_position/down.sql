ALTER TABLE webhooks DROP COLUMN from_tx, DROP COLUMN from_event_id;
