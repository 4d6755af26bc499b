"""Cron expression text -> :class:`CronSpec` (sets of allowed values and day rules).

Two dialects, told apart by the number of fields:

* Quartz, 6 or 7 fields: ``second minute hour day-of-month month day-of-week [year]``; day-of-week
  1-7 with 1 = Sunday; ``?``, ``L``, ``L-n``, ``nW``, ``LW``, ``L-nW`` (day-of-month), ``L``, ``nL``,
  ``n#k`` (day-of-week); exactly one of day-of-month / day-of-week must be ``?``.
* Unix (Vixie cron), 5 fields: ``minute hour day-of-month month day-of-week``; day-of-week 0-7 with
  0 and 7 = Sunday; when both day fields are restricted (neither starts with ``*``) a day matches
  if either matches.

Every rejection raises ``InvalidConfig`` on the ``cron`` field with a message that names the cron
field and the reason. Pure: no clock, no I/O, no croniter (``core.cron`` owns that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from elasticjob_cloud.core.cron_days import (
    CronSpec,
    DayRule,
    DaysOfMonth,
    DaysOfWeek,
    LastDayOfMonth,
    LastWeekdayOfMonth,
    NearestWeekday,
    NthWeekdayOfMonth,
    quartz_to_weekday,
    unix_to_weekday,
)
from elasticjob_cloud.exceptions import InvalidConfig

MIN_YEAR = 1970
MAX_YEAR = 2099

MONTH_NAMES = {
    name: i
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
# Quartz numbering (1 = SUN ... 7 = SAT); Unix numbering is this minus one.
QUARTZ_DOW_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}


class CronSyntaxError(InvalidConfig):
    """An invalid cron expression; ``errors == {"cron": [reason]}``."""

    def __init__(self, reason: str):
        super().__init__(f"cron: {reason}", {"cron": [reason]})


# ------------------------------------------------------------------------------------------ parsing


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None
    hint: str = ""  # appended to range errors, e.g. " (1=SUN)"

    def error(self, reason: str) -> CronSyntaxError:
        return CronSyntaxError(f"{self.name} {reason}")

    def value(self, token: str) -> int:
        if token.isdigit():
            number = int(token)
        elif self.names is not None and token.upper() in self.names:
            return self.names[token.upper()]
        elif self.names is not None:
            names = list(self.names)
            raise self.error(f"name '{token}' unknown (use {names[0]}-{names[-1]} or a number)")
        else:
            raise self.error(f"value '{token}' is not a number")
        if not self.low <= number <= self.high:
            raise self.error(f"value {number} out of range {self.low}-{self.high}{self.hint}")
        return number


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, MONTH_NAMES)
_QUARTZ_DOW = _Field("day-of-week", 1, 7, QUARTZ_DOW_NAMES, " (1=SUN)")
_UNIX_DOW = _Field("day-of-week", 0, 7, {k: v - 1 for k, v in QUARTZ_DOW_NAMES.items()}, " (0 and 7 = SUN)")
_YEAR = _Field("year", MIN_YEAR, MAX_YEAR)

_STAR = re.compile(r"\*(?:/(\w+))?")
_RANGE = re.compile(r"(\w+?)(?:-(\w+))?(?:/(\w*))?")
_DOM_LAST = re.compile(r"L(?:-(\d+))?(W)?")
_DOM_NEAREST = re.compile(r"(\d+)W")
_DOW_LAST = re.compile(r"(\w+)L")
_DOW_NTH = re.compile(r"(\w+)#(\w*)")
_DAY_NAME = re.compile("|".join(QUARTZ_DOW_NAMES))


def _step(field: _Field, text: str | None) -> int:
    if text is None:
        return 1
    if not text.isdigit():
        raise field.error(f"step '{text}' must be a whole number (e.g. */5)")
    step = int(text)
    span = field.high - field.low + 1
    if not 1 <= step <= span:
        raise field.error(f"step {step} out of range 1-{span}")
    return step


def _values(field: _Field, item: str, wrap: bool) -> list[int]:
    """``*``, ``*/s``, ``/s``, ``a``, ``a/s``, ``a-b``, ``a-b/s``: the listed values, in field units."""
    if item.startswith("/"):
        item = "*" + item
    if match := _STAR.fullmatch(item):
        return list(range(field.low, field.high + 1, _step(field, match.group(1))))
    match = _RANGE.fullmatch(item)
    if match is None:
        raise field.error(f"cannot parse '{item}'")
    start = field.value(match.group(1))
    step = _step(field, match.group(3))
    if match.group(2) is None:
        stop = field.high if match.group(3) is not None else start
        return list(range(start, stop + 1, step))
    stop = field.value(match.group(2))
    if stop >= start:
        return list(range(start, stop + 1, step))
    if not wrap:
        raise field.error(f"range {start}-{stop} runs backwards")
    # Quartz wraps a reversed range past the field's end: hours 22-2 = 22,23,0,1,2.
    span = field.high - field.low + 1
    return [field.low + (v - field.low) % span for v in range(start, stop + span + 1, step)]


def _set(field: _Field, text: str, wrap: bool) -> tuple[int, ...]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise field.error(f"empty list item in '{text}'")
        if item == "?":
            raise field.error("'?' is only allowed in day-of-month or day-of-week")
        values.update(_values(field, item, wrap))
    return tuple(sorted(values))


def _alone(field: _Field, text: str, item: str) -> None:
    if text != item:
        raise field.error(f"'{item}' cannot be combined with other values in '{text}'")


def _quartz_dom(text: str) -> DayRule | None:
    if text in ("?", "*"):
        return None
    for item in text.split(","):
        if match := _DOM_LAST.fullmatch(item.upper()):
            _alone(_DOM, text, item)
            offset = int(match.group(1) or 0)
            if offset > 30:
                raise _DOM.error(f"offset in '{item}' out of range 0-30")
            return LastDayOfMonth(offset, match.group(2) is not None)
        if match := _DOM_NEAREST.fullmatch(item.upper()):
            _alone(_DOM, text, item)
            return NearestWeekday(_DOM.value(match.group(1)))
        if "L" in item.upper() or "W" in item.upper():
            raise _DOM.error(f"cannot parse '{item}' ('L', 'L-n', 'LW', 'nW' stand alone; n is a single day)")
    return DaysOfMonth(frozenset(_set(_DOM, text, wrap=True)))


def _quartz_dow(text: str) -> DayRule | None:
    if text in ("?", "*"):
        return None
    for item in text.split(","):
        if item.upper() == "L":  # 'L' alone in day-of-week is the last day of the week: 7 = SAT
            _alone(_QUARTZ_DOW, text, item)
            return DaysOfWeek(frozenset({quartz_to_weekday(7)}))
        if match := _DOW_LAST.fullmatch(item.upper()):
            _alone(_QUARTZ_DOW, text, item)
            return LastWeekdayOfMonth(quartz_to_weekday(_QUARTZ_DOW.value(match.group(1))))
        if match := _DOW_NTH.fullmatch(item.upper()):
            _alone(_QUARTZ_DOW, text, item)
            nth = match.group(2)
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                raise _QUARTZ_DOW.error(f"'#' in '{item}' must be followed by 1-5")
            return NthWeekdayOfMonth(quartz_to_weekday(_QUARTZ_DOW.value(match.group(1))), int(nth))
    values = _set(_QUARTZ_DOW, text, wrap=True)
    return DaysOfWeek(frozenset(quartz_to_weekday(v) for v in values))


_FIELD_COUNT_HELP = (
    "expected 6 or 7 fields (Quartz: second minute hour day-of-month month day-of-week [year]) "
    "or 5 fields (Unix: minute hour day-of-month month day-of-week), got {}"
)


def parse_spec(expression: str) -> CronSpec:
    if not isinstance(expression, str) or not expression.strip():
        raise CronSyntaxError("expression is empty")
    if not expression.isascii():  # str.isdigit/int() would take full-width or Arabic-Indic digits
        raise CronSyntaxError("must be plain ASCII (digits 0-9, letters, * ? , - / L W #)")
    fields = expression.split()
    if len(fields) == 5:
        return _parse_unix(fields)
    if len(fields) not in (6, 7):
        raise CronSyntaxError(_FIELD_COUNT_HELP.format(len(fields)))
    second, minute, hour, dom_text, month, dow_text = fields[:6]
    seconds = _set(_SECOND, second, wrap=True)
    minutes = _set(_MINUTE, minute, wrap=True)
    hours = _set(_HOUR, hour, wrap=True)
    dom = _quartz_dom(dom_text)
    months = _set(_MONTH, month, wrap=True)
    dow = _quartz_dow(dow_text)
    if (dom_text == "?") == (dow_text == "?"):
        state = "both '?'" if dom_text == "?" else "both specified"
        raise CronSyntaxError(
            f"day-of-month and day-of-week are {state}: Quartz needs '?' in exactly one of them "
            "(e.g. '0 0 12 * * ?' or '0 0 12 ? * MON')"
        )
    years = None
    if len(fields) == 7 and fields[6] != "*":  # Quartz: an absent year or '*' = every year
        years = _set(_YEAR, fields[6], wrap=False)
    return CronSpec(seconds, minutes, hours, months, years, dom, dow, day_or=False, quartz=True)


def _parse_unix(fields: list[str]) -> CronSpec:
    minute, hour, dom_text, month, dow_text = fields
    for field, text in ((_DOM, dom_text), (_UNIX_DOW, dow_text)):
        bare = _DAY_NAME.sub("", text.upper())  # 'WED' is a name, not a 'W'
        for char in "?LW#":
            if char in bare:
                raise field.error(
                    f"'{char}' is Quartz syntax: write the 6-field Quartz form (seconds first) to use it"
                )
    minutes = _set(_MINUTE, minute, wrap=False)
    hours = _set(_HOUR, hour, wrap=False)
    days = _set(_DOM, dom_text, wrap=False)
    months = _set(_MONTH, month, wrap=False)
    weekdays = frozenset(unix_to_weekday(v) for v in _set(_UNIX_DOW, dow_text, wrap=False))
    # Vixie cron: a field starting with '*' is "unrestricted" for the day OR rule, even '*/2'.
    dom_star, dow_star = dom_text.startswith("*"), dow_text.startswith("*")
    dom = None if dom_text == "*" else DaysOfMonth(frozenset(days))
    dow = None if dow_text == "*" else DaysOfWeek(weekdays)
    return CronSpec(
        (0,), minutes, hours, months, None, dom, dow, day_or=not (dom_star or dow_star), quartz=False
    )
