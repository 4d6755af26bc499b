"""The agent's ``/files`` endpoints (``read`` and ``browse``), as Mesos 1.11's ``FilesProcess``.

A Mesos agent "attaches" every executor sandbox under three names, each mapped to the sandbox's
real path: the sandbox directory itself, ``{work_dir}/slaves/{agent}/frameworks/{fw}/executors/
{executor}/runs/latest`` and the virtual ``/frameworks/{fw}/executors/{executor}/runs/latest``
(``slave.cpp``). A request's ``path``
is resolved by its longest attached prefix; the rest is joined onto that sandbox and
canonicalised (symlinks followed). So:

* no attached prefix, or a file that does not exist → 404 (empty body);
* a canonical path outside its sandbox (``..``, a symlink leading out) → 400
  ``'…' is inaccessible`` (Mesos answers 400 for this, not 404). The containment test is a real
  path-component test; Mesos compares string prefixes, so ``runs/c1`` would also admit
  ``runs/c10`` there;
* ``read``: ``offset`` absent or ``-1`` → ``{"data": "", "offset": <file size>}``; an offset at or
  past the end → empty data with that offset; ``length`` absent or ``-1`` → to the end; every read
  is capped at 16 pages (64 KiB); ``offset``/``length`` below ``-1`` or not integers → 400; a
  directory → 400 ``Cannot read a directory.``;
* ``browse``: the entries of a directory sorted by path, each ``{path, nlink, size, mtime, mode,
  uid, gid}`` (``mode`` as ``ls`` prints it, ``uid``/``gid`` as names); a file lists nothing.

Sandboxes stay attached while the agent lists their executor (running or among its last completed
ones); a real agent detaches them when it garbage-collects the sandbox. Bytes that are not UTF-8
come back as U+FFFD in ``data`` (Mesos passes raw bytes through its JSON writer).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

MAX_READ = os.sysconf("SC_PAGE_SIZE") * 16


class FilesError(Exception):
    """An answer other than 200: ``status`` and a plain-text body, as ``FilesError`` in Mesos."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message


def attachments(work_dir: Path, agent_id: str, executors: Iterable[tuple[str, str, Path]]) -> dict[str, str]:
    """Attached name → sandbox real path for ``(framework_id, executor_id, directory)`` triples.

    Later triples win, as a later ``attach`` replaces the name (pass completed executors first)."""
    names: dict[str, str] = {}
    for framework_id, executor_id, directory in executors:
        real = os.path.realpath(directory)
        if not os.path.isdir(real):
            continue  # Mesos refuses to attach what does not exist
        runs = f"frameworks/{framework_id}/executors/{executor_id}/runs/latest"
        names[str(directory)] = real
        names[f"{work_dir}/slaves/{agent_id}/{runs}"] = real
        names[f"/{runs}"] = real
    return names


def resolve(names: Mapping[str, str], path: str) -> str:
    """The real path behind a requested ``path`` (``FilesProcess::resolve``), or a FilesError."""
    tokens = path.rstrip("/").split("/")
    suffix: list[str] = []
    while tokens:
        prefix = "/".join(tokens)
        root = names.get(prefix) if prefix else None
        if root is None:
            suffix.insert(0, tokens.pop())
            continue
        joined = os.path.join(root, *suffix) if suffix else root
        try:
            real = os.path.realpath(joined, strict=True)
        except FileNotFoundError:
            raise FilesError(404) from None
        except OSError as exc:
            raise FilesError(
                400, f"Failed to determine canonical path of '{joined}': {exc.strerror}.\n"
            ) from None
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            raise FilesError(400, f"'{joined}' is inaccessible.\n")
        return real
    raise FilesError(404)


def _query(raw: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _required_path(query: Mapping[str, str]) -> str:
    path = query.get("path", "")
    if not path:
        raise FilesError(400, "Expecting 'path=value' in query.\n")
    return path.removeprefix("file://")


def _integer(query: Mapping[str, str], name: str) -> int:
    text = query.get(name)
    if text is None:
        return -1
    try:
        value = int(text.strip())
    except ValueError:
        raise FilesError(400, f"Failed to parse {name}: Failed to convert '{text}' to number.\n") from None
    if value < -1:
        raise FilesError(400, f"Negative {name} provided: {value}.\n")
    return value


def read(names: Mapping[str, str], raw_query: str) -> dict[str, Any]:
    """``GET /files/read``: ``{"data", "offset"}``."""
    query = _query(raw_query)
    path = _required_path(query)
    offset, length = _integer(query, "offset"), _integer(query, "length")
    real = resolve(names, path)
    if os.path.isdir(real):
        raise FilesError(400, "Cannot read a directory.\n")
    try:
        with open(real, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if offset == -1:
                return {"data": "", "offset": size}
            if offset >= size or length == 0:
                return {"data": "", "offset": offset}
            wanted = size - offset if length == -1 else length
            handle.seek(offset)
            data = handle.read(min(wanted, MAX_READ))
    except OSError as exc:
        raise FilesError(500, f"Failed to open file at '{real}': {exc.strerror}.\n") from None
    return {"data": data.decode("utf-8", errors="replace"), "offset": offset}


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def browse(names: Mapping[str, str], raw_query: str) -> list[dict[str, Any]]:
    """``GET /files/browse``: the entries of a directory (followed symlinks; dangling ones left out)."""
    path = _required_path(_query(raw_query))
    real = resolve(names, path)
    try:
        entries = os.listdir(real)
    except OSError:
        return []  # a file, as os::ls fails on it
    listing: dict[str, dict[str, Any]] = {}
    for entry in entries:
        full = os.path.join(real, entry)
        try:
            info = os.stat(full)
        except OSError:
            continue
        listing[full] = {
            "path": os.path.join(path, entry),
            "nlink": info.st_nlink,
            "size": info.st_size,
            "mtime": float(int(info.st_mtime)),
            "mode": stat.filemode(info.st_mode),
            "uid": _owner(info.st_uid),
            "gid": _group(info.st_gid),
        }
    return [listing[key] for key in sorted(listing)]
