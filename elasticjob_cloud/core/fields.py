"""Strict marshmallow fields: a value is taken as sent or refused, never silently changed.

* Numbers: JSON numbers, or numeric strings in ASCII digits (the original's console sends
  ``"0.1"``); never booleans, ``NaN``/``Infinity`` or full-width digits. An integer field refuses
  ``3.5`` instead of storing ``3``.
* Booleans: ``true``/``false`` (and the strings ``"true"``/``"false"``, which the original's Gson
  read the same way); never ``1`` or ``"yes"``.
* Text: strings only, valid Unicode (no lone surrogate) without NUL, at most ``max_length`` characters.

Upper bounds (``maximum``, ``max_length``) are checked on input only: a record already stored (by an
older version, or the original) is read back even when it exceeds them, so no job silently vanishes.
Each bound is also put in the field's metadata, so the OpenAPI document states it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

_WHOLE_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
NO_NUL = "^[^\\x00]*$"  # the document's form of "no NUL" (JSON Schema regex)
_INPUT_BOUNDS: ContextVar[bool] = ContextVar("input_bounds", default=True)


@contextmanager
def stored_records() -> Iterator[None]:
    """Within this block, upper bounds are not checked (reading what is already stored)."""
    token = _INPUT_BOUNDS.set(False)
    try:
        yield
    finally:
        _INPUT_BOUNDS.reset(token)


def input_bounds_apply() -> bool:
    """False while reading stored records (``stored_records``)."""
    return _INPUT_BOUNDS.get()


_bounded = input_bounds_apply


def _shown(value: Any) -> str:
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def plain(number: float) -> str:
    """``16777216.0`` → ``16777216``, ``0.001`` → ``0.001`` (no exponent, no trailing zeros)."""
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def whole_number(text: str) -> int | None:
    """``text`` (blanks around it aside) as a whole number written in ASCII digits; None when it is
    not one. For query parameters: Python's ``int`` also takes ``1_000`` and other scripts' digits
    (``٣``), which no client means and the body fields refuse too."""
    stripped = text.strip()
    if not _WHOLE_TEXT.fullmatch(stripped):
        return None
    try:
        return int(stripped)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
        return None


def _as_decimal(value: Any) -> Decimal:
    """A JSON number or a numeric ASCII string as an exact decimal; ValidationError otherwise."""
    if value is True or value is False:
        raise ValidationError(f"must be a number, not a boolean ({_shown(value)})")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"must be a finite number, got {_shown(value)}")
        return Decimal(repr(value))
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise ValidationError(f"must be a number, got {_shown(value)}")


class _Ranged:
    def _range_metadata(self, minimum: float | None, maximum: float | None, kwargs: dict[str, Any]) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        if minimum is not None:
            metadata["minimum"] = minimum
        if maximum is not None:
            metadata["maximum"] = maximum
        kwargs["metadata"] = metadata
        self.minimum, self.maximum = minimum, maximum

    def _check_range(self, number: Decimal) -> None:
        if self.minimum is not None and number < Decimal(repr(self.minimum)):
            raise ValidationError(f"must be at least {plain(self.minimum)}, got {_shown(number)}")
        if self.maximum is not None and _bounded() and number > Decimal(repr(self.maximum)):
            raise ValidationError(f"must be at most {plain(self.maximum)}, got {_shown(number)}")


class Number(_Ranged, fields.Float):
    def __init__(self, *, minimum: float | None = None, maximum: float | None = None, **kwargs: Any):
        self._range_metadata(minimum, maximum, kwargs)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        number = _as_decimal(value)
        self._check_range(number)
        result = float(number)
        if not math.isfinite(result):
            raise ValidationError(f"must be a finite number, got {_shown(value)}")
        return result


class Integer(_Ranged, fields.Integer):
    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kwargs: Any):
        self._range_metadata(minimum, maximum, kwargs)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = _as_decimal(value)
        try:
            whole = number == number.to_integral_value()
        except InvalidOperation:  # an exponent too large to expand: far out of any range
            whole = False
        if not whole:
            raise ValidationError(f"must be a whole number, got {_shown(value)}")
        self._check_range(number)
        return int(number)


class Boolean(fields.Boolean):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValidationError(f"must be true or false, got {_shown(value)}")


class Text(fields.String):
    def __init__(self, *, max_length: int, **kwargs: Any):
        metadata = dict(kwargs.pop("metadata", None) or {})
        metadata["maxLength"] = max_length
        metadata.setdefault("pattern", NO_NUL)
        super().__init__(metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"must be a string, got {_shown(value)}")
        problem = text_problem(value)
        if problem is not None:
            raise ValidationError(problem)
        if _bounded() and len(value) > self.max_length:
            raise ValidationError(f"must be at most {self.max_length} characters, got {len(value)}")
        return value


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (NUL, lone surrogate); None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text (it contains a lone surrogate)"
    return None
