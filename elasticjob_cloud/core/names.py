"""The one name rule: every app and job name, from any source, is checked here before it is used.

A name becomes a ZooKeeper node name (``/config/job/{jobName}``), part of a task ID
(``{job}@-@{item}@-@…``) and of an executor ID, and a URL path segment. So its alphabet is
restricted, ``.`` and ``..`` (relative path parts) are refused, and so are the few names that
would be hidden behind a fixed route (``GET /api/app/list`` lists apps, so an app named ``list``
could never be read back).
"""

from __future__ import annotations

import re

from ..exceptions import InvalidConfig

NAME_MAX_LENGTH = 100
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
NAME_REGEX = r"^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}$"  # the same rule, for the OpenAPI document
NAME_RULE = "must be 1-100 characters of A-Z a-z 0-9 _ . - (no '/', no '@-@', not '.' or '..')"
# Names a fixed route hides: /api/app/list; /api/job/jobs/{name} against /api/job/{name}/disable.
RESERVED_NAMES = {"appName": frozenset({"list"}), "jobName": frozenset({"jobs"})}
SHOWN_LENGTH = 60


def name_problem(value: object, field: str = "jobName", reserved: bool = True) -> str | None:
    """Why ``value`` is not a valid ``field`` (``appName`` or ``jobName``); None when it is.

    ``reserved=False`` lets a reserved name through: a stored record is read back whatever its name.
    """
    if not isinstance(value, str):
        return "must be a string"
    if not NAME_PATTERN.fullmatch(value) or value in (".", ".."):
        return NAME_RULE
    if reserved and value in RESERVED_NAMES.get(field, ()):
        return f"'{value}' is reserved (a fixed route of the API has that name)"
    return None


def require_name(value: object, field: str) -> str:
    """``value`` when it is a valid name, else ``InvalidConfig`` naming ``field`` (400)."""
    problem = name_problem(value, field)
    if problem is not None:
        raise InvalidConfig(f"{field}: {problem}, got {shown(value)}", {field: [problem]})
    assert isinstance(value, str)
    return value


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``value`` for a message: quoted, escaped, cut to ``limit`` characters (a name can be huge)."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[:limit]
    more = f" (… {len(text)} characters)" if len(text) > limit else ""
    return repr(cut) + more  # repr escapes NUL, control characters and lone surrogates
