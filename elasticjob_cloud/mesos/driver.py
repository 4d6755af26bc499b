"""The pymesos seam of the scheduler: the only module on this side that imports pymesos.

pymesos runs callbacks on its I/O thread and aborts the driver (re-raising in the main thread) when
one raises, so every callback here is wrapped, logs, and only hands the event to the engine's queue.
Every call the engine makes goes through :class:`MesosDriver`, which never raises either: a call the
master refused or that could not be sent is logged and reported as ``False``; the engine's own state
(running tasks in ZooKeeper, reconciliation) recovers from a lost call. pymesos installs a SIGINT
handler on import, so this module must be imported from the main thread (the composition root
imports it at start-up).
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from pymesos import MesosSchedulerDriver, Scheduler, encode_data

from ..core.callbacks import guarded

log = logging.getLogger(__name__)

CONNECT_DEADLINE = 7 * 24 * 3600.0  # pymesos's default (a day) would give up on a long master outage
CALL_TIMEOUT = 10.0  # seconds one call (ACCEPT, ACKNOWLEDGE, ...) may take before it fails


def _connect(master: str) -> http.client.HTTPConnection:
    host, port = master.split(":", 2)
    return http.client.HTTPConnection(host, int(port), timeout=CALL_TIMEOUT)


class _SchedulerDriver(MesosSchedulerDriver):
    """pymesos uses its connect deadline as the socket timeout of every call too: with a deadline of
    days, a master that stops answering would freeze its event thread (the implicit ACKNOWLEDGE holds
    the driver's lock) and every call of the engine. Calls get their own, short timeout.

    Every SUBSCRIBE (the first, and each one pymesos sends by itself when its stream ends) is sent
    only while ``may_subscribe()`` holds (the leadership, confirmed with ZooKeeper): a SUBSCRIBE
    with the framework's ID takes the framework from whoever holds it, and the master fences
    nothing. A leader resumed after a pause past its session timeout finds its stream closed (the
    new leader took the framework) and would otherwise take it back before it hears that it lost
    its session, cutting off the true leader (its ACCEPT in flight then answered TASK_DROPPED)."""

    SUBSCRIBE_RECHECK = 0.5  # seconds between checks while the leadership is not confirmed

    def __init__(self, *args: Any, may_subscribe: Callable[[], bool] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.may_subscribe: Callable[[], bool] = may_subscribe or (lambda: True)

    def gen_request(self) -> bytes:
        """pymesos calls this on its I/O thread for each new connection, just before it sends the
        SUBSCRIBE. Not confirmed: nothing is sent (an empty request) until it is, or until the
        driver is stopped; the I/O thread has nothing else to do without a stream."""
        warned = False
        while not self.may_subscribe():
            if self.aborted:
                return b""
            if not warned:
                log.warning("not subscribing to the Mesos master: leadership not confirmed")
                warned = True
            time.sleep(self.SUBSCRIBE_RECHECK)
        request: bytes = super().gen_request()
        return request

    def halt(self) -> None:
        """End the event stream now, from any thread, without blocking and never with TEARDOWN
        (the tasks stay for the next leader); ``stop`` still joins later."""
        with self._lock:
            self._failover = True
            self._started = False
            self._stream_id = None  # calls made meanwhile are refused here, not sent on a dead stream
        self._notify()

    def _get_conn(self) -> Any:
        if not self.connected:
            return None
        connection: Any = self._conn  # type: ignore[has-type]
        if connection is None:
            connection = self._conn = _connect(self.master)
        return connection


class EventSink(Protocol):
    """Where translated callbacks go (the engine); each method must only enqueue."""

    def registered(self, framework_id: str, master: str) -> None: ...
    def reregistered(self, framework_id: str, master: str) -> None: ...
    def disconnected(self) -> None: ...
    def offers(self, offers: list[dict[str, Any]]) -> None: ...
    def rescinded(self, offer_id: str) -> None: ...
    def status(self, status: dict[str, Any]) -> None: ...
    def agent_lost(self, agent_id: str) -> None: ...
    def executor_lost(self, executor_id: str, agent_id: str) -> None: ...
    def error(self, message: str) -> None: ...


_guarded = guarded(log, "scheduler")


def _value(item: Any) -> str:
    return str(item["value"]) if isinstance(item, dict) else str(item)


def _master(info: Any) -> str:
    return f"{info.get('hostname', '')}:{info.get('port', '')}" if isinstance(info, dict) else ""


# Updates that change only what the engine keeps in memory: acknowledged as they arrive (see
# ``MesosDriver.acknowledge``). An agent forwards a task's next update only once the one before is
# acknowledged, so a TASK_FINISHED waited behind TASK_RUNNING until the engine's thread had written
# everything pending; an agent removed meanwhile took it along, the master reported the task
# TASK_LOST and its shard ran a second time for one fire.
ACKNOWLEDGED_ON_ARRIVAL = frozenset({"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"})


class _Callbacks(Scheduler):
    def __init__(self, sink: EventSink, on_arrival: Callable[[dict[str, Any]], None] = lambda status: None):
        self.sink = sink
        self.on_arrival = on_arrival

    @_guarded
    def registered(self, driver: Any, framework_id: Any, master_info: Any) -> None:
        self.sink.registered(_value(framework_id), _master(master_info))

    @_guarded
    def reregistered(self, driver: Any, master_info: Any) -> None:
        self.sink.reregistered(str(driver.framework_id or ""), _master(master_info))

    @_guarded
    def disconnected(self, driver: Any) -> None:
        self.sink.disconnected()

    @_guarded
    def resourceOffers(self, driver: Any, offers: list[Any]) -> None:
        self.sink.offers([dict(offer) for offer in offers])

    @_guarded
    def offerRescinded(self, driver: Any, offer_id: Any) -> None:
        self.sink.rescinded(_value(offer_id))

    @_guarded
    def statusUpdate(self, driver: Any, status: Any) -> None:
        update = dict(status)
        if update.get("state") in ACKNOWLEDGED_ON_ARRIVAL:
            self.on_arrival(update)
        self.sink.status(update)

    @_guarded
    def slaveLost(self, driver: Any, agent_id: Any) -> None:
        self.sink.agent_lost(_value(agent_id))

    @_guarded
    def executorLost(self, driver: Any, executor_id: Any, agent_id: Any, status: Any) -> None:
        self.sink.executor_lost(_value(executor_id), _value(agent_id))

    @_guarded
    def frameworkMessage(self, driver: Any, executor_id: Any, agent_id: Any, data: Any) -> None:
        log.debug("framework message from %s on %s", _value(executor_id), _value(agent_id))

    @_guarded
    def error(self, driver: Any, message: Any) -> None:
        self.sink.error(str(message))


class NoAnswer(RuntimeError):
    """A call was (perhaps) sent but its answer never came: the master may or may not have applied it."""


class _Channel:
    """A keep-alive connection of our own to the subscribed master, for calls sent in bulk.

    pymesos sends one call at a time under its driver lock and waits for each answer. Here every
    call of a batch is written at once and the answers are read back in order (HTTP/1.1
    pipelining, which the Mesos master serves in order): the master handles one call while the next
    is still being encoded and sent. A round of 10 ACCEPTs no longer waits for 10 round trips.
    """

    def __init__(self, driver: MesosSchedulerDriver):
        self._driver = driver
        self._socket: socket.socket | None = None
        self._reader: Any = None
        self._address: str | None = None
        self._unanswered = 0  # answers of the last batch not read yet (its reader was dropped)

    def send(self, calls: Sequence[dict[str, Any]]) -> Iterator[Exception | None]:
        """Write every call now (raises when that fails); the iterator yields each call's outcome
        in order, as its answer arrives (None: the master took it)."""
        driver = self._driver
        master, framework_id = driver.master, driver.framework_id
        if not master or not framework_id or not driver.connected:
            raise RuntimeError("not subscribed")
        if master != self._address or self._unanswered:
            self.close()  # another master, or answers still due that would be taken for these
        if self._socket is None:
            host, port = master.split(":", 2)
            self._socket = socket.create_connection((host, int(port)), timeout=CALL_TIMEOUT)
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._reader, self._address = self._socket.makefile("rb"), master
        head = f"POST /api/v1/scheduler HTTP/1.1\r\nHost: {master}\r\nContent-Type: application/json\r\n"
        head += f"Accept: application/json\r\nMesos-Stream-Id: {driver.stream_id or ''}\r\n"
        if driver._basic_credential:
            head += f"Authorization: {driver._basic_credential}\r\n"
        try:
            for call in calls:  # each goes out as soon as it is encoded: the master starts on it
                body = json.dumps({**call, "framework_id": {"value": framework_id}}).encode()
                self._socket.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        except OSError as exc:  # some calls may be out already: their fate is unknown
            self.close()
            raise NoAnswer(f"sending failed: {exc}") from exc
        self._unanswered = len(calls)
        return self._answers(len(calls))

    def _answers(self, count: int) -> Iterator[Exception | None]:
        for answered in range(count):
            try:
                if self._reader is None:
                    raise ConnectionError("the master closed the connection")
                status, body, closing = self._answer()
            except (OSError, ValueError, http.client.HTTPException) as exc:
                self.close()  # this call's fate and every later one's is unknown: all failed
                for _ in range(answered, count):
                    yield NoAnswer(f"no answer from the master: {exc}")
                return
            self._unanswered -= 1
            if closing:
                self.close()
            yield None if 200 <= status < 300 else RuntimeError(f"master answered {status}: {body[:300]!r}")

    def _answer(self) -> tuple[int, bytes, bool]:
        """One answer: status, body, and whether the master closes the connection after it."""
        line = self._reader.readline(65537)
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"bad status line {line[:100]!r}")
        headers = http.client.parse_headers(self._reader)
        closing = headers.get("Connection", "").lower() == "close"
        if headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._chunked()
        elif headers.get("Content-Length") is not None:
            body = self._reader.read(int(headers["Content-Length"]))
        else:  # the answer ends with the connection
            body, closing = self._reader.read(), True
        return int(parts[1]), body, closing

    def _chunked(self) -> bytes:
        chunks = []
        while size := int(self._reader.readline(65537).split(b";")[0], 16):
            chunks.append(self._reader.read(size))
            self._reader.readline(65537)
        while self._reader.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)

    def close(self) -> None:
        for part in (self._reader, self._socket):
            if part is not None:
                try:
                    part.close()
                except OSError:
                    pass
        self._socket = self._reader = self._address = None
        self._unanswered = 0


class _Acknowledger:
    """Sends ACKNOWLEDGE calls on a connection and thread of their own.

    Acknowledging is explicit (the engine acknowledges an update only once what it changed is in
    ZooKeeper, so a crash in between makes the agent send it again rather than lose it), and kept
    off pymesos's connection: its lock would otherwise make every ACCEPT wait behind them.
    """

    def __init__(self, driver: MesosSchedulerDriver):
        self._channel = _Channel(driver)
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mesos-acknowledger", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(CALL_TIMEOUT + 1)

    def put(self, status: dict[str, Any]) -> None:
        self._queue.put(status)

    def _run(self) -> None:
        while (status := self._queue.get()) is not None:
            try:
                call = {
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {k: status[k] for k in ("agent_id", "task_id", "uuid")},
                }
                for error in self._channel.send([call]):
                    if error is not None:
                        raise error
            except Exception as exc:  # the agent sends the update again; the engine takes it twice
                log.warning("acknowledging %s failed: %.200s", status.get("task_id"), exc)
                self._channel.close()


class MesosDriver:
    """The calls the engine makes; each logs and returns False instead of raising."""

    def __init__(
        self,
        framework: dict[str, Any],
        master_url: str,
        sink: EventSink,
        principal: str | None = None,
        secret: str | None = None,
        connect_deadline: float = CONNECT_DEADLINE,
        may_subscribe: Callable[[], bool] | None = None,
    ):
        self._driver = _SchedulerDriver(
            _Callbacks(sink, self._acknowledge_now),
            dict(framework),
            master_url,
            use_addict=False,
            implicit_acknowledgements=False,
            principal=principal or None,
            secret=secret or None,
            timeout=connect_deadline,
            may_subscribe=may_subscribe,
        )
        self._acknowledger = _Acknowledger(self._driver)
        self._launches = _Channel(self._driver)

    def acknowledge(self, status: dict[str, Any]) -> bool:
        """Queue the ACKNOWLEDGE of an update carrying a uuid (reconciliation answers have none); the
        engine calls it once what the update changed is stored. Updates of ``ACKNOWLEDGED_ON_ARRIVAL``
        were acknowledged as they arrived: a crash before the engine took them loses nothing a new
        leader's reconciliation does not tell again, and the task's next update (its end) is not held
        back at the agent meanwhile."""
        if status.get("state") not in ACKNOWLEDGED_ON_ARRIVAL:
            self._acknowledge_now(status)
        return True

    def _acknowledge_now(self, status: dict[str, Any]) -> None:
        if "uuid" in status and "agent_id" in status:
            self._acknowledger.put(status)

    def start(self) -> None:
        self._acknowledger.start()
        self._driver.start()

    def halt(self) -> None:
        """The leadership may be gone (ZooKeeper suspended or lost): end the event stream at once, so
        no event is acted on and no SUBSCRIBE follows; non-blocking (kazoo's thread calls it)."""
        self._driver.halt()

    def stop(self, failover: bool = True) -> None:
        """``failover=True`` keeps the framework's tasks running for the next leader (never TEARDOWN)."""
        self._acknowledger.stop()
        self._launches.close()
        try:
            self._driver.stop(failover=failover)
            self._driver.join()
        except Exception:
            log.exception("stopping the Mesos driver failed")

    @property
    def master(self) -> str | None:
        return getattr(self._driver, "master", None)

    def launch_many(
        self, launches: Sequence[tuple[Sequence[str], list[dict[str, Any]]]], refuse_seconds: float
    ) -> Iterator[bool | None]:
        """One ACCEPT per ``(offer_ids, tasks)``, pipelined; yields each one's outcome in order, as
        its answer arrives: True (taken), False (refused, or never sent) or None (sent, but the
        answer was lost: the master may have launched the tasks or not). Engine thread only (the
        channel is not shared)."""
        calls = [
            {
                "type": "ACCEPT",
                "accept": {
                    "offer_ids": [{"value": o} for o in offer_ids],
                    "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                    "filters": {"refuse_seconds": refuse_seconds},
                },
            }
            for offer_ids, tasks in launches
        ]
        outcomes: Iterator[Exception | None]
        try:
            outcomes = self._launches.send(calls)
        except Exception as exc:  # not subscribed or no connection: nothing sent; else in doubt
            self._launches.close()
            outcomes = iter([exc] * len(calls))
        for error in outcomes:
            if error is not None:
                log.warning("Mesos call launch failed: %.300s", error)
            yield None if isinstance(error, NoAnswer) else error is None

    def decline(self, offer_ids: Sequence[str], refuse_seconds: float) -> bool:
        if not offer_ids:
            return True
        return self._call(
            "decline",
            self._driver.declineOffer,
            [{"value": o} for o in offer_ids],
            {"refuse_seconds": refuse_seconds},
        )

    def suppress(self) -> bool:
        return self._call("suppress", self._driver.suppressOffers)

    def revive(self) -> bool:
        return self._call("revive", self._driver.reviveOffers)

    def kill(self, task_id: str, agent_id: str) -> bool:
        """KILL with the agent ID, which pymesos's ``killTask`` would leave out (faster on a real master)."""
        return self._call(
            "kill", self._send, "KILL", {"task_id": {"value": task_id}, "agent_id": {"value": agent_id}}
        )

    def reconcile(self, tasks: Sequence[tuple[str, str]]) -> bool:
        """Explicit with ``[(task_id, agent_id)]``, implicit with ``[]``.

        The agent ID goes along (pymesos's ``reconcileTasks`` drops it): a partition-aware master then
        answers TASK_GONE for a task unknown on a registered agent, instead of TASK_UNKNOWN.
        """
        entries = [{"task_id": {"value": t}, "agent_id": {"value": a}} for t, a in tasks]
        return self._call("reconcile", self._send, "RECONCILE", {"tasks": entries})

    def message(self, executor_id: str, agent_id: str, data: bytes) -> bool:
        return self._call(
            "message",
            self._driver.sendFrameworkMessage,
            {"value": executor_id},
            {"value": agent_id},
            encode_data(data),
        )

    def _send(self, kind: str, body: dict[str, Any]) -> None:
        framework_id = self._driver.framework_id
        if not framework_id or not self._driver.connected:
            raise RuntimeError("not subscribed")
        # pymesos's own request path (stream id, credentials, keep-alive connection); its public
        # wrappers for these two calls cannot carry the agent ID.
        self._driver._send({"type": kind, "framework_id": {"value": framework_id}, kind.lower(): body})

    @staticmethod
    def _call(what: str, method: Callable[..., Any], *args: Any) -> bool:
        try:
            method(*args)
            return True
        except Exception as exc:  # pymesos puts the whole request body in the message: keep the head
            log.warning("Mesos call %s failed: %.300s", what, exc)
            return False
