"""Helpers for the local Mesos tests: a recording pymesos scheduler, task builders, polling."""

from __future__ import annotations

import base64
import json
import shlex
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymesos import MesosSchedulerDriver, Scheduler, encode_data

from tests.support import wait_until

SAMPLE_EXECUTOR = Path(__file__).with_name("sample_executor.py")


def stays_false(predicate: Callable[[], Any], duration: float) -> bool:
    """True if ``predicate()`` stays falsy for ``duration`` seconds (for 'nothing happens' checks)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if predicate():
            return False
        time.sleep(0.02)
    return True


class Recorder(Scheduler):
    """Records every callback; never raises into pymesos (that would abort the driver)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, Any]] = []
        self.offers: list[Any] = []
        self.updates: list[Any] = []
        self.errors: list[str] = []
        self.framework_id: str | None = None

    def _record(self, name: str, payload: Any) -> None:
        try:
            with self.lock:
                self.events.append((name, payload))
                if name == "offers":
                    self.offers.extend(payload)
                elif name == "update":
                    self.updates.append(payload)
                elif name == "registered":
                    self.framework_id = payload["value"]
        except Exception:
            self.errors.append(traceback.format_exc())

    def registered(self, driver: Any, framework_id: Any, master_info: Any) -> None:
        self._record("registered", framework_id)

    def reregistered(self, driver: Any, master_info: Any) -> None:
        self._record("reregistered", master_info)

    def disconnected(self, driver: Any) -> None:
        self._record("disconnected", None)

    def resourceOffers(self, driver: Any, offers: Any) -> None:
        self._record("offers", list(offers))

    def offerRescinded(self, driver: Any, offer_id: Any) -> None:
        self._record("rescind", offer_id)

    def inverseOffers(self, driver: Any, offers: Any) -> None:
        self._record("inverse_offers", list(offers))

    def inverseOfferRescinded(self, driver: Any, offer_id: Any) -> None:
        self._record("rescind_inverse_offer", offer_id)

    def statusUpdate(self, driver: Any, status: Any) -> None:
        self._record("update", status)

    def frameworkMessage(self, driver: Any, executor_id: Any, agent_id: Any, data: Any) -> None:
        self._record("message", (executor_id, agent_id, data))

    def slaveLost(self, driver: Any, agent_id: Any) -> None:
        self._record("agent_lost", agent_id)

    def executorLost(self, driver: Any, executor_id: Any, agent_id: Any, status: Any) -> None:
        self._record("executor_lost", (executor_id, agent_id, status))

    def error(self, driver: Any, message: Any) -> None:
        self._record("error", message)

    def processHeartBeat(self, driver: Any) -> None:
        self._record("heartbeat", None)

    # ---- queries ---------------------------------------------------------------------------

    def of(self, name: str) -> list[Any]:
        with self.lock:
            return [p for n, p in self.events if n == name]

    def states(self, task_id: str) -> list[str]:
        with self.lock:
            return [u.state for u in self.updates if u.task_id.value == task_id]

    def last(self, task_id: str) -> Any:
        with self.lock:
            found = [u for u in self.updates if u.task_id.value == task_id]
        return found[-1] if found else None

    def take_offer(self, agent_id: str | None = None, timeout: float = 10.0) -> Any:
        def pick() -> Any:
            with self.lock:
                for offer in self.offers:
                    if agent_id is None or offer.agent_id.value == agent_id:
                        self.offers.remove(offer)
                        return offer
            return None

        return wait_until(pick, timeout)

    def clear_offers(self) -> None:
        with self.lock:
            self.offers.clear()


def make_driver(master: str, framework: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Any, Recorder]:
    recorder = Recorder()
    info = {"user": "tester", "name": "localmesos-test", "failover_timeout": 60.0, "hostname": "localhost"}
    info.update(framework or {})
    kwargs.setdefault("timeout", 5)
    driver = MesosSchedulerDriver(recorder, info, master, use_addict=True, **kwargs)
    driver.start()
    wait_until(lambda: recorder.framework_id, 10)
    return driver, recorder


def scalar(name: str, value: float) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def executor_info(executor_id: str, cpus: float = 0.1, mem: float = 32.0) -> dict[str, Any]:
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(SAMPLE_EXECUTOR))}"
    return {
        "executor_id": {"value": executor_id},
        "name": executor_id,
        "command": {"value": command},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
    }


def task_info(
    task_id: str,
    offer: Any,
    *,
    executor: dict[str, Any] | None = None,
    command: dict[str, Any] | None = None,
    behaviour: dict[str, Any] | None = None,
    cpus: float = 0.5,
    mem: float = 64.0,
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": offer.agent_id.value},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
    }
    if executor is not None:
        info["executor"] = executor
    if command is not None:
        info["command"] = command
    if behaviour is not None:
        info["data"] = encode_data(json.dumps(behaviour).encode())
    return info


def launch_hanging(
    driver: Any,
    rec: Recorder,
    task_id: str = "h",
    executor_id: str = "e",
    agent_id: str | None = None,
    **kwargs: Any,
) -> Any:
    """Launch one task that runs until killed on a sample executor; wait for TASK_RUNNING."""
    offer = rec.take_offer(agent_id)
    task = task_info(task_id, offer, executor=executor_info(executor_id), behaviour={"hang": True})
    driver.launchTasks(offer.id, [task], **kwargs)
    wait_until(lambda: rec.states(task_id) == ["TASK_RUNNING"])
    return offer


def decode(data: str) -> str:
    return base64.b64decode(data).decode()


def offer_scalar(offer: Any, name: str) -> float:
    return sum(r.scalar.value for r in offer.resources if r.name == name)


# ---- raw protocol client for the conformance suite ---------------------------------------------


class RawStream:
    """A SUBSCRIBE connection read byte by byte: status, headers, chunked RecordIO events."""

    def __init__(self, address: str, path: str, body: Any, headers: dict[str, str] | None = None) -> None:
        import socket

        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        data = json.dumps(body).encode()
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {address}",
            "Content-Type: application/json",
            "Accept: application/json",
            "Connection: close",
            f"Content-Length: {len(data)}",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        self.records = b""
        self.ended = False

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _chunk(self) -> None:
        while b"\r\n" not in self.buf:
            self._more()
        size_text, rest = self.buf.split(b"\r\n", 1)
        size = int(size_text, 16)
        while len(rest) < size + 2:
            self._more()
            rest = self.buf.split(b"\r\n", 1)[1]
        assert rest[size : size + 2] == b"\r\n", "chunk not terminated by CRLF"
        self.records += rest[:size]
        self.buf = rest[size + 2 :]
        if size == 0:
            self.ended = True

    def next_event(self) -> dict[str, Any]:
        while True:
            if b"\n" in self.records:
                length_text, rest = self.records.split(b"\n", 1)
                length = int(length_text)
                if len(rest) >= length:
                    self.records = rest[length:]
                    return dict(json.loads(rest[:length]))
            if self.ended:
                raise EOFError("stream ended")
            self._chunk()

    def next_of(self, kind: str, skip: tuple[str, ...] = ("HEARTBEAT",)) -> dict[str, Any]:
        while True:
            event = self.next_event()
            if event["type"] == kind:
                return event
            assert event["type"] in skip, f"expected {kind}, got {event}"

    def close(self) -> None:
        self.sock.close()


def post(
    address: str, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict, bytes]:
    import http.client

    conn = http.client.HTTPConnection(address, timeout=10)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    conn.request("POST", path, body=data, headers=all_headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def assert_matches(golden: Any, actual: Any, where: str = "$") -> None:
    """Compare with a golden body. Volatile values are named placeholders checked by type:
    ``<id>`` non-empty string, ``<uuid>`` base64 of 16 bytes, ``<float>``/``<int>`` numbers,
    ``<str>`` any string. Everything else, including the set of keys, must be equal."""
    if isinstance(golden, str) and golden.startswith("<") and golden.endswith(">"):
        kind = golden[1:-1]
        if kind == "id":
            assert isinstance(actual, str) and actual, f"{where}: expected an id, got {actual!r}"
        elif kind == "uuid":
            assert isinstance(actual, str) and len(base64.b64decode(actual)) == 16, f"{where}: {actual!r}"
        elif kind == "float":
            assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{where}: {actual!r}"
        elif kind == "int":
            assert isinstance(actual, int) and not isinstance(actual, bool), f"{where}: {actual!r}"
        elif kind == "str":
            assert isinstance(actual, str), f"{where}: {actual!r}"
        else:
            raise AssertionError(f"unknown placeholder {golden}")
        return
    if isinstance(golden, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(golden) == set(actual), f"{where}: keys {sorted(actual)} != golden {sorted(golden)}"
        for key in golden:
            assert_matches(golden[key], actual[key], f"{where}.{key}")
        return
    if isinstance(golden, list):
        assert isinstance(actual, list) and len(actual) == len(golden), f"{where}: {actual!r}"
        for i, (g, a) in enumerate(zip(golden, actual, strict=True)):
            assert_matches(g, a, f"{where}[{i}]")
        return
    assert golden == actual, f"{where}: {actual!r} != golden {golden!r}"


def reconcile(driver: Any, tasks: list[tuple[str, str | None]]) -> None:
    """Explicit RECONCILE with agent IDs (pymesos's ``reconcileTasks`` drops them)."""
    entries = [{"task_id": {"value": t}, **({"agent_id": {"value": a}} if a else {})} for t, a in tasks]
    driver._send(
        {"type": "RECONCILE", "framework_id": {"value": driver.framework_id}, "reconcile": {"tasks": entries}}
    )


def kill(driver: Any, task_id: str, agent_id: str) -> None:
    """KILL naming an agent (pymesos's ``killTask`` cannot)."""
    driver._send(
        {
            "type": "KILL",
            "framework_id": {"value": driver.framework_id},
            "kill": {"task_id": {"value": task_id}, "agent_id": {"value": agent_id}},
        }
    )
