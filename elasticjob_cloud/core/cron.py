"""Quartz cron dialect and time zones: expression + IANA zone -> next fire times.

The only module of the project that imports croniter. ``core.cron_fields`` parses the text into
value sets and day rules; here the next *local wall-clock* match is found and then placed on the
time line of the zone with the DST policy:

* a local time that does not exist (spring forward) fires once, at the first instant after the gap;
* a local time that occurs twice (fall back) fires once, at its first occurrence.

Never skip, never double: every fire is strictly after the previous one. Pure: the caller passes
``after``; nothing here reads the clock. See README.rst, "Cron expressions and time zones".

Engines. The wall-clock search is our own (bisect over sorted value sets, month day lists cached per
schedule): it handles every construct and costs ~6 us a call. The rules croniter can express (no
``L``/``W``/``#``, no year field) are also translated to croniter (:func:`croniter_next_local`); that
translation is the differential oracle the tests run against our search over thousands of instants.
It is not the production path because a croniter call costs 70-170 us (a croniter object is
stateful, so it cannot be shared between threads and is rebuilt per call): at 10,000 jobs firing every
few seconds that is a large share of one core, for no gain in correctness.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterError

from elasticjob_cloud.core.cron_days import CronSpec, DaysOfMonth, DaysOfWeek
from elasticjob_cloud.core.cron_fields import MAX_YEAR, parse_spec
from elasticjob_cloud.core.cron_zones import first_instant, load_zone, offset_change
from elasticjob_cloud.exceptions import InvalidConfig

__all__ = [
    "MAX_PREVIEW",
    "CronSchedule",
    "croniter_next_local",
    "preview",
    "validate_cron",
    "validate_time_zone",
]

MAX_PREVIEW = 1000
DEFAULT_TIME_ZONE = "UTC"  # what parse() uses when time_zone is None; callers pass the scheduler's zone
_ONE_SECOND = timedelta(seconds=1)
_MONTH_CACHE_LIMIT = 256


def validate_cron(expression: str) -> None:
    """Raise ``InvalidConfig({"cron": [reason]})`` unless ``expression`` is valid."""
    parse_spec(expression)


def validate_time_zone(name: str) -> None:
    """Raise ``InvalidConfig({"timeZone": [reason]})`` unless ``name`` is a loadable IANA zone."""
    load_zone(name)


class CronSchedule:
    """An immutable cron expression bound to a time zone. Safe to share between threads."""

    __slots__ = ("_expression", "_month_days", "_spec", "_time_zone", "_zone")

    def __init__(self, expression: str, time_zone: str, spec: CronSpec, zone: ZoneInfo):
        self._expression = expression
        self._time_zone = time_zone
        self._spec = spec
        self._zone = zone
        self._month_days: dict[tuple[int, int], tuple[int, ...]] = {}

    @classmethod
    def parse(cls, expression: str, time_zone: str | None = None) -> CronSchedule:
        """Validate and bind. ``time_zone`` None means UTC: pass the scheduler's resolved default.

        Raises ``InvalidConfig`` with ``{"cron": [...]}`` and/or ``{"timeZone": [...]}``.
        """
        name = DEFAULT_TIME_ZONE if time_zone is None else time_zone
        errors: dict[str, list[str]] = {}
        spec = zone = None
        try:
            spec = parse_spec(expression)
        except InvalidConfig as error:
            errors.update(error.errors)
        try:
            zone = load_zone(name)
        except InvalidConfig as error:
            errors.update(error.errors)
        if spec is None or zone is None:
            message = "; ".join(f"{field}: {', '.join(reasons)}" for field, reasons in errors.items())
            raise InvalidConfig(message, errors)
        return cls(expression, name, spec, zone)

    @property
    def expression(self) -> str:
        return self._expression

    @property
    def time_zone(self) -> str:
        return self._time_zone

    @property
    def zone(self) -> tzinfo:
        return self._zone

    @property
    def spec(self) -> CronSpec:
        return self._spec

    @property
    def is_quartz(self) -> bool:
        """False for a 5-field Unix expression (minute resolution, 0 and 7 = Sunday)."""
        return self._spec.quartz

    def __repr__(self) -> str:
        return f"CronSchedule({self._expression!r}, {self._time_zone!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronSchedule):
            return NotImplemented
        return (self._expression, self._time_zone) == (other._expression, other._time_zone)

    def __hash__(self) -> int:
        return hash((self._expression, self._time_zone))

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire strictly after the aware ``after``, in this schedule's zone; None if none."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError(f"after must be timezone-aware, got {after!r}")
        try:
            return self._next_after(after)
        except OverflowError:  # the search ran past 9999-12-31T23:59:59: there is no later fire
            return None

    def _next_after(self, after: datetime) -> datetime | None:
        zone = self._zone
        wall = after.astimezone(zone).replace(tzinfo=None, microsecond=0) + _ONE_SECOND
        while True:
            candidate = self._search(wall)
            if candidate is None:
                return None
            instant = first_instant(candidate, zone)
            if instant > after:
                return instant.astimezone(zone)
            # The candidate's first occurrence is not after `after`: `after` lies in the second pass of
            # a repeated (fall-back) hour, whose wall times already fired. Resume at the repeat's end.
            second = candidate.replace(tzinfo=zone, fold=1).astimezone(UTC)
            change = offset_change(instant, second, zone)
            resume = (change - _ONE_SECOND).astimezone(zone).replace(tzinfo=None) + _ONE_SECOND
            wall = max(resume, candidate + _ONE_SECOND)

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        """The next ``count`` fires strictly after ``after`` (fewer when the year field runs out)."""
        fires: list[datetime] = []
        current: datetime | None = after
        while len(fires) < count:
            assert current is not None
            current = self.next_after(current)
            if current is None:
                break
            fires.append(current)
        return fires

    # ---------------------------------------------------------------- local wall-clock search

    def _search(self, start: datetime) -> datetime | None:
        """The first naive local time >= ``start`` (whole seconds) matching the expression."""
        spec = self._spec
        first_year = start.year
        years = spec.years if spec.years is not None else range(first_year, MAX_YEAR + 1)
        for year in years[bisect_left(years, first_year) :]:
            same_year = year == first_year
            months = spec.months[bisect_left(spec.months, start.month) :] if same_year else spec.months
            for month in months:
                days = self._days(year, month)
                if not (same_year and month == start.month):
                    if days:
                        return datetime(year, month, days[0], spec.hours[0], spec.minutes[0], spec.seconds[0])
                    continue
                for day in days[bisect_left(days, start.day) :]:
                    if day != start.day:
                        return datetime(year, month, day, spec.hours[0], spec.minutes[0], spec.seconds[0])
                    clock = _time_of_day(spec, start.hour, start.minute, start.second)
                    if clock is not None:
                        return datetime(year, month, day, *clock)
        return None

    def _days(self, year: int, month: int) -> tuple[int, ...]:
        key = (year, month)
        days = self._month_days.get(key)
        if days is None:
            first_weekday, last = calendar.monthrange(year, month)
            days = self._spec.days_in_month(last, first_weekday)
            if len(self._month_days) >= _MONTH_CACHE_LIMIT:
                self._month_days.clear()
            self._month_days[key] = days
        return days


def _time_of_day(spec: CronSpec, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
    """The first (hour, minute, second) of the expression at or after the given one, same day."""
    hours, minutes, seconds = spec.hours, spec.minutes, spec.seconds
    i = bisect_left(hours, hour)
    if i < len(hours) and hours[i] == hour:
        j = bisect_left(minutes, minute)
        if j < len(minutes) and minutes[j] == minute:
            k = bisect_left(seconds, second)
            if k < len(seconds):
                return hour, minute, seconds[k]
            j += 1
        if j < len(minutes):
            return hour, minutes[j], seconds[0]
        i += 1
    if i < len(hours):
        return hours[i], minutes[0], seconds[0]
    return None


# ------------------------------------------------------------------------------------- croniter

_CroniterArgs = tuple[str, bool]


def _croniter_form(spec: CronSpec) -> _CroniterArgs | None:
    """croniter's 6-field (seconds first) text and day_or flag, or None if it cannot express ``spec``."""
    if spec.years is not None:
        return None
    dom, dow = spec.dom, spec.dow
    if dom is not None and not isinstance(dom, DaysOfMonth):
        return None
    if dow is not None and not isinstance(dow, DaysOfWeek):
        return None
    dom_text = "*" if dom is None or len(dom.days) == 31 else _listed(dom.days)
    # croniter numbers the week 0 = Sunday; ours is date.weekday() (0 = Monday).
    dow_text = "*" if dow is None or len(dow.weekdays) == 7 else _listed((w + 1) % 7 for w in dow.weekdays)
    day_or = spec.day_or and dom is not None and dow is not None
    if day_or and "*" in (dom_text, dow_text):
        dom_text = dow_text = "*"  # one side matches every day, so their union does too
    fields = ((spec.seconds, 60), (spec.minutes, 60), (spec.hours, 24))
    text = " ".join(
        [
            *("*" if len(v) == size else _listed(v) for v, size in fields),
            dom_text,
            "*" if len(spec.months) == 12 else _listed(spec.months),
            dow_text,
        ]
    )
    return text, day_or


def _listed(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


def croniter_next_local(spec: CronSpec, start: datetime) -> datetime | None:
    """croniter's first naive local time >= ``start`` for a rule it can express (the test oracle).

    Raises ValueError when ``spec`` uses a construct croniter cannot express; None when croniter
    finds no match (within its search horizon or before the Quartz year limit).
    """
    args = _croniter_form(spec)
    if args is None:
        raise ValueError("croniter cannot express L, W, # or a year field")
    text, day_or = args
    try:
        found = croniter(
            text, start - _ONE_SECOND, ret_type=datetime, day_or=day_or, second_at_beginning=True
        ).get_next(datetime)
    except CroniterError:
        return None
    assert isinstance(found, datetime)
    return found if found.year <= MAX_YEAR else None


# -------------------------------------------------------------------------------------- preview


def preview(expression: str, time_zone: str | None, after: datetime, count: int) -> list[str]:
    """The next ``count`` fires as ISO-8601 strings with offset (REST/CLI preview).

    A naive ``after`` is read as a wall time in the schedule's zone. Raises ``InvalidConfig`` on
    ``cron``, ``timeZone`` or ``count`` (1..MAX_PREVIEW).
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PREVIEW:
        raise InvalidConfig.field("count", f"must be a whole number between 1 and {MAX_PREVIEW}")
    schedule = CronSchedule.parse(expression, time_zone)
    if after.tzinfo is None or after.utcoffset() is None:
        after = after.replace(tzinfo=schedule.zone)
    return [fire.isoformat() for fire in schedule.upcoming(after, count)]
