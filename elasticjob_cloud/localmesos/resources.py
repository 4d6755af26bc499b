"""Resource and attribute values: the agent's ``--resources`` text, Mesos JSON, arithmetic.

The allocator, the launch validation and ``/state`` all need the same three operations (add,
subtract, contains) over scalars (``cpus``, ``mem``, ``disk``, ``gpus``) and ranges (``ports``),
so they live in one small immutable value type. Scalars use Mesos's fixed-point rule (three
decimals) so that ``0.1 + 0.2`` never leaves a ``0.30000000000000004`` crumb that no task fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Range = tuple[int, int]

_RANGES_TEXT = re.compile(r"^\[(.*)\]$")


def _round(value: float) -> float:
    return round(value * 1000.0) / 1000.0


def _normalise(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sort and merge overlapping or adjacent inclusive ranges."""
    merged: list[list[int]] = []
    for begin, end in sorted(ranges):
        if begin > end:
            raise ValueError(f"range begin {begin} is greater than end {end}")
        if merged and begin <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return tuple((b, e) for b, e in merged)


def _subtract_ranges(have: tuple[Range, ...], take: tuple[Range, ...]) -> tuple[Range, ...]:
    result = list(have)
    for t_begin, t_end in take:
        next_result: list[Range] = []
        for begin, end in result:
            if t_end < begin or t_begin > end:
                next_result.append((begin, end))
                continue
            if begin < t_begin:
                next_result.append((begin, t_begin - 1))
            if t_end < end:
                next_result.append((t_end + 1, end))
        result = next_result
    return _normalise(result)


def _ranges_contain(have: tuple[Range, ...], want: tuple[Range, ...]) -> bool:
    return all(any(b <= w_begin and w_end <= e for b, e in have) for w_begin, w_end in want)


def _ranges_text(ranges: tuple[Range, ...]) -> str:
    return "[" + ", ".join(f"{b}-{e}" for b, e in ranges) + "]"


def parse_ranges(text: str) -> tuple[Range, ...]:
    """``[31000-32000,33000-33010]`` → ``((31000, 32000), (33000, 33010))``."""
    match = _RANGES_TEXT.match(text.strip())
    if not match:
        raise ValueError(f"expected ranges like [31000-32000], got {text!r}")
    ranges = []
    for part in match.group(1).split(","):
        part = part.strip()
        if not part:
            continue
        begin, _, end = part.partition("-")
        ranges.append((int(begin), int(end or begin)))
    return _normalise(ranges)


@dataclass(frozen=True)
class Resources:
    """Unreserved resources: scalars by name and port-like ranges by name."""

    scalars: dict[str, float] = field(default_factory=dict)
    ranges: dict[str, tuple[Range, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Resources:
        """The agent flag format: ``cpus:4;mem:4096;disk:10240;ports:[31000-32000]``."""
        scalars: dict[str, float] = {}
        ranges: dict[str, tuple[Range, ...]] = {}
        for item in text.split(";"):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition(":")
            name = re.sub(r"\(.*\)$", "", name.strip())  # ignore a "(role)" suffix: all unreserved
            if not sep or not name:
                raise ValueError(f"bad resource {item!r}: expected name:value")
            value = value.strip()
            if value.startswith("["):
                ranges[name] = _normalise(ranges.get(name, ()) + parse_ranges(value))
            else:
                scalars[name] = _round(scalars.get(name, 0.0) + float(value))
                if scalars[name] < 0:
                    raise ValueError(f"negative resource {item!r}")
        return cls(scalars, ranges)

    @classmethod
    def from_mesos(cls, items: Any) -> Resources:
        """A Mesos JSON ``Resource`` list. Raises ``ValueError`` on anything malformed.

        Runs three times per launched task, so it sums into plain dicts instead of adding up
        ``Resources`` pairwise (a new object per item made it the largest cost of an ACCEPT). The
        arithmetic is that of ``+``: each value is rounded, then the running sum is rounded again.
        """
        if not isinstance(items, list):
            raise ValueError("resources must be a list")
        scalars: dict[str, float] = {}
        ranges: dict[str, tuple[Range, ...]] = {}
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"bad resource {item!r}")
            name = item.get("name")
            if not isinstance(name, str):
                raise ValueError(f"bad resource {item!r}")
            kind = item.get("type", "SCALAR")
            if kind == "SCALAR":
                value = float(item["scalar"]["value"])
                if value < 0:
                    raise ValueError(f"negative scalar resource {name}")
                scalars[name] = _round(scalars.get(name, 0.0) + _round(value))
            elif kind == "RANGES":
                parsed = _normalise(
                    (int(r["begin"]), int(r["end"])) for r in item.get("ranges", {}).get("range", [])
                )
                ranges[name] = _normalise(ranges[name] + parsed) if name in ranges else parsed
            else:
                raise ValueError(f"unsupported resource type {kind!r} for {name}")
        return cls(scalars, ranges)

    @classmethod
    def total(cls, items: Iterable[Resources]) -> Resources:
        """Sum many at once (allocation rounds add up every task; pairwise ``+`` copies too much)."""
        scalars: dict[str, float] = {}
        ranges: dict[str, list[Range]] = {}
        for item in items:
            for name, value in item.scalars.items():
                scalars[name] = scalars.get(name, 0.0) + value
            for name, more in item.ranges.items():
                ranges.setdefault(name, []).extend(more)
        return cls({n: _round(v) for n, v in scalars.items()}, {n: _normalise(r) for n, r in ranges.items()})

    def __add__(self, other: Resources) -> Resources:
        scalars = dict(self.scalars)
        for name, value in other.scalars.items():
            scalars[name] = _round(scalars.get(name, 0.0) + value)
        ranges = dict(self.ranges)
        for name, more in other.ranges.items():
            ranges[name] = _normalise(ranges.get(name, ()) + more)
        return Resources(scalars, ranges)

    def __sub__(self, other: Resources) -> Resources:
        scalars = dict(self.scalars)
        for name, value in other.scalars.items():
            scalars[name] = max(0.0, _round(scalars.get(name, 0.0) - value))
        ranges = dict(self.ranges)
        for name, less in other.ranges.items():
            ranges[name] = _subtract_ranges(ranges.get(name, ()), less)
        return Resources(scalars, ranges)

    def contains(self, other: Resources) -> bool:
        for name, value in other.scalars.items():
            if value > 0 and _round(self.scalars.get(name, 0.0) - value) < 0:
                return False
        return all(_ranges_contain(self.ranges.get(name, ()), value) for name, value in other.ranges.items())

    def is_empty(self) -> bool:
        return not any(v > 0 for v in self.scalars.values()) and not any(self.ranges.values())

    def to_mesos(self, role: str | None = None) -> list[dict[str, Any]]:
        """Offer-shaped JSON; ``role`` adds ``allocation_info`` as a multi-role master does."""
        result: list[dict[str, Any]] = []
        for name in sorted(self.scalars):
            if self.scalars[name] > 0:
                result.append({"name": name, "type": "SCALAR", "scalar": {"value": self.scalars[name]}})
        for name in sorted(self.ranges):
            if self.ranges[name]:
                result.append(
                    {
                        "name": name,
                        "type": "RANGES",
                        "ranges": {"range": [{"begin": b, "end": e} for b, e in self.ranges[name]]},
                    }
                )
        for item in result:
            item["role"] = "*"
            if role is not None:
                item["allocation_info"] = {"role": role}
        return result

    def to_state(self) -> dict[str, Any]:
        """``/state`` shape: ``{"cpus": 4.0, "mem": 4096.0, "disk": 0.0, "gpus": 0.0, "ports": "[…]"}``."""
        result: dict[str, Any] = {"cpus": 0.0, "disk": 0.0, "gpus": 0.0, "mem": 0.0}
        result.update(self.scalars)
        for name, value in self.ranges.items():
            if value:
                result[name] = _ranges_text(value)
        return result


def parse_attributes(text: str | None) -> list[dict[str, Any]]:
    """``rack:r1;zone:a;level:3`` → Mesos ``Attribute`` JSON (TEXT, SCALAR or RANGES by value shape)."""
    result: list[dict[str, Any]] = []
    for item in (text or "").split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"bad attribute {item!r}: expected name:value")
        name, value = name.strip(), value.strip()
        if value.startswith("["):
            ranges = parse_ranges(value)
            result.append(
                {
                    "name": name,
                    "type": "RANGES",
                    "ranges": {"range": [{"begin": b, "end": e} for b, e in ranges]},
                }
            )
            continue
        try:
            result.append({"name": name, "type": "SCALAR", "scalar": {"value": float(value)}})
        except ValueError:
            result.append({"name": name, "type": "TEXT", "text": {"value": value}})
    return result


def attributes_state(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """``/state`` shape of attributes: ``{"rack": "r1", "level": 3.0}``."""
    result: dict[str, Any] = {}
    for attr in attributes:
        if attr["type"] == "TEXT":
            result[attr["name"]] = attr["text"]["value"]
        elif attr["type"] == "SCALAR":
            result[attr["name"]] = attr["scalar"]["value"]
        else:
            ranges = tuple((r["begin"], r["end"]) for r in attr["ranges"]["range"])
            result[attr["name"]] = _ranges_text(ranges)
    return result
