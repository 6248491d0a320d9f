"""The service API: every operation on a report, for web, bot, API and CLI alike.

Each operation validates, checks who may act (feedback.permissions), checks the state machine
(feedback.workflow), changes the report and appends to its full-process record — all in one
store transaction, so a report and its record never disagree.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import sqlalchemy as sa

from feedback import (
    accounts,
    apikeys,
    bot_state,
    checkpoint,
    desk,
    duplicates,
    labels,
    notifications,
    permissions,
    previews,
    public_search,
    record,
    routing,
    secrets,
    short_links,
    stats_facts,
    validation,
    workflow,
)
from feedback.config import Config
from feedback.deadlines import WorkCalendar
from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.models import (
    Actor,
    CloseReason,
    Contact,
    Event,
    Kind,
    Rating,
    Report,
    Role,
    Status,
    User,
)
from feedback.ratelimit import Claim, RateLimiter
from feedback.routing import PredictionLike, RoutingDecision
from feedback.settings import InputLimits
from feedback.store import ReportFilter, Store, WriteTx, open_store
from feedback.store import schema as t
from feedback.store.portable import (
    UNFINGERPRINTED,
    api_key_statement,
    bands_statement,
    event_statement,
    new_report_statements,
)
from feedback.store.rows import event_from_row, report_from_row, ts
from feedback.store.sql import Query, param
from feedback.workflow import Action

if TYPE_CHECKING:
    from feedback.insight import InsightDesk
    from feedback.models import Attachment
    from feedback.stats import Stats

log = logging.getLogger(__name__)

T = TypeVar("T")
# (title, text, the bureau the 涉及单位 field names or None) -> prediction
Classify = Callable[[str, str, str | None], PredictionLike]


@runtime_checkable
class ReadyClassify(Protocol):
    """A classifier that can say when a prediction will load nothing (feedback.model_provider):
    then it runs in the event loop, ~2 ms of pure Python and numpy, cheaper than the hop to a
    thread and the GIL's hand-overs between six of them (issue 14); else in a thread."""

    def __call__(self, title: str, text: str, authority_bureau: str | None = None) -> Any: ...
    # The prediction if it can be made at once (nothing to load or read), else None.
    def predict_now(self, title: str, text: str, authority_bureau: str | None = None) -> Any: ...


Clock = Callable[[], datetime]

_E, _R, _A = t.events, t.reports, t.attachments
# The time of each report's last 督办 (escalation), by tracking number.
LAST_ESCALATED = Query(
    sa.select(_R.c.tracking_number, sa.func.max(_E.c.at).label("last"))
    .select_from(_E.join(_R, _R.c.id == _E.c.report_id))
    .where(_E.c.action == Action.ESCALATE.value,
           _R.c.tracking_number.in_(param("numbers", expanding=True)))
    .group_by(_R.c.tracking_number)
)  # fmt: skip
LAST_EVENT = Query(
    sa.select(_E)
    .where(_E.c.report_id == param("report_id"), _E.c.action == param("action"))
    .order_by(_E.c.seq.desc())
    .limit(1)
)
EVENTS_OF = Query(sa.select(_E).where(_E.c.report_id == param("report_id")).order_by(_E.c.seq))
FILES_OF = Query(
    sa.select(_A.c.sha256).where(_A.c.report_id == param("report_id")).order_by(_A.c.id)
)
# Reports from before row digests (an empty salt) that no `seal` event covers yet.
UNSEALED_COUNT = Query(sa.select(sa.func.count().label("n")).where(_R.c.record_salt == ""))
UNSEALED = Query(
    sa.select(_R.c.tracking_number)
    .where(_R.c.record_salt == "")
    .order_by(_R.c.id)
    .limit(param("limit"))
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SubmitResult:
    tracking_number: str
    follow_up_code: str
    status: Status
    department: str | None
    report: Report


@dataclass
class ReportPreview:
    """A report as it would be filed (预览, before 确认提交): what is sent, and what the public
    page would show once answered (masked as feedback.anonymise masks it; None when the
    citizen chose 不公开)."""

    input: validation.SubmitInput
    public_title: str | None
    public_text: str | None
    chars: int  # the text's length, as the limit counts it
    max_chars: int


@dataclass
class HistoryItem:
    at: datetime
    action: str
    label: str
    note: str | None = None
    # Only on the citizen's own timeline: (label, text) of what was written (workflow.owner_text).
    written: tuple[str, str] | None = None


@dataclass
class PublicUpdate:
    """One public event of a report, for machine clients (Open311's servicerequestupdates)."""

    report: Report
    seq: int
    item: HistoryItem
    status: Status | None  # the report's state after the event, when it changed


@dataclass
class DeadlineView:
    name: str
    label: str
    due: datetime
    working_days_left: int
    overdue: bool
    estimated: bool = False  # the due day lies in a year with no official holiday schedule

    @property
    def left_words(self) -> str:
        """What every page says of the time left (an overdue one is marked apart): 今天到期 on
        the due day -- "0 个工作日" read as none left --, else 剩余 N 个工作日 (the rating window
        runs in calendar days: 天)."""
        if self.working_days_left <= 0:
            return "今天到期"
        unit = "天" if self.name == "rate_by" else "个工作日"
        return f"剩余 {self.working_days_left} {unit}"


@dataclass
class CitizenView:
    """What the citizen sees with the tracking number and code: no staff names, no internals."""

    report: Report
    status_label: str
    department_name: str | None
    issue_type_names: list[str]
    deadlines: list[DeadlineView]
    history: list[HistoryItem]
    can_rate: bool
    can_request_review: bool
    points: int = 0
    points_claimed: bool = False


@dataclass
class EscalationView:
    """What the 督办 form needs: whether a reason is required, and when one may be taken
    again after the last (None: now)."""

    needs_reason: bool
    last_at: datetime | None
    again_at: datetime | None


@dataclass(frozen=True)
class Clerk:
    """A staff account of a bureau as the desk shows it."""

    username: str
    name: str
    lead: bool


@dataclass
class StaffView:
    report: Report
    events: list[Event]
    show_contact: bool
    deadlines: list[DeadlineView] = field(default_factory=list)
    escalation: EscalationView | None = None
    now: datetime | None = None

    @property
    def extension_applied(self) -> bool:
        return workflow.extension_applied([e.action for e in self.events])

    def escalate_later(self) -> bool:
        """A 督办 was taken within the window: the next one must wait."""
        e = self.escalation
        return bool(e and e.again_at and self.now and self.now < e.again_at)


# A search holds at most this many words (each one more LIKE over the text).
SEARCH_WORDS = 8
_SHORT_NUMBER = re.compile(r"^(?:([A-Z]{1,6})-)?(\d{4})-(\d+)$")


def search_words(query: str | None) -> list[tuple[str, str]]:
    """What staff type in the search box, as words: each must occur in the title, the text
    or the tracking number. A word's number form is normalised as tracking numbers are
    (full-width dashes and digits, lower case); "2026-301" means sequence 000301, "2026-0000301" too."""
    out: list[tuple[str, str]] = []
    for word in (query or "").split()[:SEARCH_WORDS]:
        number = secrets.normalise_tracking_number(word)
        short = _SHORT_NUMBER.match(number)
        if short:
            prefix, year, seq = short.groups()
            number = f"{prefix + '-' if prefix else ''}{year}-{int(seq):06d}"
        out.append((word, number))
    return out


CLERK_FILTERS = {"mine": "我的", "none": "未认领"}


def clerk_filter(actor: Actor, clerk: str | None) -> str | None:
    """ReportFilter.assignee for the queue's 经办人 filter: "mine" → the actor's own, "none" →
    "" (未认领), a username → that clerk's, anything else → no filter. It only narrows a queue
    the actor may see anyway."""
    value = (clerk or "").strip().lower()
    if value == "mine":
        return actor.id
    if value == "none":
        return ""
    return value if value and accounts.USERNAME_RE.match(value) else None


# How long a status link in a notice works: the rating window and the review window fit in it.
LINK_DAYS = timedelta(days=120)

# Orders of the triage queues: newest first, or what the model is least sure of first (those
# teach it most once decided). At most UNSURE_WINDOW reports are ranked at once.
TRIAGE_ORDERS = ("newest", "unsure")
UNSURE_WINDOW = 2000

QUEUES = ("new", "in_progress", "due_soon", "overdue", "reopened", "extension", "answered",
          "triage", "arbitration", "escalated", "review", "all")  # fmt: skip


class FeedbackService:
    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        classify: Classify | None = None,
        clock: Clock = utcnow,
        executor: Executor | None = None,
        input_limits: InputLimits | None = None,
        code_key: bytes | None = None,
        escalate_repeat_minutes: int | None = None,
    ):
        self.store = store
        # No second 督办 within this window (Settings.escalate_repeat_minutes).
        self.escalate_repeat = (
            workflow.ESCALATE_REPEAT_DEFAULT
            if escalate_repeat_minutes is None
            else timedelta(minutes=escalate_repeat_minutes)
        )
        self.config = config
        self.classify = classify
        self.clock = clock
        self.executor = executor
        # What one submission may hold (the settings' max_text_chars, max_attachments, …).
        self.input_limits = input_limits or InputLimits.of()
        # The follow-up codes' HMAC key (Settings.follow_up_code_key); without one, a key for
        # this process only (tests, scripts that never see a code again after they stop).
        self.codes = secrets.CodeHasher(code_key or secrets.PROCESS_KEY)
        self._fingerprinted = False  # reports from before the duplicate index: done?
        self.calendar = WorkCalendar(config.calendar_extra, config.timezone)
        # Called after a transaction commits, with the report's tracking number and action:
        # the bot's notifier and the web's live parts hook in here.
        self.listeners: list[Callable[[str, str], Awaitable[None]]] = []
        # The parts with tables of their own, offered to web/ and bots/ through the service.
        self.accounts = accounts.Accounts(store)
        self.api_keys = apikeys.ApiKeys(store)
        self.limits = RateLimiter(store)
        # The outbox (every channel) and the reporters' opt-ins: its one owner.
        self.notices = notifications.Notices(
            store, config, lambda: self.clock(), self.codes.derived("outbox-secret")
        )
        # The bot's conversation state, shared by every bot process (bots/persistence.py).
        self.bot_state = bot_state.BotState(store, lambda: self.clock())
        # The clerk's drafts and the bureaus' canned replies (their tables' owner).
        self.desk = desk.Desk(store)
        # The web form's values between 预览 and 确认提交.
        self.previews = previews.Previews(store, lambda: self.clock())
        # Links in notices that open the status page without the code (feedback.secrets).
        self.links = secrets.StatusLinks(self.codes.derived("status-link"))
        # Their short form in SMS notices (/r/<token>, feedback.short_links).
        self.short_links = short_links.ShortLinks(
            store, lambda: self.clock(), self.codes.derived("short-link")
        )

    @functools.cached_property
    def stats(self) -> Stats:
        """The supervision statistics over this service's store."""
        from feedback.stats import Stats  # stats → incentives → service: imported when used

        return Stats(self.store, self.config, before_read=lambda: self.insight.review_backlog())

    async def schema_version(self) -> int:
        return await self.store.schema_version()

    async def close(self) -> None:
        """Stop work the service started beside requests, before its store closes."""
        if "insight" in self.__dict__:  # made only when used (cached_property)
            await self.insight.close()

    @functools.cached_property
    def insight(self) -> InsightDesk:
        """Hot issues, answer reviews, 附议, issue 督办 and rework (feedback.insight)."""
        from feedback.insight import InsightDesk

        return InsightDesk(self)

    # -- helpers -------------------------------------------------------------------------

    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def record_event(
        self,
        tx: WriteTx,
        report: Report,
        actor: Actor,
        action: Action,
        before: dict[str, Any] | None,
        details: dict[str, Any] | None = None,
        *,
        public: bool | None = None,
        at: datetime | None = None,
    ) -> Event:
        event = self._chain(report, actor, action, before, details, public=public, at=at)
        await tx.insert_event(event)
        await tx.update_report(report)
        await self._notify(tx, report, event)
        return event

    async def _notify(self, tx: WriteTx, report: Report, event: Event, **receipt: Any) -> None:
        if event.public:
            # The outbox's writer and reader live together in feedback.notifications.
            await self.notices.enqueue(
                tx, report, Action(event.action), event.details, self.clock(), **receipt
            )

    def _chain(
        self,
        report: Report,
        actor: Actor,
        action: Action,
        before: dict[str, Any] | None,
        details: dict[str, Any] | None = None,
        *,
        public: bool | None = None,
        at: datetime | None = None,
    ) -> Event:
        """The report's next event, made in memory (head and count moved on): the caller
        writes the event and the row."""
        assert report.id is not None
        if public is None:
            public = workflow.RULES[action].public
        now = at or self.clock()
        report.updated_at = now
        details = dict(details or {})
        if not report.record_salt:
            # The first event to hold the citizen's words: the submission itself, or the seal
            # of a report from before row digests.
            report.record_salt = record.new_salt()
            details["content"] = record.content_hashes(report)
        event = record.next_event(
            report.id,
            report.tracking_number,
            report.record_head,
            report.record_count,
            at=now,
            actor_role=actor.role.value,
            actor_id=actor.id,
            action=action.value,
            details=details,
            before=before,
            # The row as this event leaves it: `feedback verify` compares the row with it.
            after={**report.snapshot(), "row": record.row_digest(report)},
            public=public,
        )
        report.record_head = event.hash
        report.record_count = event.seq
        return event

    async def announce(self, tracking_number: str, action: Action) -> None:
        for listener in self.listeners:
            try:
                await listener(tracking_number, action.value)
            except Exception:  # a listener's failure must not undo a committed change
                log.exception("listener failed for %s %s", tracking_number, action)

    async def _locked(self, tx: WriteTx, tracking_number: str) -> Report:
        report = await tx.lock_report(secrets.normalise_tracking_number(tracking_number))
        if report is None:
            raise NotFound()
        return report

    async def warm_up(self) -> None:
        """Load the classifier and jieba's dictionary now, before the first citizen waits for
        them (1-3 s on first use), and the fingerprint's numpy path; open reports without a
        fingerprint (from before the index, or re-indexed by migration 0023) get theirs."""
        started = asyncio.get_running_loop().time()
        await self._fingerprint_old_reports()
        await self._predict("小区噪音扰民", "晚上施工噪音很大，影响休息，请有关部门处理。")
        duplicates.bands(duplicates.shingles("预热"))
        log.info("warmed up in %.2f s", asyncio.get_running_loop().time() - started)

    async def _predict(
        self, title: str, text: str, authority: str | None = None
    ) -> PredictionLike | None:
        if self.classify is None:
            return None
        bureau = routing.authority_bureau(authority, self.config)
        try:
            if isinstance(self.classify, ReadyClassify):
                found: PredictionLike | None = self.classify.predict_now(title, text, bureau)
                if found is not None:
                    return found
            return await self.in_thread(self.classify, title, text, bureau)
        except Exception:  # the classifier failing must never lose a report
            log.exception("classifier failed; the report goes to triage")
            return None

    def _set_routed(self, report: Report, department: str, now: datetime) -> None:
        report.department = department
        report.assignee = None  # a new bureau: its own clerks claim it
        report.deadlines.sign_by = self.calendar.add_working_days(
            now, self.config.clocks.sign_for
        ).due
        report.deadlines.send_back_by = self.calendar.add_working_days(
            now, self.config.clocks.send_back_window
        ).due
        report.warned_for = None

    def _set_triage(self, report: Report, now: datetime) -> None:
        report.department = None
        report.assignee = None
        report.assisting = []
        report.deadlines.sign_by = self.calendar.add_working_days(
            now, self.config.clocks.sign_for
        ).due
        report.deadlines.send_back_by = None

    def answer_days(self, report: Report) -> int:
        clocks = self.config.clocks
        return (
            clocks.answer_consultation
            if report.kind is Kind.CONSULTATION
            else clocks.answer_complaint
        )

    def status_link(self, tracking_number: str) -> str:
        """The path of the report's status page for a notice: a signed link that stands in for
        the follow-up code on this report for LINK_DAYS (rating and review windows fit)."""
        token = self.links.make(tracking_number, self.clock() + LINK_DAYS)
        return f"/track/s/{tracking_number}/{token}"

    async def short_status_link(self, report_id: int, outbox_id: int, tracking_number: str) -> str:
        """The path of a short link (for an SMS notice) that stands for the signed status link
        of ``status_link``, with the same expiry; the same path on every try of one notice."""
        expires = self.clock() + LINK_DAYS
        signed = self.links.make(tracking_number, expires)
        token = await self.short_links.put(report_id, outbox_id, signed, expires)
        return short_links.PATH + token

    async def open_short_link(self, token: str) -> str | None:
        """The signed status path a short link stands for; None when its time is over;
        NotFound for a token never issued."""
        found = await self.short_links.get(token)
        if found is None:
            raise NotFound("链接无效。")
        if self.clock() > found.expires_at:
            return None
        return f"/track/s/{found.tracking_number}/{found.link}"

    async def dead_letters(self, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
        """Notices given up on, for a supervisor (recipients masked)."""
        permissions.require_supervisor(actor)
        return await self.notices.dead_letters(limit)

    async def waiting_notices(self, actor: Actor, limit: int = 200) -> dict[str, Any]:
        """The outbox as a supervisor sees it: how many wait per channel, and the waiting
        notices themselves, oldest first (recipients masked)."""
        permissions.require_supervisor(actor)
        counts = {ch: await self.notices.unsent(ch) for ch in notifications.CHANNELS}
        return {"waiting": counts, "pending": await self.notices.pending(limit)}

    async def requeue_notice(self, actor: Actor, outbox_id: int) -> None:
        """A supervisor sends a dead letter again (the channel works again)."""
        permissions.require_supervisor(actor)
        if not await self.notices.requeue(outbox_id):
            raise NotFound("没有这条发送失败的通知。")

    async def sms_reply(self, mobile: str, text: str) -> int:
        """An SMS reply from a number (forwarded by the gateway): 退订 ends its SMS notices.
        Returns how many opt-ins ended."""
        from feedback.sms import is_unsubscribe

        number = "".join(ch for ch in mobile if ch.isdigit())[-11:]
        if not validation.MOBILE_RE.match(number) or not is_unsubscribe(text):
            return 0
        return await self.notices.unsubscribe_address(notifications.SMS, number)

    async def verified_report(self, tracking_number: str, code: str) -> Report:
        """The report, if the code (or a signed status link's token) is right. A wrong code
        and an unknown number look alike."""
        tn = secrets.normalise_tracking_number(tracking_number or "")
        report = await self.store.get_report(tn) if secrets.TRACKING_RE.match(tn) else None
        if (code or "").startswith(secrets.LINK_PREFIX):
            if report is None or not self.links.valid(tn, code, self.clock()):
                raise NotFound()
            return report
        if report is None:
            self.codes.verify(self.codes.dummy, code or "")  # a miss costs what a wrong code does
            raise NotFound()
        if not self.codes.is_legacy(report.code_hash):
            if not self.codes.verify(report.code_hash, code or ""):
                raise NotFound()
            return report
        # A code from before HMAC hashes: argon2id (slow, in a thread), then re-hashed.
        if not await self.in_thread(self.codes.verify, report.code_hash, code or ""):
            raise NotFound()
        return await self._upgrade_code_hash(report, code)

    async def _upgrade_code_hash(self, report: Report, code: str) -> Report:
        """Store the HMAC of a code that just verified against its old argon2id hash, through
        the record (an internal note), so the row and its record stay in step."""
        new_hash = self.codes.hash(code)
        async with self.store.transaction() as tx:
            locked = await tx.lock_report(report.tracking_number)
            if locked is None or not self.codes.is_legacy(locked.code_hash):
                return locked or report  # another request upgraded it meanwhile
            before = locked.snapshot()
            locked.code_hash = new_hash
            await self.record_event(
                tx, locked, Actor.system("codes"), Action.NOTE, before,
                {"code_hash": "re-hashed: HMAC-SHA256"}, public=False,
            )  # fmt: skip
        locked.attachments = report.attachments
        return locked

    # -- citizens ------------------------------------------------------------------------

    async def submit(
        self,
        data: dict[str, Any] | validation.SubmitInput,
        *,
        channel: Any = None,
        attachments: list[Any] | None = None,
        api_key: apikeys.ApiKey | None = None,
        rate: Claim | None = None,
    ) -> SubmitResult:
        """Accept a report. When this returns, the report is committed to disk. ``api_key``:
        the machine client that handed it in (it may list its own reports). ``rate``: the
        rate-limit slots it takes, in its own transaction (over the limit: TooManyRequests,
        nothing written)."""
        if isinstance(data, validation.SubmitInput):
            inp = data
        else:
            inp = validation.submit_input(
                data, channel or validation.Channel.WEB, self.input_limits
            )
        if channel is not None:
            inp.channel = validation.Channel(channel)
        code = secrets.new_follow_up_code()
        code_hash = self.codes.hash(code)
        prediction = await self._predict(inp.title, inp.text, inp.authority)
        decision = routing.decide(prediction, f"{inp.title}\n{inp.text}", self.config)
        now = self.clock()
        grams = duplicates.shingles(f"{inp.title}\n{inp.text}")
        fingerprint = duplicates.bands(grams)
        duplicate = await self._duplicate(grams, fingerprint, decision.department, now)
        # One short transaction: everything computed above; inside, only database statements
        # and the record's hashes. The row goes in once, in its final state, with its issue
        # types, events and fingerprint in one batch; on SQLite its statements run in the loop.
        async with self.store.transaction(quick=True) as tx:
            seq, report_id = await tx.reserve_report(f"tracking:{now.year}")
            report = Report(
                id=report_id,
                tracking_number=secrets.format_tracking_number(
                    self.config.tracking_prefix, now.year, seq
                ),
                code_hash=code_hash,
                channel=inp.channel,
                kind=inp.kind,
                title=inp.title,
                text=inp.text,
                status=Status.SUBMITTED,
                created_at=now,
                updated_at=now,
                anonymous=inp.anonymous,
                contact=Contact(inp.contact_name, inp.contact_phone, inp.telegram_chat_id),
                place=inp.place,
                occurred_at=inp.occurred_at,
                authority=inp.authority,
                publish=inp.publish,
            )
            files = list(attachments or [])
            submitted = self._chain(
                report,
                Actor.citizen(),
                Action.SUBMIT,
                None,
                {
                    "channel": inp.channel.value,
                    "kind": inp.kind.value,
                    "anonymous": inp.anonymous,
                    "publish": inp.publish,
                    "attachments": [a.sha256 for a in files],
                },
                at=now,
            )
            if duplicate:
                report.duplicate_of = duplicate[0]
                decision.duplicate_of = {"tracking_number": duplicate[0],
                                         "similarity": round(duplicate[1], 3)}  # fmt: skip
            routed = self._route(report, decision, now)
            batch = [
                *new_report_statements(report),
                event_statement(submitted),
                event_statement(routed),
            ]
            if fingerprint:
                batch.append(bands_statement(report_id, fingerprint))
            if api_key is not None and api_key.id is not None:
                batch.append(api_key_statement(report_id, api_key.id))
            await tx.run(batch)
            for att in files:
                att.id = await tx.insert_attachment(report_id, att)
                report.attachments.append(att)
            notify = inp.notify.channels if inp.notify and not inp.anonymous else {}
            if notify:
                await self.notices.subscribe(tx, report_id, notify, now)
            for event in (submitted, routed):
                await self._notify(
                    tx, report, event, in_submission=True, code=code,
                    code_for=list(notify) if inp.notify and inp.notify.send_code else [],
                )  # fmt: skip
            if rate is not None:
                # Last, so a PostgreSQL subject lock is held only until the commit just after.
                await self.limits.take(tx, rate.hits, rate.now, rate.message)
                rate.taken = True
        await self.announce(report.tracking_number, Action.SUBMIT)
        return SubmitResult(report.tracking_number, code, report.status, report.department, report)

    async def preview(self, data: dict[str, Any]) -> ReportPreview:
        """What `submit` would file from ``data`` (validated the same way: a mistake raises as
        it would there), and its public, anonymised form. Nothing is stored."""
        from feedback.anonymise import anonymise

        inp = validation.submit_input(data, validation.Channel.WEB, self.input_limits)
        title, text = (
            await self.in_thread(lambda: (anonymise(inp.title), anonymise(inp.text)))
            if inp.publish
            else (None, None)
        )
        return ReportPreview(
            inp, title, text, len(inp.text), validation.text_max(self.input_limits)
        )

    async def _duplicate(
        self, grams: Counter[str], fingerprint: list[int], department: str | None, now: datetime
    ) -> tuple[str, float] | None:
        settings = self.config.routing
        await self._fingerprint_old_reports()
        found = await duplicates.candidates(
            self.store, fingerprint, department, now, settings.duplicate_days
        )
        # At most duplicates.CANDIDATES short texts: cheaper here than a thread hop.
        return duplicates.best_match(grams, found, settings.duplicate_similarity)

    async def _fingerprint_old_reports(self) -> None:
        """Reports from before the near-duplicate index get their fingerprint, once per
        process (a few at most: only open ones can be matched)."""
        if self._fingerprinted:
            return
        rows = await self.store.fetch(
            UNFINGERPRINTED, {"statuses": [s.value for s in duplicates.OPEN]}
        )
        for start in range(0, len(rows), 200):
            async with self.store.transaction() as tx:
                for r in rows[start : start + 200]:
                    keys = duplicates.bands(duplicates.shingles(f"{r['title']}\n{r['text']}"))
                    await tx.insert_bands(int(r["id"]), keys)
        self._fingerprinted = True

    def _route(self, report: Report, decision: RoutingDecision, now: datetime) -> Event:
        before = report.snapshot()
        report.routing = decision.as_record()
        report.issue_types = list(decision.issue_types)
        if decision.confident and decision.department:
            workflow.apply(Action.ROUTE, report)
            self._set_routed(report, decision.department, now)
            report.assisting = list(decision.assisting)
            action = Action.ROUTE
        else:
            workflow.apply(Action.TO_TRIAGE, report)
            self._set_triage(report, now)
            action = Action.TO_TRIAGE
        return self._chain(
            report, Actor.system("router"), action, before, decision.as_record(), at=now
        )

    async def status(self, tracking_number: str, code: str) -> CitizenView:
        report = await self.verified_report(tracking_number, code)
        return await self._citizen_view(report)

    async def _citizen_view(self, report: Report) -> CitizenView:
        assert report.id is not None
        events = await self.store.list_events(report.id)
        history = [self._history_item(e, owner=True) for e in workflow.public_events(events)]
        now = self.clock()
        points, claimed = await self._points_for(report)
        return CitizenView(
            report=report,
            status_label=self.status_label(report),
            department_name=self.config.department_name(report.department)
            if report.department
            else None,
            issue_type_names=[self.config.issue_type_name(t) for t in report.issue_types],
            deadlines=self.deadlines(report, now),
            history=history,
            can_rate=report.status is Status.ANSWERED,
            can_request_review=self._review_open(report, now),
            points=points,
            points_claimed=claimed,
        )

    async def _points_for(self, report: Report) -> tuple[int, bool]:
        """(points granted, claimed yet) for this report (社会监督激励; feedback.incentives)."""
        from feedback.incentives import ledger_of  # incentives → service: imported when used

        return await ledger_of(self.store, report.id)

    def staff_status_label(self, report: Report) -> str:
        return workflow.staff_status_label(report)

    def status_label(self, report: Report) -> str:
        if report.status is Status.CLOSED and report.close_reason:
            return f"{report.status.label}（{report.close_reason.label}）"
        return report.status.label

    def _history_item(self, e: Event, *, owner: bool = False) -> HistoryItem:
        """A public event as shown; ``owner``: for the report's own citizen, with what was
        written in it (never for Open311 or a public page)."""
        note = workflow.public_note(e.action, e.details, e.after, self.config.department_name)
        written = workflow.owner_text(e.action, e.details) if owner else None
        return HistoryItem(e.at, e.action, Action(e.action).label, note, written)

    def deadlines(self, report: Report, now: datetime) -> list[DeadlineView]:
        out: list[DeadlineView] = []

        def add(name: str, label: str, due: datetime | None, working: bool = True) -> None:
            if due is None:
                return
            left = self.calendar.working_days_left(now, due) if working else (due - now).days
            estimated = working and not self.calendar.known(self.calendar.local_date(due))
            out.append(DeadlineView(name, label, due, left, now > due, estimated))

        for d, due in workflow.deadlines_of(report):
            add(d.column, d.label, due, d.working_days)
        return out

    def _review_open(self, report: Report, now: datetime) -> bool:
        return (
            report.status is Status.CLOSED
            and not report.review_used
            and report.closed_at is not None
            and now - report.closed_at <= timedelta(days=self.config.clocks.review_request_days)
        )

    async def rate(
        self, tracking_number: str, code: str, rating: str, comment: str | None = None
    ) -> CitizenView:
        """回访: 满意/基本满意 close the report; 不满意 reopens it once, to the same bureau."""
        await self.verified_report(tracking_number, code)
        return await self._rate(tracking_number, rating, comment)

    async def rate_as_owner(
        self, chat_id: int, tracking_number: str, rating: str, comment: str | None = None
    ) -> CitizenView:
        """回访 from the Telegram chat that filed the report: the chat proves ownership instead
        of the code. Another chat's report looks exactly like an unknown one."""
        return await self._rate(tracking_number, rating, comment, owner_chat=chat_id)

    async def _rate(
        self,
        tracking_number: str,
        rating: str,
        comment: str | None,
        *,
        owner_chat: int | None = None,
    ) -> CitizenView:
        try:
            value = Rating(rating)
        except ValueError:
            raise ValidationError("请选择满意、基本满意或不满意。", field="rating") from None
        note = validation.comment(comment)
        now = self.clock()
        async with self.store.transaction() as tx:
            report = await self._locked(tx, tracking_number)
            if owner_chat is not None and report.contact.telegram_chat_id != owner_chat:
                raise NotFound()
            before = report.snapshot()
            reopen = value is Rating.UNSATISFIED and report.reopen_count == 0
            workflow.apply(Action.RATE, report, branch="reopen" if reopen else None)
            report.rating = value
            report.rating_comment = note
            if reopen:
                self._reopen(report, now)
            else:
                report.close_reason = (
                    CloseReason.UNSATISFIED_FINAL
                    if value is Rating.UNSATISFIED
                    else CloseReason.RATED
                )
                report.closed_at = now
            await self.record_event(
                tx,
                report,
                Actor.citizen(),
                Action.RATE,
                before,
                {"rating": value.value, "comment": note, "reopened": reopen},
            )
        await self.announce(report.tracking_number, Action.RATE)
        return await self._citizen_view(report)

    def _reopen(self, report: Report, now: datetime) -> None:
        report.reopen_count += 1
        report.supervised = True  # the supervisor watches a reopened report
        report.deadlines.answer_by = self.calendar.add_working_days(
            now, self.answer_days(report)
        ).due
        report.deadlines.rate_by = None
        report.warned_for = report.escalated_for = None

    async def request_review(self, tracking_number: str, code: str, why: str) -> CitizenView:
        """复查: once, within the window after closing; the supervisor decides."""
        await self.verified_report(tracking_number, code)
        text = validation.reason(why, "reason", "复查理由")
        now = self.clock()
        async with self.store.transaction() as tx:
            report = await self._locked(tx, tracking_number)
            workflow.check(Action.REQUEST_REVIEW, report.status)
            if not self._review_open(report, now):
                raise InvalidTransition("复查只能在办结后 30 日内申请一次。")
            before = report.snapshot()
            workflow.apply(Action.REQUEST_REVIEW, report)
            report.review_used = True
            await self.record_event(tx, report, Actor.citizen(), Action.REQUEST_REVIEW, before,
                               {"reason": text})  # fmt: skip
        await self.announce(report.tracking_number, Action.REQUEST_REVIEW)
        return await self._citizen_view(report)

    # -- staff -----------------------------------------------------------------------------

    async def staff_view(self, actor: Actor, tracking_number: str) -> StaffView:
        report = await self.store.get_report(secrets.normalise_tracking_number(tracking_number))
        if report is None:
            raise NotFound()
        permissions.require_view(actor, report, self.config)
        assert report.id is not None
        events = await self.store.list_events(report.id)
        now = self.clock()
        last = next((e.at for e in reversed(events) if e.action == Action.ESCALATE.value), None)
        return StaffView(
            report=report,
            events=events,
            show_contact=permissions.can_see_contact(actor, report),
            deadlines=self.deadlines(report, now),
            escalation=EscalationView(
                workflow.escalation_needs_reason(report, now),
                last,
                workflow.escalation_again_at(last, self.escalate_repeat),
            ),
            now=now,
        )

    def may(self, actor: Actor, report: Report, action: Action) -> bool:
        """The policy table's answer for this actor and report: the state allows the action
        and the actor passes the action's permission rule."""
        return report.status in workflow.RULES[action].allowed and permissions.may(
            workflow.RULES[action].who, actor, report, self.config
        )

    def offered(self, actor: Actor, view: StaffView) -> dict[str, bool]:
        """Which forms a staff page offers for the report in ``view`` (the service refuses
        anything else anyway): the policy table's state and permission, and the guards that
        need the record (one extension application, no 督办 again within the window)."""
        report = view.report
        may = functools.partial(self.may, actor, report)
        rule = functools.partial(permissions.may, actor=actor, report=report, config=self.config)
        refusal = self.send_back_refusal(report, self.clock())
        return {
            "accept": may(Action.ACCEPT),
            "send_back": may(Action.SEND_BACK) and refusal is None,
            # shown instead of the form, so a clerk is not offered what will be refused
            "send_back_closed": may(Action.SEND_BACK) and refusal is not None,
            "extension": may(Action.REQUEST_EXTENSION)
            and not report.extension_used
            and not view.extension_applied,
            "answer": may(Action.ANSWER),
            "attach": rule("documents"),
            "assign": may(Action.ASSIGN),
            "reassign": may(Action.REASSIGN),
            "issue_types": rule("classifier"),
            "decide_extension": may(Action.DECIDE_EXTENSION),
            "escalate": may(Action.ESCALATE) and not view.escalate_later(),
            "escalate_later": may(Action.ESCALATE) and view.escalate_later(),
            "rework": may(Action.REOPEN),  # a supervisor returns an answer for rework
            "decide_review": may(Action.DECIDE_REVIEW),
            "substantiate": may(Action.SUBSTANTIATE) and report.substantiated is None,
            # The clerk's desk: 认领 what nobody has; 放弃认领 one's own (the lead: anyone's);
            # 指派 by the lead or a supervisor; notes by anyone who may see the report.
            "claim": may(Action.CLAIM) and report.assignee is None,
            "release": may(Action.RELEASE)
            and report.assignee is not None
            and (
                report.assignee == actor.id or permissions.is_bureau_lead(actor, report.department)
            ),
            "give": may(Action.GIVE),
            "note": may(Action.INTERNAL_NOTE) and actor.role is not Role.SYSTEM,
        }

    async def _staff_act(
        self,
        actor: Actor,
        tracking_number: str,
        action: Action,
        change: Callable[[Report, datetime], Awaitable[dict[str, Any]] | dict[str, Any]],
        *,
        check: Callable[[Report], None] | None = None,
        guard: Callable[[WriteTx, Report, datetime], Awaitable[None]] | None = None,
        public: bool | None = None,
        also: Callable[[WriteTx, Report], Awaitable[None]] | None = None,
    ) -> Report:
        """A staff action: the permission rule comes from the policy table unless the action
        (a note, which serves several purposes) brings its own ``check``. ``guard`` reads the
        record inside the transaction, under the report's lock, and may refuse."""
        now = self.clock()
        async with self.store.transaction() as tx:
            report = await self._locked(tx, tracking_number)
            if check is None:
                permissions.require(workflow.RULES[action].who, actor, report, self.config)
            else:
                check(report)
            if guard is not None:
                await guard(tx, report, now)
            before = report.snapshot()
            result = change(report, now)
            details = await result if asyncio.iscoroutine(result) else result
            assert isinstance(details, dict)
            # Labels for the model, in the event's transaction (feedback.labels owns them).
            await labels.record_all(tx, details.pop("_labels", []))
            await self.record_event(tx, report, actor, action, before, details, public=public)
            await stats_facts.record(tx, self.calendar, report, action.value, now, details)
            if also is not None:  # what else the action ends, in its transaction
                await also(tx, report)
        await self.announce(report.tracking_number, action)
        return report

    async def accept(self, actor: Actor, tracking_number: str) -> Report:
        """签收: the bureau takes the report on; the answer clock starts."""

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.apply(Action.ACCEPT, r)
            r.accepted_at = now
            r.deadlines.answer_by = self.calendar.add_working_days(now, self.answer_days(r)).due
            on_time = r.deadlines.sign_by is None or now <= r.deadlines.sign_by
            r.warned_for = r.escalated_for = None
            out: dict[str, Any] = {"department": r.department, "on_time": on_time}
            # Signed for: the department is right, whether the model chose it or not.
            out["_labels"] = [labels.department_label(r, actor, "accept", now)]
            return out

        return await self._staff_act(
            actor,
            tracking_number,
            Action.ACCEPT,
            change,
        )

    def send_back_refusal(self, report: Report, now: datetime) -> str | None:
        """Why ``report`` can no longer be sent back (a ruling binds; the window after routing
        is over), or None. The staff page asks the same question before it offers the form."""
        if report.route_locked:
            return "区司法局已裁定由本单位办理，不能再退回。"
        if report.deadlines.send_back_by and now > report.deadlines.send_back_by:
            return f"已超过退回时限（分派后 {self.config.clocks.send_back_window} 个工作日）。"
        return None

    async def send_back(
        self, actor: Actor, tracking_number: str, reason: str, suggested_department: str
    ) -> Report:
        """退回: within the window, with a reason and the bureau thought responsible. The
        second send-back goes to the supervisor, whose decision binds."""
        why = validation.reason(reason, "reason", "退回理由")
        suggested = (suggested_department or "").strip()

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.check(Action.SEND_BACK, r.status)
            refusal = self.send_back_refusal(r, now)
            if refusal:
                raise InvalidTransition(refusal)
            if not self.config.has_department(suggested):
                raise ValidationError("请选择您认为应当承办的单位。", field="department")
            if suggested == r.department:
                raise ValidationError("建议承办单位不能是本单位。", field="department")
            previous = r.department
            r.send_back_count += 1
            if r.send_back_count >= 2:
                workflow.apply(Action.SEND_BACK, r, branch="arbitration")
                r.arbitration = True
                self._set_triage(r, now)
                r.routing = {**r.routing, "suggested": suggested}
            else:
                workflow.apply(Action.SEND_BACK, r)
                r.assisting = [a for a in r.assisting if a != suggested]
                self._set_routed(r, suggested, now)
            r.accepted_at = None
            r.deadlines.answer_by = None
            return {
                "reason": why,
                "from": previous,
                "suggested": suggested,
                "arbitration": r.arbitration,
                "send_back_count": r.send_back_count,
            }

        return await self._staff_act(
            actor,
            tracking_number,
            Action.SEND_BACK,
            change,
        )

    async def assign(
        self,
        actor: Actor,
        tracking_number: str,
        department: str,
        issue_types: list[str] | None = None,
        assisting: list[str] | None = None,
        note: str | None = None,
    ) -> Report:
        """Triage (分办) or the supervisor's binding decision after two send-backs."""
        if not self.config.has_department(department):
            raise ValidationError("请选择承办单位。", field="department")
        if department == self.config.supervisor_department:
            # The supervising body handles its own matters (法律援助, 执法监督) too.
            pass
        types = self._issue_types(issue_types)
        helpers = [a for a in (assisting or []) if self.config.has_department(a)]

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.check(Action.ASSIGN, r.status)
            binding = r.arbitration
            if issue_types is not None and sorted(types) != sorted(r.issue_types):
                r.issue_types = types
            workflow.apply(Action.ASSIGN, r)
            self._set_routed(r, department, now)
            r.assisting = [a for a in helpers if a != department]
            if binding:
                r.route_locked = True
                r.arbitration = False
                r.deadlines.send_back_by = None
            # The desk's (or the supervisor's binding) choice is a label; a later 签收 by the
            # bureau confirms it again, a send-back is followed by the label of whoever signs.
            found = [labels.department_label(r, actor, "arbitration" if binding else "assign",
                                             now)]  # fmt: skip
            if issue_types is not None:
                found.append(labels.issue_type_label(r, actor, "assign", r.issue_types, now))
            return {
                "department": department,
                "assisting": r.assisting,
                "issue_types": r.issue_types,
                "binding": binding,
                "note": validation.clean_text(note) or None,
                "_labels": found,
            }

        return await self._staff_act(
            actor,
            tracking_number,
            Action.ASSIGN,
            change,
        )

    async def reassign(
        self, actor: Actor, tracking_number: str, department: str, reason: str
    ) -> Report:
        """改派: a supervisor gives a routed or signed-for report to another bureau, with a
        reason (in the record); the new bureau's clock starts anew (sign for, then answer),
        and the decision binds (no send-back)."""
        why = validation.reason(reason, "reason", "改派理由")
        wanted = (department or "").strip()
        if not self.config.has_department(wanted):
            raise ValidationError("请选择改派到的承办单位。", field="department")

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.check(Action.REASSIGN, r.status)
            if wanted == r.department:
                raise ValidationError("改派的承办单位与现承办单位相同。", field="department")
            previous = r.department
            workflow.apply(Action.REASSIGN, r)
            self._set_routed(r, wanted, now)
            r.assisting = [a for a in r.assisting if a != wanted]
            r.accepted_at = None
            r.deadlines.answer_by = None
            r.escalated_for = None
            r.route_locked = True
            r.arbitration = False
            r.deadlines.send_back_by = None
            return {"department": wanted, "from": previous, "reason": why, "binding": True}

        return await self._staff_act(actor, tracking_number, Action.REASSIGN, change)

    def _issue_types(self, codes: list[str] | None) -> list[str]:
        types = [t for t in (codes or []) if t]
        unknown = [t for t in types if t not in self.config.issue_type_codes]
        if unknown:
            raise ValidationError(f"未知的问题类型：{'、'.join(unknown)}", field="issue_types")
        return sorted(set(types), key=self.config.issue_type_codes.index)

    async def correct_issue_types(
        self, actor: Actor, tracking_number: str, issue_types: list[str]
    ) -> Report:
        """Staff correct the issue types; the correction teaches the model."""
        types = self._issue_types(issue_types)

        def change(r: Report, now: datetime) -> dict[str, Any]:
            if sorted(types) == sorted(r.issue_types):
                raise ValidationError("问题类型没有变化。", field="issue_types")
            previous = r.issue_types
            r.issue_types = types
            label = labels.issue_type_label(r, actor, "correction", types, now)
            return {"issue_types": types, "previous": previous, "_labels": [label]}

        def check(r: Report) -> None:
            permissions.require("classifier", actor, r, self.config)

        return await self._staff_act(actor, tracking_number, Action.NOTE, change, check=check)

    async def request_extension(
        self, actor: Actor, tracking_number: str, days: int, reason: str
    ) -> Report:
        why = validation.reason(reason, "reason", "延期理由")
        limit = self.config.clocks.extension_max
        if not isinstance(days, int) or not 1 <= days <= limit:
            raise ValidationError(f"延期天数应为 1 至 {limit} 个工作日。", field="days")

        async def guard(tx: WriteTx, r: Report, now: datetime) -> None:
            workflow.check(Action.REQUEST_EXTENSION, r.status)
            applied = await self._last_event(tx, r, Action.REQUEST_EXTENSION)
            if r.extension_used or applied is not None:
                raise InvalidTransition(workflow.ONE_EXTENSION)

        def change(r: Report, now: datetime) -> dict[str, Any]:
            r.pending_extension = {"days": days, "reason": why, "resume": r.status.value}
            workflow.apply(Action.REQUEST_EXTENSION, r)
            return {"days": days, "reason": why}

        return await self._staff_act(
            actor, tracking_number, Action.REQUEST_EXTENSION, change, guard=guard
        )

    async def decide_extension(
        self, actor: Actor, tracking_number: str, approve: bool, note: str | None = None
    ) -> Report:
        permissions.require_supervisor(actor)

        def change(r: Report, now: datetime) -> dict[str, Any]:
            pending = r.pending_extension or {}
            resume = pending.get("resume", "accepted")
            workflow.apply(Action.DECIDE_EXTENSION, r, branch=resume)
            days = int(pending.get("days", 0))
            if approve and r.deadlines.answer_by:
                r.deadlines.answer_by = self.calendar.add_working_days(
                    r.deadlines.answer_by, days
                ).due
                r.extension_used = True
                r.warned_for = r.escalated_for = None
            r.pending_extension = None
            return {
                "approved": approve,
                "days": days,
                "reason": pending.get("reason", ""),
                "note": validation.clean_text(note) or None,
            }

        return await self._staff_act(actor, tracking_number, Action.DECIDE_EXTENSION, change)

    async def answer(
        self,
        actor: Actor,
        tracking_number: str,
        text: str,
        issue_types: list[str] | None = None,
    ) -> Report:
        """答复: the bureau's answer; the citizen's rating window opens. ``issue_types``: the
        types the clerk confirmed in the answer form (the predicted ones preselected; may be
        changed, empty = none): they become the report's types and a label for the model.
        None (a caller without the form) confirms nothing."""
        body = validation.answer_text(text)
        types = self._issue_types(issue_types) if issue_types is not None else None

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.apply(Action.ANSWER, r)
            r.answer = body
            r.answered_at = now
            # An answer given while an extension application waits makes it moot: the record
            # says so, rather than leaving an application nobody decided.
            withdrawn = (r.pending_extension or {}).get("days")
            r.pending_extension = None
            r.deadlines.rate_by = self.calendar.add_days(
                now, self.config.clocks.rating_window_days
            ).due
            on_time = r.deadlines.answer_by is None or now <= r.deadlines.answer_by
            out: dict[str, Any] = {"answer": body, "on_time": on_time}
            if withdrawn:
                out["extension_withdrawn"] = withdrawn
            if types is not None:
                if sorted(types) != sorted(r.issue_types):
                    out["issue_types"] = types
                    out["previous_issue_types"] = list(r.issue_types)
                    r.issue_types = types
                out["_labels"] = [labels.issue_type_label(r, actor, "answer", types, now)]
            return out

        async def sent(tx: WriteTx, r: Report) -> None:
            assert r.id is not None
            await self.desk.clear_draft(tx, r.id, actor.id)  # the draft became the answer

        return await self._staff_act(actor, tracking_number, Action.ANSWER, change, also=sent)

    async def escalate(self, actor: Actor, tracking_number: str, note: str | None = None) -> Report:
        """督办 by a supervisor (the background job escalates overdue reports itself). Not
        again within the window after the last 督办 (the clock's too), and with a reason when
        the report is not overdue; both checked under the report's lock, so two clicks at
        once make one 督办."""
        permissions.require_supervisor(actor)
        text = validation.clean_text(note) or None

        async def guard(tx: WriteTx, r: Report, now: datetime) -> None:
            workflow.check(Action.ESCALATE, r.status)
            last = await self._last_event(tx, r, Action.ESCALATE)
            again = workflow.escalation_again_at(last.at if last else None, self.escalate_repeat)
            if last is not None and again is not None and now < again:
                shown = last.at.astimezone(self.calendar.tz)
                raise InvalidTransition(workflow.ESCALATED_RECENTLY.format(
                    at=f"{shown:%m-%d %H:%M}",
                    minutes=int(self.escalate_repeat.total_seconds() // 60),
                ))  # fmt: skip
            if workflow.escalation_needs_reason(r, now):
                validation.reason(note, "note", workflow.ESCALATION_REASON + "（尚未逾期）")

        def change(r: Report, now: datetime) -> dict[str, Any]:
            late = not workflow.escalation_needs_reason(r, now)
            workflow.apply(Action.ESCALATE, r)
            r.escalation_level += 1
            r.supervised = True
            stage = workflow.stage_deadline(r)
            if late and stage is not None:
                # This deadline's 督办 is done: the clock does not escalate it a second time.
                r.escalated_for = workflow.deadline_key(stage[0].stage, stage[1])
            return {"note": text, "level": r.escalation_level, "overdue": late}

        return await self._staff_act(actor, tracking_number, Action.ESCALATE, change, guard=guard)

    async def escalation_waits(self, tracking_numbers: Sequence[str]) -> dict[str, datetime]:
        """For lists that offer 督办 (the dashboard's overdue list): the reports that may not
        be escalated again yet, with the moment they may — the same window escalate() keeps."""
        numbers = list(dict.fromkeys(tracking_numbers))
        if not numbers:
            return {}
        rows = await self.store.fetch(LAST_ESCALATED, {"numbers": list(numbers)})
        now = self.clock()
        out: dict[str, datetime] = {}
        for r in rows:
            again = workflow.escalation_again_at(ts(r["last"]), self.escalate_repeat)
            if again is not None and now < again:
                out[str(r["tracking_number"])] = again
        return out

    async def _last_event(self, tx: WriteTx, report: Report, action: Action) -> Event | None:
        """The report's latest event of ``action``, read in the transaction holding its lock."""
        rows = await tx.fetch(LAST_EVENT, {"report_id": report.id, "action": action.value})
        return event_from_row(rows[0]) if rows else None

    async def decide_review(
        self, actor: Actor, tracking_number: str, reopen: bool, note: str
    ) -> Report:
        permissions.require_supervisor(actor)
        text = validation.reason(note, "note", "复查意见")

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.apply(Action.DECIDE_REVIEW, r, branch="reopen" if reopen else None)
            if reopen:
                self._reopen(r, now)
                r.close_reason = None
                r.closed_at = None
            else:
                r.close_reason = CloseReason.REVIEW_UPHELD
                r.closed_at = now
            # The supervisor has looked at the matter again: its issue types stand confirmed.
            found = [labels.issue_type_label(r, actor, "review", r.issue_types, now)]
            return {"reopen": reopen, "note": text, "_labels": found}

        return await self._staff_act(actor, tracking_number, Action.DECIDE_REVIEW, change)

    # -- the clerk's desk (issue 18: 12) ----------------------------------------------------

    async def clerks(self, actor: Actor, department: str | None) -> list[Clerk]:
        """The active staff accounts of a bureau (its clerks and lead), for the 经办人 menus
        and names: a bureau's own staff and supervisors may list them."""
        if department is None or not (
            permissions.is_supervisor(actor)
            or (actor.role is Role.STAFF and actor.department == department)
        ):
            return []
        return [
            Clerk(u.username, u.display_name or u.username, u.bureau_lead)
            for u in await self.store.list_users()
            if u.active and u.role == Role.STAFF.value and u.department == department
        ]

    async def claim(self, actor: Actor, tracking_number: str) -> Report:
        """认领: a clerk of the report's bureau takes it as their own (未认领 only; the lead
        gives a claimed one to someone else)."""

        async def guard(tx: WriteTx, r: Report, now: datetime) -> None:
            workflow.check(Action.CLAIM, r.status)
            if r.assignee == actor.id:
                raise InvalidTransition("您已认领该诉求。")
            if r.assignee is not None:
                raise InvalidTransition(
                    f"该诉求已由 {r.assignee} 认领；如需改由您办理，请本单位负责人指派。"
                )

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.apply(Action.CLAIM, r)
            r.assignee = actor.id
            return {"assignee": actor.id}

        return await self._staff_act(actor, tracking_number, Action.CLAIM, change, guard=guard)

    async def release(self, actor: Actor, tracking_number: str) -> Report:
        """放弃认领: the 经办人 (or the bureau's lead) puts the report back to 未认领."""

        async def guard(tx: WriteTx, r: Report, now: datetime) -> None:
            workflow.check(Action.RELEASE, r.status)
            if r.assignee is None:
                raise InvalidTransition("该诉求尚未认领。")
            if r.assignee != actor.id and not permissions.is_bureau_lead(actor, r.department):
                raise PermissionDenied("只有经办人本人或本单位负责人可以放弃认领。")

        def change(r: Report, now: datetime) -> dict[str, Any]:
            previous = r.assignee
            workflow.apply(Action.RELEASE, r)
            r.assignee = None
            return {"previous_assignee": previous}

        return await self._staff_act(actor, tracking_number, Action.RELEASE, change, guard=guard)

    async def give(self, actor: Actor, tracking_number: str, username: str) -> Report:
        """指派经办人: the bureau's lead or a supervisor gives the report to a clerk of its
        bureau ("" : to nobody, 未认领)."""
        wanted = (username or "").strip().lower() or None
        user = await self.store.get_user(wanted) if wanted else None

        def change(r: Report, now: datetime) -> dict[str, Any]:
            workflow.check(Action.GIVE, r.status)
            if wanted is not None and (
                user is None
                or not user.active
                or user.role != Role.STAFF.value
                or user.department != r.department
            ):
                raise ValidationError("请选择本单位在岗的工作人员。", field="assignee")
            if wanted == r.assignee:
                raise ValidationError("经办人没有变化。", field="assignee")
            previous = r.assignee
            workflow.apply(Action.GIVE, r)
            r.assignee = wanted
            return {"assignee": wanted, "previous_assignee": previous}

        return await self._staff_act(actor, tracking_number, Action.GIVE, change)

    async def add_note(self, actor: Actor, tracking_number: str, text: str) -> Report:
        """内部备注: a note between staff, kept in the report's record as an internal event
        (never on the citizen's timeline, in a notice, in Open311 or on a public page)."""
        body = validation.reason(text, "note", "内部备注")

        def change(r: Report, now: datetime) -> dict[str, Any]:
            return {"note": body}

        return await self._staff_act(actor, tracking_number, Action.INTERNAL_NOTE, change)

    async def save_draft(self, actor: Actor, tracking_number: str, text: str) -> desk.Draft | None:
        """Keep the clerk's unsent answer (per report and clerk); it comes back in the answer
        form after logout or an expired login, and goes when the clerk sends the answer.
        Empty text forgets the draft. Whoever may answer the report may keep one."""
        body = desk.draft_text(text)
        report = await self._report_for(actor, tracking_number)
        permissions.require(workflow.RULES[Action.ANSWER].who, actor, report, self.config)
        assert report.id is not None
        await self.desk.save_draft(report.id, actor.id, body, self.clock())
        return await self.desk.draft(report.id, actor.id)

    async def draft(self, actor: Actor, report: Report) -> desk.Draft | None:
        """The actor's saved draft of this report's answer, if any."""
        if report.id is None or actor.role is not Role.STAFF:
            return None
        return await self.desk.draft(report.id, actor.id)

    async def _report_for(self, actor: Actor, tracking_number: str) -> Report:
        report = await self.store.get_report(secrets.normalise_tracking_number(tracking_number))
        if report is None:
            raise NotFound()
        permissions.require_view(actor, report, self.config)
        return report

    async def canned_replies(
        self, actor: Actor, department: str | None = None
    ) -> list[desk.CannedReply]:
        """A bureau's canned replies (常用答复), for its staff's answer form."""
        dept = department or actor.department
        if not permissions.may_use_replies(actor, dept):
            return []
        assert dept is not None
        return await self.desk.replies(dept)

    async def canned_reply(self, actor: Actor, reply_id: int) -> desk.CannedReply:
        found = await self.desk.reply(reply_id)
        if found is None or not permissions.may_use_replies(actor, found.department):
            raise NotFound("没有这条常用答复。")
        return found

    async def add_canned_reply(
        self, actor: Actor, title: str, body: str, department: str | None = None
    ) -> desk.CannedReply:
        """A bureau's lead adds a canned reply for the bureau."""
        dept = department or actor.department
        permissions.require_keep_replies(actor, dept)
        if dept is None or not self.config.has_department(dept):
            raise ValidationError("请选择单位。", field="department")
        name, text = desk.reply_input(title, body)
        return await self.desk.add_reply(dept, name, text, actor.id, self.clock())

    async def delete_canned_reply(self, actor: Actor, reply_id: int) -> None:
        found = await self.desk.reply(reply_id)
        if found is None:
            raise NotFound("没有这条常用答复。")
        permissions.require_keep_replies(actor, found.department)
        await self.desk.delete_reply(reply_id)

    # -- named clerk accounts (supervisors; `feedback users` on the server) ------------------

    async def staff_accounts(self, actor: Actor) -> list[User]:
        permissions.require_manage_accounts(actor)
        return await self.store.list_users()

    async def create_clerk(
        self,
        actor: Actor,
        username: str,
        password: str,
        department: str,
        display_name: str,
        *,
        lead: bool = False,
    ) -> User:
        """A named clerk account of a bureau (argon2id password, as `feedback users add`)."""
        permissions.require_manage_accounts(actor)
        return await accounts.create_user(
            self.store, self.config, username, password, "staff", department, display_name,
            lead=lead,
        )  # fmt: skip

    async def set_account_active(self, actor: Actor, username: str, active: bool) -> User:
        """Disable (ends its sessions at once) or enable a staff account."""
        permissions.require_manage_accounts(actor)
        if (username or "").strip().lower() == actor.id and not active:
            raise ValidationError("不能停用自己的账号。", field="username")
        return await accounts.set_active(self.store, username, active)

    async def set_bureau_lead(self, actor: Actor, username: str, lead: bool) -> User:
        permissions.require_manage_accounts(actor)
        return await accounts.set_lead(self.store, username, lead)

    # -- queues ------------------------------------------------------------------------------

    def queue_filter(
        self, actor: Actor, name: str, query: str | None = None, clerk: str | None = None
    ) -> ReportFilter:
        """The one definition of a work queue (and of searching in it): which reports the
        actor may list under ``name``, narrowed to those matching every word of ``query``
        and to a 经办人 (``clerk``: "mine", "none" = 未认领, or a clerk's username)."""
        if name not in QUEUES:
            raise ValidationError("未知的工作队列。", field="queue")
        now = self.clock()
        supervisor = permissions.is_supervisor(actor)
        if actor.role is not Role.STAFF and not supervisor:
            raise PermissionDenied()
        flt = ReportFilter(department=None if supervisor else actor.department,
                           words=search_words(query))  # fmt: skip
        S = Status
        match name:
            case "new":
                flt.statuses = [S.ROUTED]
            case "in_progress":
                flt.statuses = workflow.in_order(workflow.ANSWERING)
            case "due_soon":
                flt.due_before = now + timedelta(days=3)
            case "overdue":
                flt.due_before = now
            case "reopened":
                flt.statuses = [S.REOPENED]
            case "extension":
                flt.statuses = [S.EXTENSION_REQUESTED]
            case "answered":
                flt.statuses = workflow.in_order(workflow.RATING | workflow.CLOSED)
            case "triage" | "arbitration":
                if not permissions.is_triage_desk(actor, self.config):
                    raise PermissionDenied()
                flt.department = None
                flt.statuses = [S.TRIAGE]
                flt.arbitration = name == "arbitration"
            case "review":
                if not supervisor:
                    raise PermissionDenied()
                flt.department = None
                flt.statuses = [S.REVIEW]
            case "escalated":
                flt.escalated = True
                flt.statuses = workflow.in_order(workflow.OPEN)
            case "all":
                pass
        flt.assignee = clerk_filter(actor, clerk)
        return flt

    async def queue(self, actor: Actor, name: str, *, limit: int = 100, offset: int = 0,
                    query: str | None = None, clerk: str | None = None) -> list[Report]:  # fmt: skip
        flt = self.queue_filter(actor, name, query, clerk)
        flt.limit, flt.offset = limit, offset
        flt.newest_first = name not in ("due_soon", "overdue")
        return await self.store.list_reports(flt)

    async def queue_page(
        self,
        actor: Actor,
        name: str,
        *,
        query: str | None = None,
        issue_type: str | None = None,
        department: str | None = None,
        limit: int = 100,
        offset: int = 0,
        order: str = "newest",
        clerk: str | None = None,
    ) -> tuple[list[Report], int]:
        """A page of a work queue and the queue's size, with the staff console's filters.
        Only supervisors may look across bureaus; anyone else's filter stays on their own.
        ``order`` "unsure" (triage queues only): the least sure prediction first."""
        flt = self.queue_filter(actor, name, query, clerk)
        if issue_type in self.config.issue_type_codes:
            flt.issue_type = issue_type
        if (
            department
            and permissions.is_supervisor(actor)
            and self.config.has_department(department)
        ):
            flt.department = department
        total = await self.store.count_reports(flt)
        flt.newest_first = name not in ("due_soon", "overdue")
        if order == "unsure" and flt.statuses == [Status.TRIAGE]:
            # Ranked here, not in SQL: the certainty is inside the routing record (JSON), and
            # a triage queue is short; the oldest first among equals.
            flt.limit, flt.offset = UNSURE_WINDOW, 0
            found = await self.store.list_reports(flt)
            found.sort(key=lambda r: (routing.certainty(r.routing), r.created_at))
            return found[offset : offset + limit], total
        flt.limit, flt.offset = limit, offset
        return await self.store.list_reports(flt), total

    async def queue_counts(
        self, actor: Actor, names: list[str], clerk: str | None = None
    ) -> dict[str, int]:
        return {
            n: await self.store.count_reports(self.queue_filter(actor, n, clerk=clerk))
            for n in names
        }

    async def reports_for_chat(self, chat_id: int, limit: int = 20) -> list[Report]:
        """A Telegram chat's own reports (the bot's /status)."""
        return await self.store.list_reports(ReportFilter(telegram_chat_id=chat_id, limit=limit))

    # -- public reads (Open311, the public page) ------------------------------------------------

    async def report(self, tracking_number: str) -> Report | None:
        """A report by number, for public listings that show only public-safe fields."""
        tn = secrets.normalise_tracking_number(tracking_number or "")
        return await self.store.get_report(tn) if secrets.TRACKING_RE.match(tn) else None

    async def find_reports(
        self,
        *,
        department: str | None = None,
        departments: list[str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        statuses: list[Status] | None = None,
        api_key: apikeys.ApiKey | None = None,
        limit: int = 100,
    ) -> list[Report]:
        flt = ReportFilter(department=department, departments=departments,
                           created_from=created_from, created_to=created_to, statuses=statuses,
                           api_key_id=api_key.id if api_key else None, limit=limit)  # fmt: skip
        return await self.store.list_reports(flt)

    async def public_updates(
        self, since: datetime, until: datetime, limit: int = 1000
    ) -> list[PublicUpdate]:
        """The public events (the citizen's timeline: 签收, 答复, 办结, …) of every report that
        happened in [since, until), oldest first, at most ``limit``."""
        reports = await self.store.list_reports(ReportFilter(updated_from=since, limit=limit))
        found: list[PublicUpdate] = []
        for report in reports:
            for e in await self.public_history(report):
                if since <= e.at < until:
                    state = (e.after or {}).get("status")
                    found.append(PublicUpdate(report, e.seq, self._history_item(e),
                                              Status(state) if state else None))  # fmt: skip
        found.sort(key=lambda u: (u.item.at, u.report.tracking_number, u.seq))
        return found[:limit]

    async def public_history(self, report: Report) -> list[Event]:
        """The public events of a report (the citizen's timeline, notices, Open311)."""
        assert report.id is not None
        return workflow.public_events(await self.store.list_events(report.id))

    async def public_reports(
        self, departments: list[str], since: datetime, query: str, page: int, page_size: int
    ) -> tuple[list[public_search.PublicReport], bool]:
        """Answered reports of the shown bureaus, anonymised; (this page, whether there is more)."""
        return await public_search.answered_reports(
            self.stats, departments, since, query, page, page_size
        )

    async def public_report(
        self, departments: list[str], since: datetime, tracking_number: str
    ) -> public_search.PublicReport | None:
        """One report as the public page shows it (anonymised), by its number, if the public
        page would list it: answered, its bureau shown, its citizen not against publication."""
        tn = secrets.normalise_tracking_number(tracking_number)
        if not secrets.TRACKING_RE.match(tn):
            return None
        found, _ = await public_search.answered_reports(
            self.stats, departments, since, "", 1, 1, tracking_number=tn
        )
        return found[0] if found else None

    async def attachment(self, actor: Actor, attachment_id: int) -> Attachment:
        """A file of a report, for whoever may see the report (else: not found)."""
        found = await self.store.get_attachment(attachment_id)
        if found is None:
            raise NotFound("附件不存在。")
        await self.staff_view(actor, found[1])  # who may not see the report may not see its files
        return found[0]

    # -- the record --------------------------------------------------------------------------

    async def verify_records(self) -> tuple[int, list[record.ChainBreak]]:
        """Check every report's chain, and its row against the chain; (reports checked,
        breaks found)."""
        checked, breaks = 0, []

        def days(start: datetime, end: datetime) -> int:
            return stats_facts.working_days_between(self.calendar, start, end)

        async for row, files, events in self.store.iter_records():
            checked += 1
            try:
                report = report_from_row(row)
            except (ValueError, TypeError, KeyError) as exc:
                breaks.append(record.ChainBreak(str(row.get("tracking_number")), 0,
                                                f"report row unreadable ({exc})"))  # fmt: skip
                continue
            report.attachments = files
            breaks += record.verify_report(report, events, record.RecordCheck(row, days))
        return checked, breaks

    async def published_checkpoints(self, limit: int = 60) -> list[checkpoint.Checkpoint]:
        """The record checkpoints, newest first, for the public page."""
        return await checkpoint.recent(self.store, limit)

    async def published_checkpoint(self, digest: str) -> checkpoint.Checkpoint:
        found = await checkpoint.get(self.store, digest) if len(digest) == 64 else None
        if found is None:
            raise NotFound("没有这个校验点。")
        return found

    async def unsealed(self) -> int:
        """Reports from before row digests that the background job has not sealed yet."""
        rows = await self.store.fetch(UNSEALED_COUNT, {})
        return int(rows[0]["n"])

    async def seal_records(self, limit: int = 1000) -> int:
        """Give reports from before row digests their first one: a `seal` event (internal)
        holding the row's digest, the content hashes and the attachments' SHA-256, so that
        from now on every edit of the row is caught. A broken chain is left as it is, for
        `feedback verify` to report. Returns how many were sealed."""
        rows = await self.store.fetch(UNSEALED, {"limit": limit})
        sealed = 0
        for r in rows:
            async with self.store.transaction() as tx:
                report = await tx.lock_report(r["tracking_number"])
                if report is None or report.record_salt:
                    continue
                assert report.id is not None
                events = await tx.fetch(EVENTS_OF, {"report_id": report.id})
                chain = [event_from_row(e) for e in events]
                found = record.verify_chain(
                    report.tracking_number, chain, head=report.record_head,
                    count=report.record_count,
                )  # fmt: skip
                if found is not None:
                    log.warning("not sealing %s: %s", report.tracking_number, found)
                    continue
                files = await tx.fetch(FILES_OF, {"report_id": report.id})
                await self.record_event(
                    tx, report, Actor.system("record"), Action.SEAL, report.snapshot(),
                    {"attachments": [f["sha256"] for f in files]}, public=False,
                )  # fmt: skip
                sealed += 1
        return sealed

    # -- staff documents ---------------------------------------------------------------------

    async def may_attach(self, actor: Actor, tracking_number: str) -> None:
        """Refuse, before any file is written, whoever may not add documents to the report
        (another bureau: not found; an assisting bureau, which may read it: not permitted)."""
        view = await self.staff_view(actor, tracking_number)
        permissions.require("documents", actor, view.report, self.config)

    async def attach(self, actor: Actor, tracking_number: str, attachment: Any) -> Report:
        """Staff add a document (inspection record, decision) to the report's file. The file is
        already stored; this records it, in the record but not on the citizen's history."""

        def check(r: Report) -> None:
            permissions.require("documents", actor, r, self.config)

        now = self.clock()
        async with self.store.transaction() as tx:
            report = await self._locked(tx, tracking_number)
            check(report)
            before = report.snapshot()
            attachment.uploaded_by = actor.id
            attachment.created_at = now
            assert report.id is not None
            attachment.id = await tx.insert_attachment(report.id, attachment)
            report.attachments.append(attachment)
            details = {
                "attachment": {
                    "id": attachment.id,
                    "filename": attachment.filename,
                    "sha256": attachment.sha256,
                    "size": attachment.size,
                }
            }
            await self.record_event(tx, report, actor, Action.NOTE, before, details, public=False)
        await self.announce(report.tracking_number, Action.NOTE)
        return report


@asynccontextmanager
async def opened(db: str, config: Config, **kw: Any) -> AsyncIterator[FeedbackService]:
    """The service over the store at ``db`` (a SQLite path or a PostgreSQL URL), open for the
    block: how web/ and bots/ get their service without ever holding a store."""
    store = open_store(db)
    await store.open()
    try:
        service = FeedbackService(store, config, **kw)
        try:
            yield service
        finally:
            await service.close()
    finally:
        await store.close()
