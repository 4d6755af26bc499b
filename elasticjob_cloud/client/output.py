"""What the client prints: aligned tables for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

Column = tuple[str, Callable[[Any], Any]]  # (header, value of a row)
MAX_CELL = 60


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: Sequence[Any], columns: Sequence[Column], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    cells = [[cell(get(row)) for _, get in columns] for row in rows]
    headers = [header for header, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    for line in [headers, *cells]:
        print(
            "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip(), file=out
        )


def fields(record: dict[str, Any], out: TextIO | None = None) -> None:
    """One record as ``key: value`` lines (nested objects as compact JSON)."""
    out = out or sys.stdout
    width = max((len(key) for key in record), default=0)
    for key, value in record.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else cell(value)
        print(f"{key.ljust(width)}  {shown}", file=out)


def as_json(payload: Any, out: TextIO | None = None) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2), file=out or sys.stdout)
