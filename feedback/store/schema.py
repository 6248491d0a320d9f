"""The tables, written once for both stores (SQLAlchemy Core): the schema at the newest
migration. `feedback/store/migrations/versions/` builds it step by step on a database;
tests/store/test_schema.py checks, on SQLite and PostgreSQL, that a migrated database (a new
one, and one made by 0.1.0) is exactly this.

Not here: what only one dialect has — the triggers that queue reports for the statistics and
the public search, and `public_search`, an FTS5 virtual table on SQLite and a plain table on
PostgreSQL (migration 0007).
"""

from __future__ import annotations

import sqlalchemy as sa

from feedback.store.types import FALSE, TRUE, Flag, Json, Key, Moment, default, partial

metadata = sa.MetaData()

# Tables a migration made that the MetaData leaves out (dialect-specific, or the migration
# bookkeeping), with SQLite's FTS5 shadow tables.
NOT_IN_METADATA = frozenset(
    {
        "alembic_version",
        "schema_migrations",
        "public_search",
        "public_search_config",
        "public_search_content",
        "public_search_data",
        "public_search_docsize",
        "public_search_idx",
    }
)


def _id(identity: bool = False) -> sa.Column[int]:
    # 0001's tables have identities on PostgreSQL, later ones bigserial: same behaviour.
    if identity:
        return sa.Column("id", Key, sa.Identity(), primary_key=True)
    return sa.Column("id", Key, primary_key=True)


def _report_id(**kw: object) -> sa.Column[int]:
    return sa.Column("report_id", Key, sa.ForeignKey("reports.id"), nullable=False, **kw)  # type: ignore[arg-type]


counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", Key, nullable=False),
)

reports = sa.Table(
    "reports",
    metadata,
    _id(identity=True),
    sa.Column("tracking_number", sa.Text, nullable=False, unique=True),
    sa.Column("code_hash", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("updated_at", Moment, nullable=False),
    sa.Column("anonymous", Flag, nullable=False, server_default=TRUE),
    sa.Column("contact_name", sa.Text),
    sa.Column("contact_phone", sa.Text),
    sa.Column("telegram_chat_id", Key),
    sa.Column("place", sa.Text),
    sa.Column("occurred_at", sa.Text),
    sa.Column("authority", sa.Text),
    sa.Column("department", sa.Text),
    sa.Column("assisting", Json, nullable=False, server_default="[]"),
    sa.Column("issue_types", Json, nullable=False, server_default="[]"),
    sa.Column("sign_by", Moment),
    sa.Column("answer_by", Moment),
    sa.Column("rate_by", Moment),
    sa.Column("send_back_by", Moment),
    sa.Column("routing", Json, nullable=False, server_default="{}"),
    sa.Column("send_back_count", sa.Integer, nullable=False, server_default=default("0")),
    sa.Column("route_locked", Flag, nullable=False, server_default=FALSE),
    sa.Column("arbitration", Flag, nullable=False, server_default=FALSE),
    sa.Column("extension_used", Flag, nullable=False, server_default=FALSE),
    sa.Column("pending_extension", Json),
    sa.Column("escalation_level", sa.Integer, nullable=False, server_default=default("0")),
    sa.Column("warned_for", sa.Text),
    sa.Column("escalated_for", sa.Text),
    sa.Column("supervised", Flag, nullable=False, server_default=FALSE),
    sa.Column("answer", sa.Text),
    sa.Column("answered_at", Moment),
    sa.Column("accepted_at", Moment),
    sa.Column("rating", sa.Text),
    sa.Column("rating_comment", sa.Text),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default=default("0")),
    sa.Column("review_used", Flag, nullable=False, server_default=FALSE),
    sa.Column("close_reason", sa.Text),
    sa.Column("closed_at", Moment),
    sa.Column("substantiated", Flag),
    sa.Column("duplicate_of", sa.Text),
    sa.Column("record_head", sa.Text, nullable=False, server_default=""),
    sa.Column("record_count", sa.Integer, nullable=False, server_default=default("0")),
    # 0006: timeliness recorded when a bureau signs for or answers (feedback.stats_facts).
    sa.Column("signed_on_time", sa.Integer),
    sa.Column("sign_working_days", sa.Integer),
    sa.Column("answered_on_time", sa.Integer),
    sa.Column("answer_working_days", sa.Integer),
    # 0011: the salt of the content hashes; '' = from before, to be sealed.
    sa.Column("record_salt", sa.Text, nullable=False, server_default=""),
    # 0015: the citizen lets the answered report be published, anonymised.
    sa.Column("publish", Flag, nullable=False, server_default=TRUE),
    # 0016: the clerk who claimed (认领) the report or was given it; NULL = 未认领.
    sa.Column("assignee", sa.Text),
    sa.Index("reports_department_status", "department", "status"),
    sa.Index("reports_status", "status"),
    sa.Index("reports_created", "created_at"),
    sa.Index("reports_chat", "telegram_chat_id", **partial("telegram_chat_id IS NOT NULL")),
    sa.Index("reports_sign_due", "status", "sign_by", "department"),
    sa.Index("reports_answer_due", "status", "answer_by", "department"),
    sa.Index("reports_answered", "answered_at"),
    sa.Index("reports_unsealed", "id", **partial("record_salt = ''")),
    sa.Index("reports_assignee", "department", "assignee"),
)

report_issue_types = sa.Table(
    "report_issue_types",
    metadata,
    _report_id(primary_key=True),
    sa.Column("issue_type", sa.Text, primary_key=True),
    sa.Index("report_issue_types_type", "issue_type"),
)

events = sa.Table(
    "events",
    metadata,
    _id(identity=True),
    _report_id(),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("at", Moment, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("before", Json),
    sa.Column("after", Json),
    sa.Column("public", Flag, nullable=False, server_default=TRUE),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.UniqueConstraint("report_id", "seq"),
    sa.Index("events_action_at", "action", "at"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(identity=True),
    _report_id(),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", Key, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("storage_key", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Index("attachments_report", "report_id"),
)

corrections = sa.Table(
    "corrections",
    metadata,
    _id(identity=True),
    _report_id(),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("labels", Json, nullable=False),
    sa.Column("previous", Json, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    _id(identity=True),
    sa.Column("username", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("department", sa.Text),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("active", Flag, nullable=False, server_default=TRUE),
    sa.Column("created_at", Moment, nullable=False),
    # 0016: a bureau's lead (科室负责人) assigns its reports and keeps its canned replies.
    sa.Column("bureau_lead", Flag, nullable=False, server_default=FALSE),
)

outbox = sa.Table(
    "outbox",
    metadata,
    _id(identity=True),
    _report_id(),
    # 0017: one channel (telegram, email, sms) and one recipient per row.
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("secret", sa.Text),  # the follow-up code, encrypted, until sent
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("sent_at", Moment),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=default("0")),
    sa.Column("last_error", sa.Text),
    # 0004: ISO-8601 UTC text on both stores, compared as text.
    sa.Column("next_attempt_at", sa.Text),
    sa.Column("claimed_by", sa.Text),
    sa.Column("claimed_until", sa.Text),
    sa.Column("dead_at", sa.Text),
    sa.Index(
        "outbox_due", "channel", "next_attempt_at", **partial("sent_at IS NULL AND dead_at IS NULL")
    ),
    sa.Index("outbox_report", "report_id"),
    sa.Index(
        "outbox_recipient_sent", "channel", "recipient", "sent_at", **partial("sent_at IS NOT NULL")
    ),
)

points_ledger = sa.Table(
    "points_ledger",
    metadata,
    _id(),
    sa.Column("seq", Key, nullable=False, unique=True),
    _report_id(),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Index("points_ledger_report", "report_id"),
    sa.Index("points_ledger_one_grant", "report_id", unique=True, **partial("kind = 'grant'")),
    sa.Index("points_ledger_one_claim", "report_id", unique=True, **partial("kind = 'claim'")),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    _id(),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("success", Flag, nullable=False),
    sa.Index("login_attempts_username_at", "username", "at"),
    sa.Index("login_attempts_address_at", "address", "at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("prefix", sa.Text, nullable=False, unique=True),
    sa.Column("key_hash", sa.Text, nullable=False),
    sa.Column("per_minute", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.Text),
)

rate_hits = sa.Table(
    "rate_hits",
    metadata,
    _id(),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("ticket", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Index("rate_hits_subject_at", "scope", "subject", "at"),
    sa.Index("rate_hits_ticket", "ticket"),
    sa.Index("rate_hits_at", "at"),
)

stats_dirty = sa.Table(
    "stats_dirty",
    metadata,
    sa.Column("report_id", Key, primary_key=True, autoincrement=False),
)

COUNTS = (
    "received",
    "signed",
    "signed_on_time",
    "answered",
    "answered_on_time",
    "sent_back",
    "extended",
    "rated",
    "satisfied",
    "reopened",
    "judged",
    "substantiated",
    "escalated",
)


def _cube(name: str, period: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("issue_type", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("department", sa.Text, primary_key=True),
        sa.Column(period, sa.Text, primary_key=True),
        *(sa.Column(c, sa.Integer, nullable=False) for c in COUNTS),
        sa.Index(f"{name}_by_{period}", period),
        sqlite_with_rowid=False,
    )


def _histogram(name: str, period: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("issue_type", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("department", sa.Text, primary_key=True),
        sa.Column(period, sa.Text, primary_key=True),
        sa.Column("measure", sa.Text, primary_key=True),
        sa.Column("days", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Index(f"{name}_by_{period}", period),
        sqlite_with_rowid=False,
    )


stats_cube_daily = _cube("stats_cube_daily", "day")
stats_cube_daily_days = _histogram("stats_cube_daily_days", "day")
stats_cube_monthly = _cube("stats_cube_monthly", "month")
stats_cube_monthly_days = _histogram("stats_cube_monthly_days", "month")

stats_dirty_days = sa.Table(
    "stats_dirty_days", metadata, sa.Column("day", sa.Text, primary_key=True)
)
stats_dirty_months = sa.Table(
    "stats_dirty_months", metadata, sa.Column("month", sa.Text, primary_key=True)
)
search_dirty = sa.Table(
    "search_dirty",
    metadata,
    sa.Column("report_id", Key, primary_key=True, autoincrement=False),
)

staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    _id(),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Text, nullable=False),
    sa.Index("staff_sessions_username", "username"),
    sa.Index("staff_sessions_expires", "expires_at"),
)

report_support = sa.Table(
    "report_support",
    metadata,
    _report_id(primary_key=True),
    sa.Column("voter", sa.Text, primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
)

answer_reviews = sa.Table(
    "answer_reviews",
    metadata,
    sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True, autoincrement=False),
    sa.Column("answered_at", sa.Text, nullable=False),
    sa.Column("department", sa.Text),
    sa.Column("relevance", sa.Integer, nullable=False),
    sa.Column("completeness", sa.Integer, nullable=False),
    sa.Column("basis", sa.Integer, nullable=False),
    sa.Column("score", sa.REAL, nullable=False),
    sa.Column("acceptable", sa.Integer, nullable=False),
    sa.Column("reasons", Json, nullable=False),
    sa.Column("reviewed_at", sa.Text, nullable=False),
    sa.Column("returned_at", sa.Text),
    sa.Index("answer_reviews_department", "department", "answered_at"),
)

hot_escalations = sa.Table(
    "hot_escalations",
    metadata,
    _id(),
    sa.Column("issue_key", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("tracking_numbers", Json, nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("hot_escalations_key", "issue_key"),
)

send_backs = sa.Table(
    "send_backs",
    metadata,
    _report_id(primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("department", sa.Text, nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    _id(),
    sa.Column("taken_at", sa.Text, nullable=False),
    sa.Column("events_upto", Key, nullable=False),
    sa.Column("reports", Key, nullable=False),
    sa.Column("events", Key, nullable=False),
    sa.Column("root", sa.Text, nullable=False),
    sa.Column("prev", sa.Text, nullable=False),
    sa.Column("digest", sa.Text, nullable=False, unique=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("signature", sa.Text),
    sa.Column("public_key", sa.Text),
)

api_key_reports = sa.Table(
    "api_key_reports",
    metadata,
    sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True, autoincrement=False),
    sa.Column("api_key_id", Key, sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Index("api_key_reports_key", "api_key_id", "report_id"),
)

report_bands = sa.Table(
    "report_bands",
    metadata,
    sa.Column("band", Key, primary_key=True, autoincrement=False),
    sa.Column(
        "report_id",
        Key,
        sa.ForeignKey("reports.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Index("report_bands_report", "report_id"),
    sqlite_with_rowid=False,
)

labels = sa.Table(
    "labels",
    metadata,
    _id(identity=True),
    sa.Column("report_id", Key, sa.ForeignKey("reports.id")),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("authority", sa.Text, nullable=False, server_default=""),
    sa.Column("labels", Json, nullable=False),
    sa.Column("predicted", Json, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("actor_id", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Index("labels_report", "report_id", "target", "id"),
    sa.Index("labels_target", "target", "id"),
)

notice_channels = sa.Table(
    "notice_channels",
    metadata,
    _id(),
    _report_id(),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("token", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("unsubscribed_at", sa.Text),
    sa.UniqueConstraint("report_id", "channel"),
    sa.Index("notice_channels_address", "channel", "address"),
)

bot_state = sa.Table(
    "bot_state",
    metadata,
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

# 0016: the clerk's desk (feedback.desk): a saved answer draft per report and clerk, and a
# bureau's canned replies (常用答复).
answer_drafts = sa.Table(
    "answer_drafts",
    metadata,
    sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True),
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_at", Moment, nullable=False),
)

canned_replies = sa.Table(
    "canned_replies",
    metadata,
    _id(),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Index("canned_replies_department", "department"),
)

# 0016: a citizen's report between 预览 and 确认提交 (feedback.previews), by the SHA-256 of a
# token in that browser's session cookie.
report_previews = sa.Table(
    "report_previews",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("payload", Json, nullable=False),
    sa.Column("expires_at", sa.Text, nullable=False),
    sa.Index("report_previews_expires", "expires_at"),
)

# 0022: short links in SMS notices (feedback.short_links): /r/<token> for a signed status link.
short_links = sa.Table(
    "short_links",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    _report_id(),
    sa.Column("outbox_id", Key),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Text, nullable=False),
    sa.Index("short_links_report", "report_id"),
    sa.Index("short_links_expires", "expires_at"),  # 0028: the yearly prune
)
