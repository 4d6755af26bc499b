"""Times in query parameters: the original's ``yyyy-MM-dd HH:mm:ss`` (in the scheduler's zone, as the
original read them in the JVM's), a date alone, or ISO 8601 (with an offset: converted to that zone).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from ..exceptions import InvalidConfig

FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_time(name: str, text: str, zone: tzinfo) -> datetime:
    value = text.strip()
    try:
        parsed = datetime.strptime(value, FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidConfig.field(
                name, f"{text!r} is not a time: use yyyy-MM-dd HH:mm:ss or ISO 8601"
            ) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(zone).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first representable instant
            parsed = datetime.min if parsed.year == 1 else datetime.max
    return parsed


def format_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(FORMAT)
