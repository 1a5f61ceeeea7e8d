ALTER TABLE webhooks DROP COLUMN from_event_id;
ALTER TABLE webhooks DROP COLUMN from_tx;
