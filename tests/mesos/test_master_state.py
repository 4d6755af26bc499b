"""The Mesos ``/state`` client: pure parsing on canned states (real Mesos 1.x shapes), then the real
thing against the local Mesos with a real pymesos driver and a real custom executor."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from elasticjob_cloud.exceptions import MesosUnavailable
from elasticjob_cloud.localmesos import LocalMesosCluster
from elasticjob_cloud.mesos.master_state import (
    AppExecutor,
    agent_address,
    app_executors,
    fetch_state,
    sandbox,
    sandbox_entries,
    state_url,
)
from tests.localmesos.lmhelpers import executor_info, make_driver, task_info
from tests.support import wait_until

FID = "f-0001"
WORK = "/var/lib/mesos"


def run_dir(agent: str, executor: str, framework: str = FID) -> str:
    return f"{WORK}/slaves/{agent}/frameworks/{framework}/executors/{executor}/runs/c-1"


MASTER = {
    "frameworks": [
        {
            "id": FID,
            "executors": [
                {"executor_id": "foo@-@S1", "slave_id": "S1"},
                {"executor_id": "foo@-@S2", "slave_id": "S2"},
                {"executor_id": "foo_app@-@S1", "slave_id": "S1"},  # a longer name: not "foo"
                {"executor_id": "bar@-@S1", "slave_id": "S1"},
            ],
        },
        {"id": "someone-else", "executors": [{"executor_id": "foo@-@S3", "slave_id": "S3"}]},
    ],
    "slaves": [
        {"id": "S1", "pid": "slave(1)@10.0.0.1:5051", "hostname": "agent-1"},
        {"id": "S2", "pid": "slave(1)@10.0.0.2:5051", "hostname": "agent-2"},
        {"id": "S3", "pid": "slave(1)@10.0.0.3:5051", "hostname": "agent-3"},
    ],
}


def agent(agent_id: str, hostname: str, *executors: str, work_dir: str = WORK) -> dict[str, Any]:
    return {
        "id": agent_id,
        "hostname": hostname,
        "flags": {"work_dir": work_dir},
        "frameworks": [
            {"id": FID, "executors": [{"id": e, "directory": run_dir(agent_id, e)} for e in executors]},
            {"id": "someone-else", "executors": [{"id": "foo@-@x", "directory": "/elsewhere"}]},
        ],
    }


AGENTS = {
    "10.0.0.1:5051": agent("S1", "agent-1", "foo@-@S1", "foo_app@-@S1", "bar@-@S1"),
    "10.0.0.2:5051": agent("S2", "agent-2", "foo@-@S2"),
}


class CannedFetch:
    def __init__(self, down: tuple[str, ...] = ()):
        self.asked: list[str] = []
        self.down = down

    def __call__(self, url: str, timeout: float) -> dict[str, Any]:
        self.asked.append(url)
        if url in self.down:
            raise MesosUnavailable(f"{url} down")
        return MASTER if url == "master:5050" else AGENTS[url]


def test_state_url_forms():
    assert state_url("10.0.0.1:5050") == "http://10.0.0.1:5050/state"
    assert state_url("http://m:5050/") == "http://m:5050/state"
    assert state_url("https://m/state") == "https://m/state"


def test_app_executors_by_prefix_and_framework():
    assert app_executors(MASTER, FID, "foo") == [AppExecutor("foo@-@S1", "S1"), AppExecutor("foo@-@S2", "S2")]
    assert app_executors(MASTER, FID, "foo_app") == [("foo_app@-@S1", "S1")]
    assert app_executors(MASTER, FID, "ghost") == []
    assert app_executors(MASTER, None, "foo") == []
    assert app_executors(MASTER, "unknown-fid", "foo") == []


def test_agent_address_from_pid():
    assert agent_address(MASTER, "S2") == "10.0.0.2:5051"
    assert agent_address(MASTER, "S9") is None


def test_sandbox_entries_strip_the_work_dir():
    assert sandbox_entries(AGENTS["10.0.0.2:5051"], FID, "foo") == [
        {"hostname": "agent-2", "path": "/slaves/S2/frameworks/f-0001/executors/foo@-@S2/runs/c-1"}
    ]
    slash = agent("S1", "h", "foo@-@S1", work_dir=WORK + "/")
    assert sandbox_entries(slash, FID, "foo")[0]["path"].startswith("/slaves/S1/")
    elsewhere = agent("S1", "h", "foo@-@S1", work_dir="/other")
    assert sandbox_entries(elsewhere, FID, "foo")[0]["path"] == run_dir("S1", "foo@-@S1")


def test_sandbox_asks_each_agent_once_and_keeps_only_the_app():
    fetch = CannedFetch()
    found = sandbox("master:5050", FID, "foo", fetch=fetch)
    assert found == [
        {"hostname": "agent-1", "path": "/slaves/S1/frameworks/f-0001/executors/foo@-@S1/runs/c-1"},
        {"hostname": "agent-2", "path": "/slaves/S2/frameworks/f-0001/executors/foo@-@S2/runs/c-1"},
    ]
    assert fetch.asked == ["master:5050", "10.0.0.1:5051", "10.0.0.2:5051"]


def test_sandbox_without_framework_id_or_match_is_empty():
    fetch = CannedFetch()
    assert sandbox("master:5050", None, "foo", fetch=fetch) == []
    assert fetch.asked == []  # nothing to ask without a framework ID
    assert sandbox("master:5050", FID, "ghost", fetch=fetch) == []
    assert fetch.asked == ["master:5050"]


def test_a_dead_agent_drops_only_its_entries(caplog):
    found = sandbox("master:5050", FID, "foo", fetch=CannedFetch(down=("10.0.0.1:5051",)))
    assert [entry["hostname"] for entry in found] == ["agent-2"]
    assert "skipping agent S1" in caplog.text


def test_a_dead_master_is_mesos_unavailable():
    with pytest.raises(MesosUnavailable):
        sandbox("master:5050", FID, "foo", fetch=CannedFetch(down=("master:5050",)))


@pytest.fixture
def canned_http() -> Iterator[dict[str, Any]]:
    """A loopback HTTP server answering ``reply["status"]`` with ``reply["body"]``."""
    reply: dict[str, Any] = {"status": 200, "body": b"{}"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(reply["status"])
            self.send_header("Content-Length", str(len(reply["body"])))
            self.end_headers()
            self.wfile.write(reply["body"])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    reply["address"] = f"127.0.0.1:{server.server_address[1]}"
    yield reply
    server.shutdown()
    server.server_close()


def test_fetch_errors_become_mesos_unavailable(canned_http):
    address = canned_http["address"]
    canned_http["body"] = b'{"id": "m"}'
    assert fetch_state(address, 5) == {"id": "m"}
    for status, body, words in [
        (500, b"boom", "HTTP 500"),
        (200, b"<html>", "unreadable"),
        (200, b"[1, 2]", "not an object"),
    ]:
        canned_http["status"], canned_http["body"] = status, body
        with pytest.raises(MesosUnavailable, match=words) as caught:
            fetch_state(address, 5)
        assert caught.value.status == 503
    with pytest.raises(MesosUnavailable, match="unreachable"):
        fetch_state("127.0.0.1:1", 2)


# ---- against the local Mesos ------------------------------------------------------------------


@pytest.fixture
def mesos(tmp_path: Path) -> Iterator[LocalMesosCluster]:
    cluster = LocalMesosCluster(
        agents=1,
        work_dir=tmp_path / "mesos",
        hostname="agent.example",
        allocation_interval=0.1,
        executor_shutdown_grace_period=1.0,
    ).start()
    yield cluster
    cluster.stop()
    assert cluster.live_process_groups() == [], "processes leaked"


@pytest.mark.slow
def test_sandbox_and_executors_on_the_local_mesos(mesos: LocalMesosCluster):
    driver, recorder = make_driver(mesos.master_url)
    try:
        offer = recorder.take_offer()
        agent_id = offer.agent_id.value
        tasks = [
            task_info(
                f"{app}-task", offer, executor=executor_info(f"{app}@-@{agent_id}"), behaviour={"hang": True}
            )
            for app in ("demo", "demo_other")
        ]
        driver.launchTasks(offer.id, tasks)
        for task in tasks:
            task_id = task["task_id"]["value"]
            wait_until(
                lambda t=task_id: recorder.states(t) == ["TASK_RUNNING"], 15, message=f"{task_id} running"
            )
        framework_id = recorder.framework_id

        master = fetch_state(mesos.master_url, 5)
        assert app_executors(master, framework_id, "demo") == [(f"demo@-@{agent_id}", agent_id)]
        assert app_executors(master, framework_id, "ghost") == []

        found = sandbox(f"http://{mesos.master_url}", framework_id, "demo", timeout=5)
        assert len(found) == 1 and found[0]["hostname"] == "agent.example"
        path = found[0]["path"]
        assert path.startswith(f"/slaves/{agent_id}/frameworks/{framework_id}/executors/demo@-@{agent_id}/")
        sandbox_dir = mesos.work_dir / path.lstrip("/")
        assert sandbox_dir.is_dir() and (sandbox_dir / "stdout").exists()
        assert sandbox(mesos.master_url, None, "demo") == []
        assert sandbox(mesos.master_url, "not-our-framework", "demo") == []
    finally:
        driver.stop(failover=True)
        driver.join()


def test_every_version_of_an_apps_executor_is_found():
    """Executor IDs carry their ExecutorInfo's version (``{app}@-@{agent}@-@{version}``) next to the
    original's ``{app}@-@{agent}``: the sandbox lookup and app deletion find both."""
    master = {
        "frameworks": [
            {
                "id": FID,
                "executors": [
                    {"executor_id": "foo@-@S1", "slave_id": "S1"},
                    {"executor_id": "foo@-@S1@-@0123456789ab", "slave_id": "S1"},
                    {"executor_id": "foo_app@-@S1@-@0123456789ab", "slave_id": "S1"},
                ],
            }
        ]
    }
    assert app_executors(master, FID, "foo") == [
        ("foo@-@S1", "S1"),
        ("foo@-@S1@-@0123456789ab", "S1"),
    ]
    versioned = agent("S1", "agent-1", "foo@-@S1", "foo@-@S1@-@0123456789ab", "foo_app@-@S1@-@0123456789ab")
    assert [e["path"].split("/")[-3] for e in sandbox_entries(versioned, FID, "foo")] == [
        "foo@-@S1",
        "foo@-@S1@-@0123456789ab",
    ]
