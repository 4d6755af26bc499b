"""Server-side paging of the app and job lists, asked for with ``page`` / ``per_page`` / ``search``.

Backward compatible: without any of those parameters the lists stay the plain JSON arrays of the
original (the 2.x console's ``order``, ``limit`` and ``offset`` are still ignored). With one of
them the answer is the history endpoints' shape, ``{"total": N, "rows": [...]}``, rows sorted by
name (``order=desc`` reverses), so the console never loads 10,000 jobs to show 25.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from ..core.fields import whole_number
from ..exceptions import InvalidConfig

MAX_PER_PAGE = 1000
MAX_SEARCH = 200


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int
    search: str
    descending: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def query_number(name: str, default: int, maximum: int) -> int:
    """The query parameter ``name`` as a whole number from 1 to ``maximum`` (``default`` when absent
    or empty); anything else is ``InvalidConfig`` naming it (400). The audit search pages with it too."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    value = whole_number(raw)
    if value is None:
        raise InvalidConfig.field(name, f"must be a whole number, got {raw[:40]!r}")
    if not 1 <= value <= maximum:
        raise InvalidConfig.field(name, f"must be between 1 and {maximum}, got {value}")
    return value


def requested_page() -> PageRequest | None:
    """The paging the query asks for, None for the plain list; InvalidConfig names a bad parameter."""
    args = request.args
    if not any(name in args for name in ("page", "per_page", "search")):
        return None
    search = args.get("search", "").strip()
    if len(search) > MAX_SEARCH:
        raise InvalidConfig.field("search", f"at most {MAX_SEARCH} characters")
    order = args.get("order", "asc").strip().lower() or "asc"
    if order not in ("asc", "desc"):
        raise InvalidConfig.field("order", f"must be asc or desc, got {order[:20]!r}")
    return PageRequest(
        page=query_number("page", 1, 10_000_000),
        per_page=query_number("per_page", 10, MAX_PER_PAGE),
        search=search,
        descending=order == "desc",
    )
