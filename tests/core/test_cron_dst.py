"""DST policy in America/New_York and Europe/Berlin, both 2026 transitions.

Policy (README.rst): a local time that does not exist (spring forward) fires once, at the first
instant after the gap; a local time that occurs twice (fall back) fires once, at its first
occurrence. Never skip, never double.

2026 transitions, from the zones' rules (US: 2nd Sunday of March / 1st Sunday of November at 02:00
local; EU: last Sunday of March / October at 01:00 UTC):

* New York: 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z; 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z.
* Berlin: 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from elasticjob_cloud.core.cron import CronSchedule

NY, BERLIN = "America/New_York", "Europe/Berlin"
# (zone, local day, transition instant, kind)
TRANSITIONS = [
    (NY, datetime(2026, 3, 8), datetime(2026, 3, 8, 7, tzinfo=UTC), "gap"),
    (NY, datetime(2026, 11, 1), datetime(2026, 11, 1, 6, tzinfo=UTC), "fold"),
    (BERLIN, datetime(2026, 3, 29), datetime(2026, 3, 29, 1, tzinfo=UTC), "gap"),
    (BERLIN, datetime(2026, 10, 25), datetime(2026, 10, 25, 1, tzinfo=UTC), "fold"),
]


def z(text: str) -> datetime:
    """'2026-03-08T07:00:00Z'-style UTC instant."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fires(expression: str, zone: str, after: str, count: int) -> list[datetime]:
    """Fires as UTC datetimes: PEP 495 makes ``==`` across tzinfos False inside a repeated hour."""
    return [f.astimezone(UTC) for f in CronSchedule.parse(expression, zone).upcoming(z(after), count)]


# -------------------------------------------------------------- explicit expectations per resolution

EXPLICIT = [
    # New York, spring forward: local 02:00-02:59:59 does not exist on 2026-03-08.
    (
        NY,
        "0 30 2 * * ?",
        "2026-03-07T12:00:00Z",
        ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"],
    ),
    (NY, "30 2 * * *", "2026-03-07T12:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"]),
    (NY, "0 15,45 2 * * ?", "2026-03-08T00:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z"]),
    (NY, "0 30 3 * * ?", "2026-03-08T00:00:00Z", ["2026-03-08T07:30:00Z"]),
    (
        NY,
        "0 0 * * * ?",
        "2026-03-08T05:30:00Z",
        ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"],
    ),
    (
        NY,
        "0 * * * * ?",
        "2026-03-08T06:58:00Z",
        ["2026-03-08T06:59:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:01:00Z"],
    ),
    (
        NY,
        "* * * * * ?",
        "2026-03-08T06:59:58Z",
        ["2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-03-08T07:00:01Z"],
    ),
    # New York, fall back: local 01:00-01:59:59 occurs twice on 2026-11-01 (EDT 05:xxZ, then EST 06:xxZ).
    (NY, "0 30 1 * * ?", "2026-10-31T12:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]),
    (NY, "0 30 1 * * ?", "2026-11-01T06:00:00Z", ["2026-11-02T06:30:00Z"]),
    (
        NY,
        "0 0 * * * ?",
        "2026-11-01T04:30:00Z",
        ["2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"],
    ),
    (NY, "0 * * * * ?", "2026-11-01T05:58:00Z", ["2026-11-01T05:59:00Z", "2026-11-01T07:00:00Z"]),
    (NY, "* * * * * ?", "2026-11-01T05:59:58Z", ["2026-11-01T05:59:59Z", "2026-11-01T07:00:00Z"]),
    # `after` inside the second pass (e.g. a restart at 01:30 EST): the repeated times already fired.
    (NY, "0 */15 * * * ?", "2026-11-01T06:30:00Z", ["2026-11-01T07:00:00Z", "2026-11-01T07:15:00Z"]),
    (NY, "* * * * * ?", "2026-11-01T06:59:59Z", ["2026-11-01T07:00:00Z"]),
    # Berlin, spring forward: local 02:00-02:59:59 does not exist on 2026-03-29.
    (BERLIN, "0 30 2 * * ?", "2026-03-28T12:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]),
    (BERLIN, "0 0 * * * ?", "2026-03-29T00:30:00Z", ["2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]),
    (
        BERLIN,
        "0 * * * * ?",
        "2026-03-29T00:58:00Z",
        ["2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:01:00Z"],
    ),
    (
        BERLIN,
        "*/30 * * * * ?",
        "2026-03-29T00:59:00Z",
        ["2026-03-29T00:59:30Z", "2026-03-29T01:00:00Z", "2026-03-29T01:00:30Z"],
    ),
    # Berlin, fall back: local 02:00-02:59:59 occurs twice on 2026-10-25 (CEST 00:xxZ, then CET 01:xxZ).
    (BERLIN, "0 30 2 * * ?", "2026-10-24T12:00:00Z", ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
    (BERLIN, "0 0 * * * ?", "2026-10-24T23:30:00Z", ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"]),
    (BERLIN, "0 * * * * ?", "2026-10-25T00:58:00Z", ["2026-10-25T00:59:00Z", "2026-10-25T02:00:00Z"]),
    (BERLIN, "* * * * * ?", "2026-10-25T00:59:59Z", ["2026-10-25T02:00:00Z"]),
    (
        BERLIN,
        "0 0 0/2 * * ?",
        "2026-10-24T21:00:00Z",
        ["2026-10-24T22:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T03:00:00Z"],
    ),
]


@pytest.mark.parametrize(("zone", "expression", "after", "expected"), EXPLICIT)
def test_dst_explicit(zone: str, expression: str, after: str, expected: list[str]) -> None:
    assert fires(expression, zone, after, len(expected)) == [z(e) for e in expected]


def test_results_carry_the_local_offset() -> None:
    gap = CronSchedule.parse("0 30 2 * * ?", NY).next_after(z("2026-03-08T00:00:00Z"))
    assert gap is not None and gap.isoformat() == "2026-03-08T03:00:00-04:00"
    first = CronSchedule.parse("0 30 1 * * ?", NY).next_after(z("2026-11-01T00:00:00Z"))
    assert first is not None and first.isoformat() == "2026-11-01T01:30:00-04:00"
    # PEP 495: inside a repeated hour `==` against another tzinfo is always False; compare in UTC.
    assert first.astimezone(UTC) == z("2026-11-01T05:30:00Z")
    after_fold = CronSchedule.parse("0 30 2 * * ?", BERLIN).next_after(z("2026-10-25T01:00:00Z"))
    assert after_fold is not None and after_fold.isoformat() == "2026-10-26T02:30:00+01:00"


# ------------------------------------------------- exhaustive: every matching local time, exactly once

Predicate = Callable[[datetime], bool]
RESOLUTIONS: list[tuple[str, Predicate, timedelta]] = [
    ("* * * * * ?", lambda w: True, timedelta(seconds=1)),
    ("*/20 * * * * ?", lambda w: w.second % 20 == 0, timedelta(seconds=1)),
    ("0 * * * * ?", lambda w: w.second == 0, timedelta(minutes=1)),
    ("0 */15 * * * ?", lambda w: w.minute % 15 == 0, timedelta(minutes=1)),
    ("*/5 * * * *", lambda w: w.minute % 5 == 0, timedelta(minutes=1)),
    ("0 0 * * * ?", lambda w: w.minute == 0, timedelta(hours=1)),
    ("0 30 * * * ?", lambda w: w.minute == 30, timedelta(minutes=30)),
    ("0 0 2 * * ?", lambda w: w.hour == 2 and w.minute == 0, timedelta(hours=1)),
    ("0 30 2 * * ?", lambda w: w.hour == 2 and w.minute == 30, timedelta(minutes=30)),
    ("0 30 1 * * ?", lambda w: w.hour == 1 and w.minute == 30, timedelta(minutes=30)),
    ("0 0 3 * * ?", lambda w: w.hour == 3 and w.minute == 0, timedelta(hours=1)),
]


def _expected_instants(
    zone_name: str, day: datetime, transition: datetime, predicate: Predicate, step: timedelta
) -> list[datetime]:
    """Brute force over local wall times 00:00-05:00 of the transition day, by the policy."""
    zone = ZoneInfo(zone_name)
    instants: set[datetime] = set()
    wall = day
    while wall < day + timedelta(hours=5):
        if predicate(wall):
            first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
            exists = first.astimezone(zone).replace(tzinfo=None) == wall
            instants.add(first if exists else transition)
        wall += step
    return sorted(instants)


@pytest.mark.parametrize(
    ("zone", "day", "transition", "kind"), TRANSITIONS, ids=[f"{t[0]}-{t[3]}" for t in TRANSITIONS]
)
@pytest.mark.parametrize(("expression", "predicate", "step"), RESOLUTIONS, ids=[r[0] for r in RESOLUTIONS])
def test_no_skip_no_double(
    zone: str,
    day: datetime,
    transition: datetime,
    kind: str,
    expression: str,
    predicate: Predicate,
    step: timedelta,
) -> None:
    expected = _expected_instants(zone, day, transition, predicate, step)
    assert expected, "window must contain fires"
    schedule = CronSchedule.parse(expression, zone)
    start = day.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) - timedelta(seconds=1)
    got: list[datetime] = []
    current = start
    while True:
        nxt = schedule.next_after(current)
        assert nxt is not None and nxt > current  # strictly after: never the same instant twice
        if nxt > expected[-1]:
            break
        got.append(nxt.astimezone(UTC))
        current = nxt
    assert got == expected
    # Each local time fired once: the second pass of a repeated hour fires nothing.
    if kind == "fold":
        local_walls = [g.astimezone(ZoneInfo(zone)).replace(tzinfo=None, fold=0) for g in got]
        assert len(local_walls) == len(set(local_walls))
