-- The Telegram bot: when a failed chat message is tried again (exponential backoff, or the
-- wait Telegram asked for). ISO-8601 UTC text, compared as text like the other timestamps.
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
