"""Request bodies from a JSON or YAML file and from flags (``--set key=value`` and named flags)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml


class BodyError(ValueError):
    """A file or flag that cannot become a request body."""


def read_document(path: str) -> Any:
    """JSON or YAML (JSON is YAML); ``-`` reads standard input."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise BodyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BodyError(f"{path} is neither JSON nor YAML: {exc}") from None


def scalar(text: str) -> Any:
    """``--set`` values: YAML scalars (``true``, ``3``, ``0.5``), anything else a string."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def build_body(
    file: str | None, named: dict[str, Any], sets: list[str] | None, cleared: list[str] | None = None
) -> dict[str, Any]:
    """The file's object, then named flags (``cleared`` keys: null, the API's "back to the
    default"), then ``--set`` pairs (later wins)."""
    body: dict[str, Any] = {}
    if file:
        document = read_document(file)
        if not isinstance(document, dict):
            raise BodyError(f"{file} must hold one object (a mapping), not {type(document).__name__}")
        body.update(document)
    body.update({key: value for key, value in named.items() if value is not None})
    body.update(dict.fromkeys(cleared or []))
    for pair in sets or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BodyError(f"--set {pair!r}: expected key=value")
        body[key.strip()] = scalar(value)
    if not body:
        raise BodyError("nothing to send: give a file (-f) or fields (flags, --set key=value)")
    return body
