"""Working-day deadlines with China's public holidays and adjusted working days (调休).

The schedule comes from the maintained `chinesecalendar` library, plus years the operator adds
in the configuration ([calendar.extra.YEAR]) when the State Council publishes a schedule the
library does not know yet. A date outside both is counted Monday–Friday, and the deadline is
flagged as an estimate and logged loudly, so nobody mistakes it for an official one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from feedback.config import CalendarYear

log = logging.getLogger(__name__)

# Statutory holidays on fixed solar dates (全国年节及纪念日放假办法): 元旦, 劳动节, 国庆节. A year
# with no official schedule still skips these; lunar holidays and 调休 cannot be guessed.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@dataclass(frozen=True)
class Deadline:
    due: datetime  # aware, end of the last working day in the district's time zone
    estimated: bool  # some day was outside every known calendar


class WorkCalendar:
    def __init__(self, extra: dict[int, CalendarYear] | None = None, tz: str = "Asia/Shanghai"):
        self.extra = extra or {}
        self.tz = ZoneInfo(tz)
        self._warned: set[int] = set()
        # Each submission asks about the same few days again (sign-for and send-back clocks).
        self._days: dict[date, tuple[bool, bool]] = {}

    def known(self, day: date) -> bool:
        if day.year in self.extra:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that an estimate)."""
        found = self._days.get(day)
        if found is None:
            if len(self._days) > 4096:
                self._days.clear()
            found = self._days[day] = self._is_workday(day)
        return found

    def _is_workday(self, day: date) -> tuple[bool, bool]:
        spec = self.extra.get(day.year)
        if spec is not None:
            if day in spec.workdays:
                return True, False
            if day in spec.holidays:
                return False, False
            return day.weekday() < 5, False
        try:
            return bool(chinese_calendar.is_workday(day)), False
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "no holiday schedule for %s: counting Monday-Friday only; add the official "
                    "schedule under [calendar.extra.%s] in the configuration",
                    day.year,
                    day.year,
                )
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, True

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """End of the ``days``-th working day after the day of ``start`` (that day not counted)."""
        day = self.local_date(start)
        estimated = False
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            work, est = self.is_workday(day)
            estimated = estimated or est
            if work:
                counted += 1
        end = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return Deadline(due=end, estimated=estimated)

    def add_days(self, start: datetime, days: int) -> Deadline:
        """Calendar days (for the rating window)."""
        day = self.local_date(start) + timedelta(days=days)
        return Deadline(datetime.combine(day, time(23, 59, 59), tzinfo=self.tz), False)

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days from today until the due day; negative when overdue."""
        today, last = self.local_date(now), self.local_date(due)
        if now > due:
            n, day = 0, last
            while day < today:
                day += timedelta(days=1)
                if self.is_workday(day)[0]:
                    n += 1
            return -max(n, 1)
        n, day = 0, today
        while day < last:
            day += timedelta(days=1)
            if self.is_workday(day)[0]:
                n += 1
        return n
