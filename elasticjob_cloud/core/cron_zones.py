"""Time zones for cron schedules: IANA name validation and the DST policy's wall -> instant mapping.

* A local time that does not exist (spring-forward gap) fires at the first instant after the gap.
* A local time that occurs twice (fall back) fires at its first occurrence.

Pure apart from reading the tz database (``zoneinfo``); never reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from elasticjob_cloud.exceptions import InvalidConfig

# Keys that ZoneInfo loads but that mean "whatever this machine is set to": refused.
_MACHINE_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise InvalidConfig.field("timeZone", "must be an IANA time zone name such as 'Europe/Berlin'")
    if name in _MACHINE_ZONES:
        raise InvalidConfig.field(
            "timeZone", f"'{name}' depends on the machine; name the zone, e.g. 'Europe/Berlin'"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidConfig.field(
            "timeZone", f"unknown time zone '{name}' (use an IANA name such as 'Europe/Berlin' or 'UTC')"
        ) from None


def first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) at which a naive local time fires under the DST policy."""
    first = wall.replace(tzinfo=zone, fold=0)  # fold=0: the first occurrence of a repeated time
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # Not a real local time (spring-forward gap): fold=1 reads it with the offset after the change,
    # which lands before the change; fold=0 lands after it. Fire when the gap ends.
    return offset_change(first.replace(fold=1).astimezone(UTC), instant, zone)


def offset_change(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first whole second in (low, high] whose UTC offset equals high's (binary search)."""
    target = high.astimezone(zone).utcoffset()
    lo, hi = int(low.timestamp()), int(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
