"""Response times in working hours (art. 7.6 of the contract).

Working hours are 08:00–18:00 Belgian civil time (the contract's "CET" is read as
Europe/Brussels, so summer time is followed), Monday to Friday, Belgian public holidays
excluded. One working day is one day's working hours (10). The deadline is the first instant at
which the target's working time has elapsed: a target that runs out exactly at closing time is
due at 18:00 that day, not at 08:00 the next working day.

Hours, working days, the holiday country and the targets are settings (SUPPORT_*), read at
each call so that tests and deployments can change them.
"""

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

UTC = datetime.UTC
ZERO = datetime.timedelta(0)

# art. 7.6: (kind, priority) -> (amount, unit), unit "day" (working days) or "hour".
DEFAULT_TARGETS = {
    ("incident", "standard"): (1, "day"),
    ("incident", "express"): (4, "hour"),
    ("information", "standard"): (2, "day"),
    ("information", "express"): (1, "day"),
    ("change", "standard"): (2, "day"),
    ("change", "express"): (1, "day"),
}


class Calendar:
    """The working calendar of the support desk, from settings."""

    def __init__(self) -> None:
        self.zone = ZoneInfo(getattr(settings, "SUPPORT_TIME_ZONE", "Europe/Brussels"))
        self.opens = datetime.time.fromisoformat(getattr(settings, "SUPPORT_OPENING_TIME", "08:00"))
        self.closes = datetime.time.fromisoformat(getattr(settings, "SUPPORT_CLOSING_TIME", "18:00"))
        self.weekdays = frozenset(getattr(settings, "SUPPORT_WORKING_WEEKDAYS", (0, 1, 2, 3, 4)))
        self.country = getattr(settings, "SUPPORT_HOLIDAY_COUNTRY", "BE")
        if self.closes <= self.opens:
            raise ValueError("SUPPORT_CLOSING_TIME must be after SUPPORT_OPENING_TIME.")

    @property
    def hours_per_day(self) -> datetime.timedelta:
        day = datetime.date(2000, 1, 3)
        return datetime.datetime.combine(day, self.closes) - datetime.datetime.combine(day, self.opens)

    def is_working_day(self, day: datetime.date) -> bool:
        return day.weekday() in self.weekdays and day not in _holidays(self.country, day.year)

    def window(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        """Opening and closing instants of ``day`` in UTC (correct on DST change days)."""
        opens = datetime.datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def local_date(self, instant: datetime.datetime) -> datetime.date:
        return instant.astimezone(self.zone).date()


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays(country, years=year))


def _aware(instant: datetime.datetime) -> datetime.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("Datetimes given to the SLA calendar must be timezone-aware.")
    return instant.astimezone(UTC)


def target(kind: str, priority: str) -> datetime.timedelta:
    """The response target of art. 7.6 as working time."""
    targets = getattr(settings, "SUPPORT_RESPONSE_TARGETS", DEFAULT_TARGETS)
    try:
        amount, unit = targets[(str(kind), str(priority))]
    except KeyError as error:
        raise ValueError(f"No response target for kind {kind!r} and priority {priority!r}.") from error
    if unit == "day":
        return amount * Calendar().hours_per_day
    if unit == "hour":
        return datetime.timedelta(hours=amount)
    raise ValueError(f"Unknown target unit {unit!r}.")


def add_working_time(start: datetime.datetime, duration: datetime.timedelta) -> datetime.datetime:
    """The first instant at which ``duration`` of working time has elapsed since ``start``."""
    calendar = Calendar()
    instant = _aware(start)
    remaining = duration
    day = calendar.local_date(instant)
    for _ in range(3700):  # ten years of days: a calendar with no working day is an error
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            instant = max(instant, opens)
            if instant <= closes:
                available = closes - instant
                if remaining <= available:
                    return (instant + remaining).astimezone(calendar.zone)
                remaining -= available
        day += datetime.timedelta(days=1)
    raise ValueError("The working calendar has no working day in ten years.")


def response_deadline(logged_at: datetime.datetime, kind: str, priority: str) -> datetime.datetime:
    """When the first response is due for a ticket logged at ``logged_at`` (art. 7.6).

    A ticket logged outside working hours starts its clock at the next opening.
    """
    return add_working_time(logged_at, target(kind, priority))


def working_time_between(start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    """Working time elapsed from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
    calendar = Calendar()
    start, end = _aware(start), _aware(end)
    if end <= start:
        return ZERO
    total = ZERO
    day, last = calendar.local_date(start), calendar.local_date(end)
    while day <= last:
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            overlap = min(closes, end) - max(opens, start)
            if overlap > ZERO:
                total += overlap
        day += datetime.timedelta(days=1)
    return total


def is_in_time(logged_at: datetime.datetime, responded_at: datetime.datetime, kind: str, priority: str) -> bool:
    """A response is in time when the working time from logging to response is within the target."""
    return working_time_between(logged_at, responded_at) <= target(kind, priority)


def last_working_instant(now: datetime.datetime) -> datetime.datetime:
    """``now`` during working hours, otherwise the closing time of the last working day before it.

    Working time has passed since a deadline exactly when the deadline is before this instant,
    which lets the database find breached tickets with a plain comparison.
    """
    calendar = Calendar()
    instant = _aware(now)
    day = calendar.local_date(instant)
    for _ in range(3700):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            if instant > opens:  # at the very opening no working time has passed yet
                return min(instant, closes).astimezone(calendar.zone)
        day -= datetime.timedelta(days=1)
        instant = min(instant, calendar.window(day)[1])
    raise ValueError("The working calendar has no working day in ten years.")


def working_hours(delta: datetime.timedelta) -> float:
    """A working time as hours, for display and reports only (never for money)."""
    return round(delta.total_seconds() / 3600, 2)
