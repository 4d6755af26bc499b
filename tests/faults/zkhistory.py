"""What the scheduler wrote to ZooKeeper, read back from ZooKeeper's own transaction log (pure).

The campaign's ZooKeeper server logs every committed transaction to ``{dataDir}/version-2/log.*``
(fsynced before the client is answered) and keeps every file (no autopurge). That log is the
history the scheduler's ledger made, in commit order, including what a killed leader committed
just before it died: which tasks a launch transaction recorded together (one run), and, for a
FAILOVER task, the failover entry its transaction took, whose value is the task it runs again. The
checker uses it where the executions alone cannot tell runs apart (``concurrencyPolicy`` ALLOW:
runs overlap, so they are not consecutive blocks in time).

Format (ZooKeeper 3.8 ``FileTxnLog``, big-endian jute): a file header (magic ``ZKLG``, version,
database ID), then per transaction its checksum (long), its length (int), that many bytes (a
``TxnHeader``: client ID, cxid, zxid, time in ms, type; then the type's record, maybe a digest)
and an end byte ``B``. A file is preallocated with zeros: a zero length ends it, and so does a
transaction cut short by a server killed while writing.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"ZKLG"
CREATE, DELETE, SET_DATA, MULTI, CREATE2, CREATE_CONTAINER, CREATE_TTL = 1, 2, 5, 14, 15, 19, 21
ERROR = -1
CREATES = (CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL)
DELIMITER = "@-@"


@dataclass(frozen=True)
class Change:
    """One node change: ``op`` is "create", "set" or "delete"; ``data`` None for a delete."""

    op: str
    path: str
    data: bytes | None


@dataclass(frozen=True)
class Transaction:
    zxid: int
    time: float  # seconds since the epoch, as the server stamped it
    changes: tuple[Change, ...]


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return int(value)

    def buffer(self) -> bytes | None:
        size = self.take(">i")
        if size < 0:
            return None
        if self.at + size > len(self.data):
            raise struct.error("buffer past the end")
        found = self.data[self.at : self.at + size]
        self.at += size
        return found

    def text(self) -> str:
        return (self.buffer() or b"").decode("utf-8", "replace")


def _change(kind: int, record: bytes) -> Change | None:
    reader = _Reader(record)
    if kind in CREATES:
        return Change("create", reader.text(), reader.buffer() or b"")
    if kind == DELETE:
        return Change("delete", reader.text(), None)
    if kind == SET_DATA:
        return Change("set", reader.text(), reader.buffer() or b"")
    return None  # sessions, checks, errors, ACLs


def _transaction(entry: bytes) -> Transaction:
    reader = _Reader(entry)
    reader.take(">q")  # client ID
    reader.take(">i")  # cxid
    zxid = reader.take(">q")
    stamp = reader.take(">q")
    kind = reader.take(">i")
    body = entry[reader.at :]
    changes: list[Change] = []
    if kind == MULTI:
        count = reader.take(">i")
        for _ in range(max(count, 0)):
            sub_kind = reader.take(">i")
            if sub_kind == ERROR:  # a failed multi: logged with the records before the failing one
                return Transaction(zxid, stamp / 1000.0, ())  # (``DataTree`` applies none of them)
            found = _change(sub_kind, reader.buffer() or b"")
            if found is not None:
                changes.append(found)
    else:
        found = _change(kind, body)
        if found is not None:
            changes.append(found)
    return Transaction(zxid, stamp / 1000.0, tuple(changes))


def read_log_file(path: Path) -> Iterator[Transaction]:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        return
    reader = _Reader(data)
    reader.at = 16  # magic, version, database ID
    while reader.at + 12 <= len(data):
        try:
            reader.take(">q")  # checksum
            entry = reader.buffer()
            if not entry:
                return  # the preallocated, never written rest of the file
            end = reader.take(">b")
        except struct.error:
            return  # cut short: the server died while writing it, so it was never committed
        if end != ord("B"):
            return
        yield _transaction(entry)


def read_log(data_dir: Path) -> list[Transaction]:
    """Every transaction in the server's log files under ``data_dir``, in zxid order."""
    found: dict[int, Transaction] = {}
    for path in sorted(data_dir.rglob("log.*")):
        for transaction in read_log_file(path):
            found[transaction.zxid] = transaction
    return [found[zxid] for zxid in sorted(found)]


# ------------------------------------------------------------------------------ the ledger's history


@dataclass
class LaunchedRun:
    """A READY run as its launch transaction recorded it: shard → task ID."""

    zxid: int
    time: float
    tasks: dict[int, str] = field(default_factory=dict)


@dataclass
class JobHistory:
    """One job's runs and tasks as the scheduler recorded them in ZooKeeper."""

    runs: list[LaunchedRun] = field(default_factory=list)
    run_of: dict[str, int] = field(default_factory=dict)  # task ID → index in runs
    failover_of: dict[str, str] = field(default_factory=dict)  # FAILOVER task → the task it runs again
    recorded_at: dict[str, float] = field(default_factory=dict)  # task → its running record's creation
    finished_at: dict[str, float] = field(default_factory=dict)  # task → its running record's delete
    # (shard, original task, created, taken or removed; None: still there at the end)
    failover_entries: list[tuple[int, str, float, float | None]] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)  # FAILOVER tasks whose entry was not found


def _shard_of(task_id: str, job: str) -> tuple[int, str] | None:
    parts = task_id.split(DELIMITER)
    if len(parts) != 5 or parts[0] != job or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def _failed_over(change: Change, job: str) -> str:
    """The task a failover entry runs again: its value (the original's layout), else its name, else
    a task ID among the values of a JSON object (entries kept per task)."""
    text = (change.data or b"").decode("utf-8", "replace")
    candidates = [text, change.path.rsplit("/", 1)[-1]]
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if isinstance(found, dict):
        candidates += [v for v in found.values() if isinstance(v, str)]
    return next((c for c in candidates if _shard_of(c, job) is not None), text)


def job_history(transactions: Iterable[Transaction], job: str, root: str = "") -> JobHistory:
    """``job``'s history from the log (``root``: the scheduler's chroot, e.g. ``/campaign``).

    A transaction that creates READY running records of ``job`` launched one run (a round starts at
    most one queued run per job; should one transaction hold two, each shard's n-th task goes to the
    n-th run). A FAILOVER task's transaction also deletes the failover entry it took, under
    ``{root}/state/failover/{job}/``; the value that entry was created with is the task it runs
    again, and that task's run is the FAILOVER task's run."""
    running = f"{root}/state/running/{job}/"
    failover = f"{root}/state/failover/{job}/"
    history = JobHistory()
    values: dict[str, str] = {}  # the current value of each running record and failover entry
    entry_index: dict[str, int] = {}  # failover entry path → its row in failover_entries
    for transaction in transactions:
        ready: dict[int, list[str]] = {}
        taken: list[str] = []  # the originals of the failover entries this transaction took
        failovers: list[str] = []
        for change in transaction.changes:
            if change.path.startswith(failover):
                if change.op == "delete":
                    original = values.pop(change.path, None)
                    if original is not None:
                        taken.append(original)
                        row = entry_index.pop(change.path)
                        shard, _, created, _ = history.failover_entries[row]
                        history.failover_entries[row] = (shard, original, created, transaction.time)
                else:
                    original = _failed_over(change, job)
                    values[change.path] = original
                    parsed = _shard_of(original, job)
                    if change.op == "create" and parsed is not None:
                        entry_index[change.path] = len(history.failover_entries)
                        history.failover_entries.append((parsed[0], original, transaction.time, None))
                continue
            if not change.path.startswith(running):
                continue
            if change.op == "delete":
                ended = values.pop(change.path, None)
                if ended is not None:
                    history.finished_at[ended] = transaction.time
                continue
            task = (change.data or b"").decode()
            values[change.path] = task
            parsed = _shard_of(task, job)
            if parsed is None or task in history.recorded_at:
                continue  # not a task record, or one written again (an adopted task)
            history.recorded_at[task] = transaction.time
            if parsed[1] == "READY":
                ready.setdefault(parsed[0], []).append(task)
            else:
                failovers.append(task)
        for n in range(max((len(t) for t in ready.values()), default=0)):
            run = LaunchedRun(transaction.zxid, transaction.time)
            run.tasks = {shard: tasks[n] for shard, tasks in ready.items() if n < len(tasks)}
            for task in run.tasks.values():
                history.run_of[task] = len(history.runs)
            history.runs.append(run)
        for task in failovers:
            shard = _shard_of(task, job)
            original = next((o for o in taken if shard and (_shard_of(o, job) or (-1,))[0] == shard[0]), None)
            if original is None:
                history.unlinked.append(task)
                continue
            taken.remove(original)
            history.failover_of[task] = original
            if original in history.run_of:
                history.run_of[task] = history.run_of[original]
            else:
                history.unlinked.append(task)
    return history
