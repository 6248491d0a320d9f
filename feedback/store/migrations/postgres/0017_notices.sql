-- Notices on every channel (feedback.notifications): the outbox is no longer Telegram's only.
-- A row is for one channel (telegram, email, sms) and one recipient (a chat id, an e-mail
-- address, a mobile number). A sender claims due rows for a while (claimed_by, claimed_until)
-- with SELECT … FOR UPDATE SKIP LOCKED in one short transaction, so two processes never take
-- the same row; a claim that outlives its sender (the process died) lapses and the row is
-- taken again. `secret` holds the follow-up code, encrypted, for a receipt that was asked to
-- carry it, and is erased once sent. `dead_at`: given up on (dead letter), kept with its last
-- error for a supervisor to see.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE outbox ADD COLUMN recipient TEXT;
UPDATE outbox SET recipient = chat_id::text;
ALTER TABLE outbox ALTER COLUMN recipient SET NOT NULL;
ALTER TABLE outbox ALTER COLUMN channel DROP DEFAULT;
ALTER TABLE outbox DROP COLUMN chat_id;
ALTER TABLE outbox ADD COLUMN secret TEXT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
UPDATE outbox SET dead_at = COALESCE(next_attempt_at, created_at::text)
WHERE sent_at IS NULL AND attempts >= 8;
DROP INDEX IF EXISTS outbox_unsent;
DROP INDEX IF EXISTS outbox_due;
CREATE INDEX outbox_due ON outbox (channel, next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_report ON outbox (report_id);
-- The SMS daily cap counts what one number was sent today.
CREATE INDEX outbox_recipient_sent ON outbox (channel, recipient, sent_at) WHERE sent_at IS NOT NULL;

-- A web or API reporter's opt-in to notices by e-mail or SMS: one row per channel. Never for
-- an anonymous report (the service refuses). `token` is the unsubscribe (退订) link's secret;
-- unsubscribed_at ends the notices on that channel (a row stays to show it was asked).
CREATE TABLE notice_channels (
    id BIGSERIAL PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports (id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    unsubscribed_at TEXT,
    UNIQUE (report_id, channel)
);
CREATE INDEX notice_channels_address ON notice_channels (channel, address);

-- The Telegram bot's conversation state (bots/persistence.py through the service), shared by
-- every bot process: `scope` is "conversation:<name>" or "chat_data", `key` the conversation
-- key or the chat id, `value` JSON.
CREATE TABLE bot_state (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
