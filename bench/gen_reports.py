"""Generate a large SQLite database of reports for the statistics benchmark (bench/stats.py).

Run: ``python bench/gen_reports.py var/bench-1m.db --count 1000000``.

Rows are written straight into the `reports` and `report_issue_types` tables with executemany
in big transactions, with realistic distributions: 18 bureaus of very different size, web /
Telegram / API / import channels, complaints and consultations, issue types (most reports have
none), ~2 years of submissions growing over time with a weekly rhythm, sign-for and answer times
in working days with late tails, send-backs, extensions, ratings, reopens, substantiation and
escalations, and the open reports of the last weeks (some overdue). The statistics facts of
migration 0006 are filled in as the service would.

What it does NOT write: the per-report event chains (the full-process record), attachments,
follow-up code hashes that verify, or contact data. `feedback verify` is meaningless on this
database; it exists to time the statistics. At the end the rollup is brought up to date with
the product's own code (feedback.stats.Stats.refresh, in short transactions, as `feedback tick`
would) and so is the public page's search index (feedback.public_search); both times are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import sqlite3
import sys
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import public_search  # noqa: E402
from feedback.config import load_config  # noqa: E402
from feedback.deadlines import WorkCalendar  # noqa: E402
from feedback.stats import Stats  # noqa: E402
from feedback.store.sqlite import SQLiteStore  # noqa: E402

# Share of reports per bureau (street-level enforcement and housing dominate real traffic).
DEPARTMENTS = {
    "zhzf": 18, "zjj": 14, "scjg": 10, "sthj": 7, "jtys": 7, "gaj": 7, "rsj": 6, "zrzy": 5,
    "jtj": 5, "wjj": 4, "mzj": 3, "ybj": 2, "yjj": 2, "nyj": 3, "slj": 1.5, "wlj": 1.5,
    "spj": 2, "sfj": 2,
}  # fmt: skip
CHANNELS = {"web": 58, "telegram": 30, "api": 10, "import": 2}
ISSUE_TYPES = {"opacity": 12, "improper_procedure": 10, "abuse_of_power": 7, "inaction": 14}
TITLES = [
    "占道经营执法不规范", "物业收费不公示", "建筑工地夜间施工扰民", "餐馆油烟无人管",
    "罚款不开票据", "违章建筑举报后无人处理", "拖欠工资投诉", "出租车拒载绕路",
    "食品安全问题反映", "医保报销被拒", "学校乱收费", "低保审核不公开",
]  # fmt: skip
OPEN_ANSWERING = ("accepted", "extension_requested", "reopened")
COLUMNS = (
    "tracking_number", "code_hash", "channel", "kind", "title", "text", "status",
    "created_at", "updated_at", "anonymous", "department", "issue_types", "sign_by",
    "answer_by", "send_back_count", "extension_used", "escalation_level", "answer",
    "answered_at", "accepted_at", "rating", "reopen_count", "close_reason", "closed_at",
    "substantiated", "signed_on_time", "sign_working_days", "answered_on_time",
    "answer_working_days",
)  # fmt: skip


class Weighted:
    """A fast weighted choice (random.choices rebuilds its tables on every call)."""

    def __init__(self, table: Mapping[str, float]):
        self.keys = list(table)
        self.cum = list(itertools.accumulate(table.values()))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect_right(self.cum, rng.random() * self.total)]


class WorkDays:
    """Working-day arithmetic on local dates, cached (the calendar is the product's)."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date):
        self.days: list[date] = []
        day = first
        while day <= last:
            if calendar.is_workday(day)[0]:
                self.days.append(day)
            day += timedelta(days=1)
        self.index = {d: i for i, d in enumerate(self.days)}
        self._cache: dict[tuple[date, int], date] = {}

    def next_after(self, day: date) -> int:
        probe = day + timedelta(days=1)
        while probe not in self.index and probe <= self.days[-1]:
            probe += timedelta(days=1)
        return self.index.get(probe, len(self.days) - 1)

    def nth_after(self, day: date, n: int) -> date:
        key = (day, n)
        found = self._cache.get(key)
        if found is None:
            found = (
                day if n <= 0 else self.days[min(self.next_after(day) + n - 1, len(self.days) - 1)]
            )
            self._cache[key] = found
        return found


def generate(path: Path, count: int, seed: int, now: datetime) -> None:
    config = load_config()
    tz = WorkCalendar(config.calendar_extra, config.timezone).tz
    calendar = WorkCalendar(config.calendar_extra, config.timezone)
    rng = random.Random(seed)
    span_days = 730
    start = (now - timedelta(days=span_days)).astimezone(tz).date()
    work = WorkDays(
        calendar, start - timedelta(days=5), now.astimezone(tz).date() + timedelta(days=120)
    )
    today = now.astimezone(tz).date()

    # Volume grows by half over the two years and drops at weekends.
    day_weights = []
    for i in range(span_days):
        d = start + timedelta(days=i)
        day_weights.append((1 + 0.5 * i / span_days) * (0.45 if d.weekday() >= 5 else 1.0))

    departments, channels = Weighted(DEPARTMENTS), Weighted(CHANNELS)
    ends: dict[date, str] = {}

    def end_of(d: date) -> str:
        text = ends.get(d)
        if text is None:
            text = ends[d] = (
                datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=tz).astimezone(UTC).isoformat()
            )
        return text

    def at(d: date) -> str:
        moment = datetime(d.year, d.month, d.day, 10, tzinfo=tz) + timedelta(
            minutes=rng.randint(0, 420)
        )
        return min(moment.astimezone(UTC), now).isoformat()

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # ~1 GB: the indexes stay in memory
    marks = ", ".join("?" for _ in COLUMNS)
    insert = f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES ({marks})"
    (first_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM reports").fetchone()
    batch: list[tuple[object, ...]] = []
    types_batch: list[tuple[int, str]] = []
    t0 = time.perf_counter()
    days = rng.choices(range(span_days), weights=day_weights, k=count)
    days.sort()
    for n, offset in enumerate(days, start=1):
        rid = first_id + n
        day = start + timedelta(days=offset)
        local = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(
            seconds=rng.randint(7 * 3600, 22 * 3600)
        )
        created = local.astimezone(UTC)
        if created > now:
            created = now - timedelta(minutes=rng.randint(1, 600))
            day = created.astimezone(tz).date()
        department: str | None = departments.pick(rng)
        channel = channels.pick(rng)
        kind = "consultation" if rng.random() < 0.18 else "complaint"
        types = [t for t, w in ISSUE_TYPES.items() if rng.random() < w / 100]
        age = (today - day).days
        sent_back = 1 if rng.random() < 0.06 else 0
        sent_back += 1 if sent_back and rng.random() < 0.15 else 0
        if age == 0 and rng.random() < 0.03:
            department = None  # still with the triage desk
        sign_days = rng.choices([0, 1, 2, 3, 5, 8], weights=[55, 33, 6, 3, 2, 1])[0]
        routed = work.nth_after(day, 2) if sent_back else day
        sign_by_day = work.nth_after(routed, config.clocks.sign_for)
        sign_day = work.nth_after(routed, sign_days)
        limit = (
            config.clocks.answer_consultation
            if kind == "consultation"
            else config.clocks.answer_complaint
        )
        extended = rng.random() < 0.08
        answer_days = max(
            1, int(rng.gammavariate(2.2, limit / 3.2 if kind == "complaint" else limit / 3.0))
        )
        answer_by_day = work.nth_after(sign_day, limit + (10 if extended else 0))
        answer_day = work.nth_after(sign_day, answer_days)
        row: dict[str, object] = dict.fromkeys(COLUMNS)
        row.update(
            tracking_number=f"ZC-{day.year}-{rid:07d}",
            code_hash="-",
            channel=channel,
            kind=kind,
            title=rng.choice(TITLES),
            text="（基准测试数据）" + rng.choice(TITLES) + "，请有关部门尽快处理。",
            created_at=created.isoformat(),
            anonymous=1,
            department=department,
            issue_types=json.dumps(types),
            send_back_count=sent_back,
            extension_used=int(extended),
            escalation_level=0,
            reopen_count=0,
        )

        row["sign_by"] = end_of(sign_by_day)
        if department is None:
            status = "triage"
        elif sign_day > today:
            status = "routed"
        elif answer_day > today:
            status = "extension_requested" if extended and rng.random() < 0.2 else "accepted"
        else:
            status = "answered"
        if status not in ("triage", "routed"):
            row.update(
                accepted_at=at(sign_day),
                signed_on_time=int(sign_day <= sign_by_day),
                sign_working_days=sign_days,
                answer_by=end_of(answer_by_day),
            )
        if status == "answered":
            row.update(
                answered_at=at(answer_day),
                answered_on_time=int(answer_day <= answer_by_day),
                answer_working_days=answer_days,
                answer="已核实处理，详见答复。",
            )
            if (today - answer_day).days > 3 and rng.random() < 0.72:
                rating = rng.choices(
                    ["satisfied", "basically_satisfied", "unsatisfied"], weights=[62, 24, 14]
                )[0]
                row["rating"] = rating
                if rating == "unsatisfied" and rng.random() < 0.8:
                    row["reopen_count"] = 1
                    reopen_answer = work.nth_after(answer_day, rng.randint(2, 20))
                    if reopen_answer > today:
                        status = "reopened"
                        row["answer_by"] = end_of(work.nth_after(answer_day, limit))
                    else:
                        status = "closed"
                        row["close_reason"] = "unsatisfied_final"
                        row["closed_at"] = at(reopen_answer)
                else:
                    status = "closed"
                    row["close_reason"] = "rated"
                    row["closed_at"] = at(answer_day + timedelta(days=rng.randint(1, 10)))
            elif (today - answer_day).days > 30:
                status = "closed"
                row["close_reason"] = "no_rating"
                row["closed_at"] = end_of(answer_day + timedelta(days=30))
            if types and rng.random() < 0.35:
                row["substantiated"] = int(rng.random() < 0.45)
        overdue = (status == "routed" and sign_by_day < today) or (
            status in OPEN_ANSWERING and answer_by_day < today
        )
        if overdue or rng.random() < 0.01:
            row["escalation_level"] = 1 if rng.random() < 0.7 else 2
        row["status"] = status
        row["updated_at"] = max(
            str(v)
            for v in (row["created_at"], row["accepted_at"], row["answered_at"], row["closed_at"])
            if v
        )
        batch.append(tuple(row[c] for c in COLUMNS))
        types_batch.extend((rid, t) for t in types)
        if len(batch) >= 50_000:
            _flush(conn, insert, batch, types_batch)
            print(f"  {n:>9,} rows  {time.perf_counter() - t0:6.1f} s", flush=True)
    _flush(conn, insert, batch, types_batch)
    conn.execute(
        "INSERT INTO counters (name, value) VALUES ('bench', ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (count,),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    print(f"wrote {count:,} reports in {time.perf_counter() - t0:.1f} s")


def _flush(
    conn: sqlite3.Connection,
    insert: str,
    batch: list[tuple[object, ...]],
    types_batch: list[tuple[int, str]],
) -> None:
    with conn:
        conn.executemany(insert, batch)
        conn.executemany(
            "INSERT INTO report_issue_types (report_id, issue_type) VALUES (?, ?)", types_batch
        )
    batch.clear()
    types_batch.clear()


async def prepare(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()  # creates the schema (every migration)
    await store.close()


async def rollup(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    try:
        t0 = time.perf_counter()
        days = await Stats(store, load_config()).refresh()
        print(f"rollup of {days} days brought up to date in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        indexed = await public_search.update(store)
        print(f"search index of {indexed:,} reports built in {time.perf_counter() - t0:.1f} s")
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="SQLite file to create (must not exist)")
    parser.add_argument("--count", type=int, default=1_000_000, help="reports (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=6, help="random seed (default 6)")
    parser.add_argument(
        "--now", help="the moment the data ends, ISO (default: now); deadlines count from it"
    )
    args = parser.parse_args(argv)
    if args.db.exists():
        parser.error(f"{args.db} exists; remove it or choose another file")
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(prepare(args.db))
    generate(args.db, args.count, args.seed, now)
    asyncio.run(rollup(args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
