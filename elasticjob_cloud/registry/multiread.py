"""ZooKeeper's ``multiRead`` (opcode 22, ZooKeeper 3.6+): many ``getData`` or ``getChildren`` in
one request.

kazoo sends each request through its connection thread one at a time (a wake-up, a send, a read,
a thread hand-off per request): 167 pipelined ``get`` calls take 25-40 ms on a small machine, one
``multiRead`` of the same paths 3-6 ms, and 2,000 paths 15-20 ms instead of 300-460 ms. That is the
difference between a cron fire written within the second's first few milliseconds and one written
late, and it shortens every scheduler round that reads the queues.

kazoo has no ``multiRead``; this module is the request and response codec (the wire format of
ZooKeeper's ``MultiOperationRecord`` / ``MultiResponse``: a ``MultiHeader`` before each sub-request
and each result, a closing header with ``done``). Unlike a write ``multi``, each read fails alone:
a missing node answers an error result for its own slot and the others still return data.
Servers older than 3.6 answer ``Unimplemented``; ``KazooTree`` then falls back to single gets.

``getChildren`` the same way (``MultiChildren``): a new leader lists ``/state/running/{job}`` of every
job; 10,000 pipelined ``getChildren`` calls took 2-3 s through kazoo's connection thread.
"""

from __future__ import annotations

from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import EXCEPTIONS, NoNodeError
from kazoo.protocol.serialization import (
    MultiHeader,
    int_struct,
    multiheader_struct,
    read_buffer,
    read_string,
    stat_struct,
    write_string,
)

from .tree import Stamped

_GET_DATA = 4
_GET_CHILDREN = 8
_ERROR = -1

Found = tuple[bytes, int] | None  # (data, version), None for a missing node


class MultiRead:
    """The request: ``getData`` (no watch) of every path, already prefixed with the chroot."""

    type = 22  # ZooDefs.OpCode.multiRead
    op = _GET_DATA  # the read asked of every path

    def __init__(self, paths: list[str]):
        self.paths = paths

    def __repr__(self) -> str:  # kazoo logs requests at debug level
        return f"{type(self).__name__}({len(self.paths)} paths)"

    def serialize(self) -> bytearray:
        body = bytearray()
        for path in self.paths:
            body.extend(MultiHeader(self.op, False, -1).serialize())
            body.extend(write_string(path))
            body.append(0)  # watch = false
        return body + multiheader_struct.pack(-1, True, -1)

    @classmethod
    def deserialize(cls, buffer: bytes, offset: int) -> list[Any]:
        results: list[Any] = []
        while True:
            header, offset = MultiHeader.deserialize(buffer, offset)
            if header.done:
                return results
            if header.type == cls.op:
                found, offset = cls.read_one(buffer, offset)
                results.append(found)
            elif header.type == _ERROR:
                code = int_struct.unpack_from(buffer, offset)[0]
                offset += int_struct.size
                results.append(None if code == NoNodeError.code else EXCEPTIONS[code]())
            else:
                raise ValueError(f"unexpected result type {header.type} in a multiRead answer")

    @staticmethod
    def read_one(buffer: bytes, offset: int) -> tuple[Found, int]:
        data, offset = read_buffer(buffer, offset)
        fields = stat_struct.unpack_from(buffer, offset)
        return ((data or b""), fields[_STAT_VERSION]), offset + stat_struct.size


class MultiChildren(MultiRead):
    """The request: ``getChildren`` (no watch) of every path; one list of names (or None for a
    missing node, or an exception) per path. multiRead as well: one request may mix both reads;
    ours do not."""

    op = _GET_CHILDREN

    @staticmethod
    def read_one(buffer: bytes, offset: int) -> tuple[list[str], int]:  # type: ignore[override]
        count = int_struct.unpack_from(buffer, offset)[0]
        offset += int_struct.size
        names = []
        for _ in range(max(0, count)):
            name, offset = read_string(buffer, offset)
            names.append(name)
        return names, offset


class MultiReadStamped(MultiRead):
    """``getData`` answered with the stat times too (``tree.Stamped``): the same request on the wire,
    only more of each answer's stat is kept."""

    @staticmethod
    def read_one(buffer: bytes, offset: int) -> tuple[Stamped, int]:  # type: ignore[override]
        data, offset = read_buffer(buffer, offset)
        fields = stat_struct.unpack_from(buffer, offset)
        found = Stamped(
            data or b"", fields[_STAT_VERSION], fields[_STAT_CTIME] / 1000, fields[_STAT_MTIME] / 1000
        )
        return found, offset + stat_struct.size


# ZnodeStat's fields: czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner,
# dataLength, numChildren, pzxid: ``version`` is the fifth; ctime and mtime are milliseconds.
_STAT_CTIME = 2
_STAT_MTIME = 3
_STAT_VERSION = 4


def send(client: KazooClient, paths: list[str], request: type[MultiRead] = MultiRead) -> Any:
    """Queue one multiRead of ``paths`` (relative to the client's chroot); returns kazoo's async
    result, whose value is one answer per path in order (``request``'s: ``(data, version)``, a list
    of child names, a ``Stamped``), ``None`` or an exception."""
    root = (client.chroot or "").rstrip("/")
    result = client.handler.async_result()
    client._call(request([(root + path).rstrip("/") or "/" for path in paths]), result)
    return result
