-- An endpoint gets the events published after it was made: the feed's last
-- published position when it was made, not its maker's clock (instances'
-- clocks differ; the feed's order is the database's). An endpoint made
-- before this gets every event the dispatcher has yet to pass.
ALTER TABLE webhooks
    ADD COLUMN from_tx BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN from_event_id BIGINT NOT NULL DEFAULT 0;
