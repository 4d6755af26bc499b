"""The pymesos seam against a real (local) Mesos master: pipelined ACCEPTs on the driver's own
connection, each answered on its own, in order."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.mesos.driver import MesosDriver, _Channel
from tests.support import wait_until


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latest: dict[str, dict[str, Any]] = {}  # agent -> its latest offer
        self.statuses: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self.driver: MesosDriver | None = None  # acknowledges each update (as the engine does)

    def registered(self, framework_id: str, master: str) -> None:
        self.subscribed.set()

    reregistered = registered

    def disconnected(self) -> None:
        self.subscribed.clear()

    def offers(self, offers: list[dict[str, Any]]) -> None:
        with self.lock:
            for offer in offers:
                self.latest[offer["agent_id"]["value"]] = offer

    def rescinded(self, offer_id: str) -> None: ...

    def status(self, status: dict[str, Any]) -> None:
        with self.lock:
            self.statuses.append(status)
        if self.driver is not None:
            self.driver.acknowledge(status)

    def agent_lost(self, agent_id: str) -> None: ...

    def executor_lost(self, executor_id: str, agent_id: str) -> None: ...

    def error(self, message: str) -> None: ...

    def states(self, task_id: str) -> list[str]:
        with self.lock:
            return [s["state"] for s in self.statuses if s["task_id"]["value"] == task_id]

    def take_offers(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]] | None:
            with self.lock:
                if len(self.latest) < count:
                    return None
                taken, self.latest = list(self.latest.values()), {}
                return sorted(taken, key=lambda o: o["agent_id"]["value"])

        return wait_until(enough, timeout, message=f"offers from {count} agents")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[MesosDriver, Sink]]:
    cluster = LocalMesosCluster(
        agents=3, work_dir=tmp_path / "mesos", allocation_interval=0.1, simulate_tasks=0.1
    ).start()
    sink = Sink()
    driver = sink.driver = MesosDriver({"user": "test", "name": "driver-test"}, cluster.master_url, sink)
    driver.start()
    try:
        assert sink.subscribed.wait(10)
        yield driver, sink
    finally:
        driver.stop(failover=False)
        cluster.stop()


def task(name: str, offer: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "task_id": {"value": name},
        "agent_id": offer["agent_id"],
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}],
        "command": {"value": "true"},
    }


def test_pipelined_accepts_are_answered_one_by_one_in_order(stack):
    driver, sink = stack
    offers = sink.take_offers(3)
    calls = [([o["id"]["value"]], [task(f"t{n}", o)]) for n, o in enumerate(offers)]
    calls[1][1][0].pop("name")  # a malformed TaskInfo: the master refuses this ACCEPT alone (400)
    assert list(driver.launch_many(calls, 0.0)) == [True, False, True]
    wait_until(lambda: "TASK_FINISHED" in sink.states("t0") and "TASK_FINISHED" in sink.states("t2"))
    assert sink.states("t1") == []
    # the same connection serves the next batch (its answers were all read); the refused ACCEPT
    # left its offer outstanding, so two agents offer again
    again = sink.take_offers(2)
    calls = [([o["id"]["value"]], [task(f"u{n}", o)]) for n, o in enumerate(again)]
    assert list(driver.launch_many(calls, 0.0)) == [True, True]
    wait_until(lambda: all("TASK_FINISHED" in sink.states(f"u{n}") for n in range(2)))


def test_a_batch_whose_answers_were_not_all_read_does_not_confuse_the_next(stack):
    driver, sink = stack
    offers = sink.take_offers(3)
    answers = driver.launch_many(
        [([o["id"]["value"]], [task(f"a{n}", o)]) for n, o in enumerate(offers)], 0.0
    )
    assert next(answers) is True  # the other two answers are left unread
    bad = {"name": "x", "task_id": {"value": "x"}}  # no agent ID: refused
    assert list(driver.launch_many([(["no-such-offer"], [bad])], 0.0)) == [False]
    wait_until(lambda: all("TASK_FINISHED" in sink.states(f"a{n}") for n in range(3)))


def test_launch_many_before_subscription_reports_every_call_as_not_taken(tmp_path):
    driver = MesosDriver({"user": "test", "name": "unsubscribed"}, "127.0.0.1:1", Sink())
    assert list(driver.launch_many([(["o1"], []), (["o2"], [])], 0.0)) == [False, False]


class ScriptedMaster:
    """A socket peer that reads ``len(answers)`` pipelined requests, then writes the given raw
    answers back (and closes after the last one), recording the request bodies it read."""

    def __init__(self, answers: list[bytes]):
        self.answers = answers
        self.server = socket.create_server(("127.0.0.1", 0))
        self.bodies: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        reader = connection.makefile("rb")
        for _ in self.answers:
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.bodies.append(json.loads(reader.read(length)))
        connection.sendall(b"".join(self.answers))
        connection.close()
        self.server.close()


def channel_to(master: ScriptedMaster) -> Any:
    driver = SimpleNamespace(
        master=master.address, framework_id="fw", connected=True, stream_id="s-1", _basic_credential=None
    )
    return _Channel(driver)


def test_channel_reads_chunked_and_sized_answers_in_order():
    master = ScriptedMaster(
        [
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbad!\r\n0\r\n\r\n",
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
        ]
    )
    outcomes = list(channel_to(master).send([{"type": "A"}, {"type": "B"}, {"type": "C"}]))
    assert [o is None for o in outcomes] == [False, True, False]
    assert "400" in str(outcomes[0]) and "bad!" in str(outcomes[0]) and "oops" in str(outcomes[2])
    assert [b["type"] for b in master.bodies] == ["A", "B", "C"]
    assert all(b["framework_id"] == {"value": "fw"} for b in master.bodies)


def test_channel_reports_calls_after_a_closing_answer_as_failed():
    master = ScriptedMaster([b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b""])
    channel = channel_to(master)
    outcomes = list(channel.send([{"type": "A"}, {"type": "B"}]))
    assert outcomes[0] is None and isinstance(outcomes[1], Exception)
    assert channel._unanswered == 0 and channel._socket is None


class CuttingProxy:
    """A TCP proxy in front of the local master that cuts the connection carrying the next ACCEPT:
    after the master answered it (``deliver=True``: the master launched, its answer is swallowed)
    or instead of passing it on (the master never hears of it). ``hold=True``: the ACCEPT is passed
    on only once ``release`` is set, long after the cut (it was late on its way to the master).
    Every other byte passes both ways."""

    def __init__(self, upstream: str, deliver: bool, hold: bool = False):
        self.upstream = upstream.rsplit("/", 1)[-1].replace("http://", "")
        self.deliver = deliver
        self.hold = hold
        self.armed = threading.Event()
        self.cut = threading.Event()
        self.release = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            host, port = self.upstream.split(":")
            master = socket.create_connection((host, int(port)))
            self.sockets += [client, master]
            link: dict[str, Any] = {"cut": False, "answered": threading.Event(), "swallow": False}
            threading.Thread(target=self._pump, args=(client, master, link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(master, client, link, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, link: dict[str, Any], up: bool) -> None:
        try:
            while data := source.recv(65536):
                if up and self.armed.is_set() and b'"ACCEPT"' in data:
                    self.armed.clear()
                    if self.hold:
                        threading.Thread(target=self._late, args=(target, data), daemon=True).start()
                    elif self.deliver:
                        link["swallow"] = True
                        target.sendall(data)
                        link["answered"].wait(10)  # the master took it: only its answer is lost
                    link["cut"] = True
                    self.cut.set()
                    source.shutdown(socket.SHUT_RDWR)
                    return
                if not up and link["swallow"]:
                    link["answered"].set()
                    return
                if link["cut"]:
                    return
                target.sendall(data)
        except OSError:
            return

    def _late(self, master: socket.socket, data: bytes) -> None:
        self.release.wait(60)
        try:
            master.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass


@pytest.mark.parametrize("deliver", [True, False])
def test_an_accept_whose_connection_drops_is_in_doubt_and_reconciliation_tells_its_fate(tmp_path, deliver):
    """The connection drops after the ACCEPT went out: the launch is reported in doubt (None), not
    refused; explicit reconciliation then says whether the master launched it."""
    cluster = LocalMesosCluster(agents=1, work_dir=tmp_path / "mesos", allocation_interval=0.1).start()
    proxy = CuttingProxy(cluster.master_url, deliver)
    sink = Sink()
    driver = sink.driver = MesosDriver({"user": "test", "name": "cut"}, proxy.address, sink)
    driver.start()
    try:
        assert sink.subscribed.wait(10)
        (offer,) = sink.take_offers(1)
        shard = task("doubt", offer)
        shard["command"] = {"value": "sleep 30"}
        proxy.armed.set()
        assert list(driver.launch_many([([offer["id"]["value"]], [shard])], 0.0)) == [None]
        assert proxy.cut.is_set()
        if deliver:
            wait_until(lambda: "TASK_RUNNING" in sink.states("doubt"), message="the launched task running")
        driver.reconcile([("doubt", offer["agent_id"]["value"])])
        expected = "TASK_RUNNING" if deliver else "TASK_LOST"  # not partition-aware: LOST, not GONE
        wait_until(lambda: sink.states("doubt")[-1:] == [expected], message=f"the answer {expected}")
        assert ("TASK_RUNNING" in sink.states("doubt")) is deliver
    finally:
        driver.stop(failover=False)
        proxy.close()
        cluster.stop()


def test_the_driver_subscribes_only_while_allowed_and_a_halt_ends_its_stream(tmp_path):
    """``may_subscribe`` is asked before every SUBSCRIBE (the leadership's confirmation): none goes
    out while it says no, one does as soon as it says yes; ``halt`` ends the stream at once without
    TEARDOWN (the framework stays, only disconnected) and nothing subscribes again."""
    cluster = LocalMesosCluster(agents=1, work_dir=tmp_path / "mesos", allocation_interval=0.1).start()
    allowed = threading.Event()
    sink = Sink()
    driver = MesosDriver(
        {"user": "test", "name": "guarded", "failover_timeout": 60.0},
        cluster.master_url,
        sink,
        may_subscribe=allowed.is_set,
    )
    driver.start()
    try:
        assert not sink.subscribed.wait(1.5) and not cluster.master.frameworks
        allowed.set()
        assert sink.subscribed.wait(10)
        (framework,) = cluster.master.frameworks.values()
        driver.halt()
        wait_until(lambda: not framework.connected, 5, message="the stream to end")
        assert not sink.subscribed.wait(1.5) and list(cluster.master.frameworks.values()) == [framework]
    finally:
        driver.stop(failover=True)
        cluster.stop()
