"""Next fire times of Quartz and Unix expressions, each derived by hand from the dialect's rules.

Every row: expression, ``after`` (UTC wall time), the expected next fires (UTC), and the source of
the expectation. Sources:

* ``JD:<topic>``: the Quartz ``CronExpression`` javadoc (special characters section and its table of
  examples: "0 15 10 ? * 6L", "0 15 10 ? * 6#3", "15W", "LW", "L-3", "1/5" in day-of-month, ...).
* ``QP:<rule>``: Quartz's parser rules that the javadoc does not spell out: exactly one of the day
  fields is '?', 'L' alone in day-of-week = 7 = SAT, a reversed range wraps past the field's end,
  the year field is 1970-2099 and no fire exists after 2099.
* ``CAL``: the Gregorian calendar (weekdays of 2026 and leap years from ``cal 2026``; 2028 and
  2024 are leap years, 2026/2027/2029 are not).
* ``VX:<rule>``: Vixie cron's crontab(5) (5-field Unix form).
* ``PR:<rule>``: a project rule where Quartz is undefined (documented in README.rst).

Weekdays used below (2026): Jan 1 Thu, Jan 4 Sun, Jan 5 Mon; Feb 1 Sun; Mar 1 Sun; Apr 1 Wed;
May 1 Fri, May 31 Sun; Aug 1 Sat; Nov 1 Sun.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from elasticjob_cloud.core.cron import CronSchedule

Row = tuple[str, str, list[str], str]

QUARTZ: list[Row] = [
    # ---- seconds, steps, ranges, lists
    (
        "0/5 * * * * ?",
        "2026-01-01T00:00:00",
        ["00:00:05", "00:00:10", "00:00:15"],
        "JD:'/' 0/15 = 0,15,30,45",
    ),
    ("0/30 * * * * ?", "2026-01-01T00:00:00", ["00:00:30", "00:01:00"], "JD:'/'; the original's example"),
    (
        "5/15 * * * * ?",
        "2026-01-01T00:00:00",
        ["00:00:05", "00:00:20", "00:00:35", "00:00:50", "00:01:05"],
        "JD:'/' 5/15 in seconds = 5,20,35,50",
    ),
    ("*/10 * * * * ?", "2026-01-01T00:00:07", ["00:00:10", "00:00:20"], "JD:'*' before '/' = start at 0"),
    ("/20 * * * * ?", "2026-01-01T00:00:00", ["00:00:20", "00:00:40", "00:01:00"], "QP:'/n' = '0/n'"),
    (
        "10-40/10 * * * * ?",
        "2026-01-01T00:00:00",
        ["00:00:10", "00:00:20", "00:00:30", "00:00:40", "00:01:10"],
        "JD:'-' range with '/' step",
    ),
    (
        "0 5,10-12,50 * * * ?",
        "2026-01-01T00:00:00",
        ["00:05:00", "00:10:00", "00:11:00", "00:12:00", "00:50:00", "01:05:00"],
        "JD:',' list of values and ranges",
    ),
    ("* * * * * ?", "2026-01-01T00:00:00.500000", ["00:00:01", "00:00:02"], "JD:'*'; strictly after"),
    ("0 0 12 * * ?", "2026-01-01T12:00:00", ["01-02T12:00:00"], "JD:'0 0 12 * * ?' 12pm every day"),
    ("0 15 10 * * ? *", "2026-01-01T10:15:00", ["01-02T10:15:00"], "JD:'0 15 10 * * ? *' year '*'"),
    ("0 * 14 * * ?", "2026-01-01T14:59:00", ["01-02T14:00:00"], "JD:'0 * 14 * * ?' every minute 2pm-2:59pm"),
    ("0 0/5 14 * * ?", "2026-01-01T14:56:00", ["01-02T14:00:00"], "JD:'0 0/5 14 * * ?' 2pm-2:55pm"),
    ("0 0/5 14,18 * * ?", "2026-01-01T14:55:00", ["18:00:00", "18:05:00"], "JD:'0 0/5 14,18 * * ?'"),
    ("0 0-5 14 * * ?", "2026-01-01T14:05:00", ["01-02T14:00:00"], "JD:'0 0-5 14 * * ?' 2:00-2:05pm"),
    (
        "0 10,44 14 ? 3 WED",
        "2026-01-01T00:00:00",
        ["03-04T14:10:00", "03-04T14:44:00", "03-11T14:10:00"],
        "JD:'0 10,44 14 ? 3 WED'; CAL Mar 4 2026 is the first Wednesday",
    ),
    ("0 15 10 ? * MON-FRI", "2026-01-02T10:15:00", ["01-05T10:15:00"], "JD:'0 15 10 ? * MON-FRI'; CAL"),
    ("0 15 10 15 * ?", "2026-01-15T10:15:00", ["02-15T10:15:00"], "JD:'0 15 10 15 * ?' 15th of the month"),
    ("0 11 11 11 11 ?", "2026-01-01T00:00:00", ["11-11T11:11:00"], "JD:'0 11 11 11 11 ?' Nov 11th 11:11"),
    (
        "0 0 12 1/5 * ?",
        "2026-01-01T12:00:00",
        ["01-06T12:00:00", "01-11T12:00:00"],
        "JD:'0 0 12 1/5 * ?' every 5 days from the 1st",
    ),
    (
        "0 0 12 1/5 * ?",
        "2026-01-31T12:00:00",
        ["02-01T12:00:00", "02-06T12:00:00"],
        "JD:'1/5' restarts on the 1st (values 1,6,..,31)",
    ),
    # ---- names, any case, and Quartz day-of-week numbering (1 = SUN ... 7 = SAT)
    ("0 0 9 ? jan,Mar mon", "2026-01-01T00:00:00", ["01-05T09:00:00", "01-12T09:00:00"], "JD:names; CAL"),
    ("0 0 12 ? Feb Mon#1", "2026-01-01T00:00:00", ["02-02T12:00:00"], "JD:names with '#'; CAL"),
    ("0 0 9 ? * sun", "2026-01-01T00:00:00", ["01-04T09:00:00"], "JD:SUN-SAT; CAL Jan 4 Sun"),
    ("0 0 9 ? * 1", "2026-01-01T00:00:00", ["01-04T09:00:00"], "JD:day-of-week 1-7, 1 = SUN"),
    ("0 0 9 ? * 2", "2026-01-01T00:00:00", ["01-05T09:00:00"], "JD:2 = MON"),
    ("0 0 9 ? * 7", "2026-01-01T00:00:00", ["01-03T09:00:00"], "JD:7 = SAT"),
    ("0 0 12 ? * 2-6", "2026-01-03T00:00:00", ["01-05T12:00:00"], "JD:2-6 = MON-FRI; CAL Jan 3 Sat"),
    ("0 0 9 ? * L", "2026-01-01T00:00:00", ["01-03T09:00:00", "01-10T09:00:00"], "QP:'L' alone in dow = SAT"),
    (
        "0 0 8 ? JAN-MAR/2 MON",
        "2026-01-31T00:00:00",
        ["03-02T08:00:00"],
        "JD:month range with step (JAN,MAR); CAL Mar 2 Mon",
    ),
    # ---- reversed ranges wrap
    (
        "0 0 22-2 * * ?",
        "2026-01-01T03:00:00",
        ["22:00:00", "23:00:00", "01-02T00:00:00", "01-02T01:00:00", "01-02T02:00:00", "01-02T22:00:00"],
        "QP:reversed range wraps (22-2 = 22,23,0,1,2)",
    ),
    (
        "0 0 9 ? * FRI-MON",
        "2026-01-06T00:00:00",
        ["01-09T09:00:00", "01-10T09:00:00", "01-11T09:00:00", "01-12T09:00:00", "01-16T09:00:00"],
        "QP:reversed dow range wraps; CAL Jan 9 Fri",
    ),
    (
        "0 0 9 28-2 * ?",
        "2026-02-27T10:00:00",
        ["02-28T09:00:00", "03-01T09:00:00", "03-02T09:00:00", "03-28T09:00:00"],
        "QP:reversed dom range wraps; Feb has no 29-31",
    ),
    (
        "0 30 8 ? NOV-FEB *",
        "2026-02-28T09:00:00",
        ["11-01T08:30:00"],
        "QP:reversed month range wraps (NOV,DEC,JAN,FEB)",
    ),
    # ---- L, L-n in day-of-month
    (
        "0 15 10 L * ?",
        "2026-01-01T00:00:00",
        ["01-31T10:15:00", "02-28T10:15:00", "03-31T10:15:00", "04-30T10:15:00"],
        "JD:'0 15 10 L * ?' last day of every month",
    ),
    (
        "0 15 10 L-2 * ?",
        "2026-01-01T00:00:00",
        ["01-29T10:15:00", "02-26T10:15:00", "03-29T10:15:00"],
        "JD:'L-2' 2nd-to-last day ('0 15 10 L-2 * ?')",
    ),
    ("0 0 9 L-30 1 ?", "2026-01-01T00:00:00", ["01-01T09:00:00"], "JD:'L-n' (31-30 = 1st of January)"),
    ("0 0 0 L 2 ?", "2027-03-01T00:00:00", ["2028-02-29T00:00:00", "2029-02-28T00:00:00"], "JD:L; CAL leap"),
    ("0 0 0 L 2 ?", "2024-01-01T00:00:00", ["2024-02-29T00:00:00", "2025-02-28T00:00:00"], "JD:L; CAL leap"),
    ("0 0 9 L-1 2 ?", "2027-12-31T00:00:00", ["2028-02-28T09:00:00", "2029-02-27T09:00:00"], "JD:L-n; CAL"),
    # ---- W, LW, L-nW (nearest weekday, never crossing the month)
    (
        "0 0 9 15W * ?",
        "2026-01-01T00:00:00",
        ["01-15T09:00:00", "02-16T09:00:00", "03-16T09:00:00", "04-15T09:00:00"],
        "JD:'15W' Sunday 15th -> Monday 16th; CAL Feb/Mar 15 Sun, Apr 15 Wed",
    ),
    (
        "0 0 9 14W * ?",
        "2026-02-01T00:00:00",
        ["02-13T09:00:00", "03-13T09:00:00"],
        "JD:'15W' rule: Saturday -> Friday before; CAL Feb/Mar 14 Sat",
    ),
    (
        "0 0 9 1W * ?",
        "2026-07-02T00:00:00",
        ["08-03T09:00:00", "09-01T09:00:00"],
        "JD:'1W' on a Saturday fires Monday the 3rd (no jump back); CAL Aug 1 Sat, Sep 1 Tue",
    ),
    (
        "0 0 9 1W * ?",
        "2026-01-15T00:00:00",
        ["02-02T09:00:00", "03-02T09:00:00", "04-01T09:00:00"],
        "JD:'W' Sunday -> Monday; CAL Feb 1 / Mar 1 Sun",
    ),
    (
        "0 0 9 31W * ?",
        "2026-05-01T00:00:00",
        ["05-29T09:00:00", "07-31T09:00:00"],
        "JD:'W' never crosses the month: Sunday 31st (last day) -> Friday 29th; June has no 31st",
    ),
    (
        "0 0 9 LW * ?",
        "2026-01-01T00:00:00",
        ["01-30T09:00:00", "02-27T09:00:00", "03-31T09:00:00"],
        "JD:'LW' last weekday; CAL Jan 31 / Feb 28 Sat",
    ),
    ("0 0 9 LW * ?", "2026-05-01T00:00:00", ["05-29T09:00:00"], "JD:'LW'; CAL May 31 Sun"),
    (
        "0 0 9 L-3W * ?",
        "2026-03-01T00:00:00",
        ["03-27T09:00:00", "04-27T09:00:00"],
        "QP:'L-nW' (31-3 = Sat 28th -> Fri 27th; 30-3 = Mon 27th)",
    ),
    # ---- nL and n#k in day-of-week
    (
        "0 15 10 ? * 6L",
        "2026-01-01T00:00:00",
        ["01-30T10:15:00", "02-27T10:15:00", "03-27T10:15:00"],
        "JD:'0 15 10 ? * 6L' last Friday; CAL",
    ),
    ("0 0 9 ? * 1L", "2026-01-01T00:00:00", ["01-25T09:00:00", "02-22T09:00:00"], "JD:'nL'; CAL last Sun"),
    ("0 0 9 ? * 7L", "2026-01-01T00:00:00", ["01-31T09:00:00", "02-28T09:00:00"], "JD:'nL'; CAL last Sat"),
    ("0 0 12 ? * 3L", "2026-02-01T00:00:00", ["02-24T12:00:00", "03-31T12:00:00"], "JD:'nL'; CAL last Tue"),
    (
        "0 15 10 ? * 6#3",
        "2026-01-01T00:00:00",
        ["01-16T10:15:00", "02-20T10:15:00", "03-20T10:15:00"],
        "JD:'0 15 10 ? * 6#3' third Friday; CAL",
    ),
    (
        "0 0 9 ? * 2#1",
        "2026-01-01T00:00:00",
        ["01-05T09:00:00", "02-02T09:00:00", "03-02T09:00:00"],
        "JD:'2#1' first Monday",
    ),
    ("0 0 9 ? * MON#1", "2026-01-01T00:00:00", ["01-05T09:00:00"], "JD:'#' with a name"),
    ("0 0 12 ? * 4#2", "2026-01-01T00:00:00", ["01-14T12:00:00", "02-11T12:00:00"], "JD:'#'; CAL 2nd Wed"),
    (
        "0 0 9 ? * 5#5",
        "2026-01-01T00:00:00",
        ["01-29T09:00:00", "04-30T09:00:00"],
        "JD:'#5' fires only in months that have one; CAL 5th Thursday",
    ),
    ("0 0 9 ? * 1#5", "2026-01-01T00:00:00", ["03-29T09:00:00", "05-31T09:00:00"], "JD:'#5'; CAL 5th Sunday"),
    ("0 0 0 ? * 2#5", "2026-01-01T00:00:00", ["03-30T00:00:00", "06-29T00:00:00"], "JD:'#5'; CAL 5th Monday"),
    # ---- month ends, the 31st in short months, leap years
    (
        "0 0 0 31 * ?",
        "2026-01-31T00:00:00",
        ["03-31T00:00:00", "05-31T00:00:00", "07-31T00:00:00", "08-31T00:00:00"],
        "CAL:31 only exists in 31-day months",
    ),
    ("0 0 0 30 * ?", "2026-01-30T00:00:00", ["03-30T00:00:00"], "CAL:February has no 30th"),
    ("0 0 0 29 2 ?", "2026-01-01T00:00:00", ["2028-02-29T00:00:00", "2032-02-29T00:00:00"], "CAL:leap years"),
    ("0 0 0 29 2 ?", "2024-02-29T00:00:00", ["2028-02-29T00:00:00"], "CAL:leap years (2024 -> 2028)"),
    ("0 0 0 1 * ?", "2026-12-31T12:00:00", ["2027-01-01T00:00:00"], "CAL:year rollover"),
    (
        "59 59 23 31 12 ?",
        "2026-06-01T00:00:00",
        ["12-31T23:59:59", "2027-12-31T23:59:59"],
        "CAL:last second of the year",
    ),
    # ---- the year field
    ("0 15 10 * * ? 2027", "2026-01-01T00:00:00", ["2027-01-01T10:15:00"], "JD:'0 15 10 * * ? 2005' form"),
    (
        "0 0 0 1 1 ? 2027-2029",
        "2026-06-01T00:00:00",
        ["2027-01-01T00:00:00", "2028-01-01T00:00:00", "2029-01-01T00:00:00"],
        "JD:year range; nothing after 2029",
    ),
    (
        "0 0 0 1 1 ? 2030/10",
        "2026-01-01T00:00:00",
        ["2030-01-01T00:00:00", "2040-01-01T00:00:00", "2050-01-01T00:00:00"],
        "JD:year step",
    ),
    ("0 0 0 1 * ? 2026,2028", "2026-12-01T00:00:00", ["2028-01-01T00:00:00"], "JD:year list"),
    ("0 0 0 31 12 ? 2099", "2099-12-31T00:00:00", [], "QP:year 1970-2099: no fire after the last one"),
    ("0 0 0 31 12 ?", "2099-12-31T00:00:00", [], "QP:no fire after year 2099"),
    ("0 0 0 L 12 ?", "2099-12-01T00:00:00", ["2099-12-31T00:00:00"], "QP:2099 still fires"),
    ("0 0 0 30 2 ?", "2026-01-01T00:00:00", [], "QP:a date that never exists never fires (Feb 30)"),
]

UNIX: list[Row] = [
    ("*/15 * * * *", "2026-01-01T00:07:00", ["00:15:00", "00:30:00"], "VX:step; minute resolution"),
    ("* * * * *", "2026-01-01T00:00:30", ["00:01:00", "00:02:00"], "VX:every minute, second 0"),
    ("0 9 * * 0", "2026-01-01T00:00:00", ["01-04T09:00:00"], "VX:0 = Sunday; CAL"),
    ("0 9 * * 7", "2026-01-01T00:00:00", ["01-04T09:00:00"], "VX:7 = Sunday too"),
    ("0 9 * * 1", "2026-01-01T00:00:00", ["01-05T09:00:00"], "VX:1 = Monday (Quartz 1 = Sunday!)"),
    ("0 0 * * sun", "2026-01-01T00:00:00", ["01-04T00:00:00"], "VX:names, any case"),
    ("0 12 * jan-mar mon-fri", "2026-01-02T12:00:00", ["01-05T12:00:00"], "VX:name ranges; CAL"),
    (
        "30 4 1,15 * 5",
        "2026-01-01T05:00:00",
        ["01-02T04:30:00", "01-09T04:30:00", "01-15T04:30:00", "01-16T04:30:00"],
        "VX:crontab(5) '30 4 1,15 * 5' = 1st and 15th plus every Friday",
    ),
    (
        "0 9 13 * 5",
        "2026-01-01T00:00:00",
        ["01-02T09:00:00", "01-09T09:00:00", "01-13T09:00:00", "01-16T09:00:00"],
        "VX:both day fields restricted -> either matches",
    ),
    (
        "0 9 */10 * 1",
        "2026-01-01T00:00:00",
        ["05-11T09:00:00"],
        "VX:a day field starting with '*' is unrestricted for the OR rule -> both must match; CAL",
    ),
    ("0 0 31 * *", "2026-04-01T00:00:00", ["05-31T00:00:00"], "VX:31 in short months never fires"),
    ("0 9 * * wed,Sat", "2026-01-01T00:00:00", ["01-03T09:00:00", "01-07T09:00:00"], "VX:names; CAL"),
]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _expected(after: str, short: str) -> datetime:
    """Expected times omit the parts equal to ``after``'s: 'HH:MM:SS', 'MM-DDTHH:MM:SS' or full."""
    if "T" not in short:
        short = f"{after[:10]}T{short}"
    elif len(short) == len("MM-DDTHH:MM:SS"):
        short = f"{after[:4]}-{short}"
    return _utc(short)


def _run(rows: list[Row], expression: str, after: str, expected: list[str]) -> None:
    schedule = CronSchedule.parse(expression, "UTC")
    count = len(expected) + 1
    fires = schedule.upcoming(_utc(after), count)
    want = [_expected(after, e) for e in expected]
    assert fires[: len(want)] == want
    if not want:
        assert fires == []
    for fire in fires:
        assert fire.tzinfo is not None and fire.utcoffset() is not None


def test_table_is_large_enough() -> None:
    assert len(QUARTZ) >= 60


@pytest.mark.parametrize(("expression", "after", "expected", "source"), QUARTZ, ids=[r[0] for r in QUARTZ])
def test_quartz_next_fire_times(expression: str, after: str, expected: list[str], source: str) -> None:
    _run(QUARTZ, expression, after, expected)


@pytest.mark.parametrize(("expression", "after", "expected", "source"), UNIX, ids=[r[0] for r in UNIX])
def test_unix_next_fire_times(expression: str, after: str, expected: list[str], source: str) -> None:
    _run(UNIX, expression, after, expected)


def test_year_field_runs_out() -> None:
    schedule = CronSchedule.parse("0 0 0 1 1 ? 2027-2029", "UTC")
    fires = schedule.upcoming(_utc("2026-01-01T00:00:00"), 10)
    assert [f.year for f in fires] == [2027, 2028, 2029]
    assert schedule.next_after(_utc("2029-01-01T00:00:00")) is None
