"""A guard for framework callbacks, shared by the scheduler's and the executor's pymesos seams.

pymesos aborts its driver and re-raises in the main thread when a callback raises, so every
callback is wrapped: an exception is logged (with the callback's name) and swallowed there.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def guarded(log: logging.Logger, what: str) -> Callable[[F], F]:
    """``@guarded(log, "scheduler")`` on a callback method: it can no longer raise."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any) -> None:
            try:
                method(self, *args)
            except Exception:
                log.exception("%s callback %s failed", what, method.__name__)

        return wrapper  # type: ignore[return-value]

    return decorate
