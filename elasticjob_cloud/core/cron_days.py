"""Parsed cron expressions: value sets plus day-of-month / day-of-week rules (Quartz ``L``, ``W``, ``#``).

Each day rule answers one question: which days of a month (given its length and the weekday of its
1st) match. Pure; see ``core.cron_fields`` for the parser and ``core.cron`` for the search.
"""

from __future__ import annotations

from dataclasses import dataclass

# A weekday is stored as Python's date.weekday(): 0 = Monday ... 6 = Sunday.
Weekday = int


def quartz_to_weekday(value: int) -> Weekday:
    return (value + 5) % 7


def unix_to_weekday(value: int) -> Weekday:
    return (value + 6) % 7


def _weekday_of(day: int, first_weekday: Weekday) -> Weekday:
    return (first_weekday + day - 1) % 7


def nearest_weekday(day: int, last: int, first_weekday: Weekday) -> int:
    """Quartz ``W``: the weekday (Mon-Fri) nearest ``day``, never leaving the month."""
    weekday = _weekday_of(day, first_weekday)
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before when it is the last day
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class DaysOfMonth:
    days: frozenset[int]

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        return frozenset(d for d in self.days if d <= last)


@dataclass(frozen=True)
class LastDayOfMonth:
    """``L``, ``L-n``, ``LW``, ``L-nW``."""

    offset: int = 0
    weekday: bool = False

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        day = last - self.offset
        if day < 1:
            return frozenset()
        return frozenset({nearest_weekday(day, last, first_weekday) if self.weekday else day})


@dataclass(frozen=True)
class NearestWeekday:
    """``nW``: no fire in a month shorter than ``n`` days (like a plain ``31``)."""

    day: int

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        if self.day > last:
            return frozenset()
        return frozenset({nearest_weekday(self.day, last, first_weekday)})


@dataclass(frozen=True)
class DaysOfWeek:
    weekdays: frozenset[Weekday]

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        return frozenset(d for d in range(1, last + 1) if _weekday_of(d, first_weekday) in self.weekdays)


@dataclass(frozen=True)
class LastWeekdayOfMonth:
    """``nL``: the last given weekday of the month (``6L`` = last Friday)."""

    weekday: Weekday

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        return frozenset({last - (_weekday_of(last, first_weekday) - self.weekday) % 7})


@dataclass(frozen=True)
class NthWeekdayOfMonth:
    """``n#k``: the k-th given weekday of the month; no fire in a month without one (k = 5)."""

    weekday: Weekday
    nth: int

    def matching(self, last: int, first_weekday: Weekday) -> frozenset[int]:
        day = 1 + (self.weekday - first_weekday) % 7 + 7 * (self.nth - 1)
        return frozenset({day}) if day <= last else frozenset()


DayRule = DaysOfMonth | LastDayOfMonth | NearestWeekday | DaysOfWeek | LastWeekdayOfMonth | NthWeekdayOfMonth


@dataclass(frozen=True)
class CronSpec:
    """A parsed expression. ``dom``/``dow`` None = unrestricted; ``years`` None = every year."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...] | None
    dom: DayRule | None
    dow: DayRule | None
    day_or: bool  # Unix only: both day fields restricted -> a day matches if either matches
    quartz: bool

    def days_in_month(self, last: int, first_weekday: Weekday) -> tuple[int, ...]:
        if self.dom is None and self.dow is None:
            return tuple(range(1, last + 1))
        if self.dow is None:
            assert self.dom is not None
            days = self.dom.matching(last, first_weekday)
        elif self.dom is None:
            days = self.dow.matching(last, first_weekday)
        else:
            by_dom = self.dom.matching(last, first_weekday)
            by_dow = self.dow.matching(last, first_weekday)
            days = by_dom | by_dow if self.day_or else by_dom & by_dow
        return tuple(sorted(days))
