"""``/api/operate/*`` and ``/health`` over real HTTP (waitress), with a fake scheduler side."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from elasticjob_cloud.exceptions import AgentTimeout, AgentUnavailable, NotLeader
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.rest.app import Services, create_app
from elasticjob_cloud.rest.server import RestServer


class FakeControl:
    """A ``SchedulerControl`` test double: a leader, or a standby that knows (or not) the leader."""

    def __init__(self, leader: bool = True, leader_url: str | None = None):
        self.leader = leader
        self.url = leader_url
        self.reconciles: list[bool] = []
        self.sandboxes: list[str] = []
        self.tails: list[tuple[str, str, int]] = []
        self.tail_error: Exception | None = None

    def role(self) -> str:
        return "leader" if self.leader else "standby"

    def idle_task_ids(self) -> set[str]:
        return set()

    def unschedulable(self) -> dict[str, dict[str, object]]:
        return {}

    def leader_url(self) -> str | None:
        return self.url

    def health(self) -> dict[str, object]:
        return {"role": self.role(), "leader": self.url, "zookeeper": "CONNECTED", "mesos": "subscribed"}

    def _require_leader(self) -> None:
        if not self.leader:
            raise NotLeader("this instance is a standby", self.url)

    def reconcile(self, explicit: bool) -> None:
        self._require_leader()
        self.reconciles.append(explicit)

    def task_output(self, task_id: str, file: str, length: int) -> dict[str, object]:
        self._require_leader()
        self.tails.append((task_id, file, length))
        if self.tail_error is not None:
            raise self.tail_error
        return {"taskId": task_id, "file": file, "data": "x"}

    def sandbox(self, app_name: str) -> list[dict[str, str]]:
        self._require_leader()
        self.sandboxes.append(app_name)
        return [{"hostname": "agent-1", "path": f"/slaves/S1/frameworks/F/executors/{app_name}@-@S1/runs/c"}]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Api:
    def __init__(self, control: FakeControl | None, clock: Clock):
        self.control, self.clock = control, clock
        services = Services(lifecycle=Lifecycle(Registry.in_memory()), clock=clock, control=control)
        self.server = RestServer(create_app(services), host="127.0.0.1", port=0).start()
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.base_url + path, timeout=10, **kwargs)


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(control)`` → a live ``Api`` on a free port; all are stopped afterwards."""
    started: list[Api] = []

    def make(control: FakeControl | None) -> Api:
        api = Api(control, Clock())
        started.append(api)
        return api

    yield make
    for api in started:
        stop(api.server)


def stop(server: RestServer) -> None:
    """``RestServer.stop``, tolerating its known race: waitress's loop, woken by a worker's trigger
    pull, can run the ``_close_all`` thunk (which closes the trigger pipe) before ``stop`` writes
    its own wake-up byte, so that write fails with EBADF although the shutdown is under way."""
    try:
        server.stop()
    except OSError:
        server._thread.join(10)
        server._server.task_dispatcher.shutdown()
    assert not server._thread.is_alive()


EXPLICIT, IMPLICIT = "/api/operate/reconcile/explicit", "/api/operate/reconcile/implicit"


def test_reconcile_is_204_and_limited_to_one_per_10_seconds(serve):
    api = serve(FakeControl())
    assert api.call("POST", EXPLICIT).status_code == 204
    api.clock.advance(9.9)
    refused = api.call("POST", IMPLICIT)  # one window shared by explicit and implicit
    assert refused.status_code == 429
    assert "per 10s" in refused.json()["message"]
    assert api.control.reconciles == [True]
    api.clock.advance(0.1)
    assert api.call("POST", IMPLICIT).status_code == 204
    assert api.call("POST", EXPLICIT).status_code == 429
    assert api.control.reconciles == [True, False]


def test_a_refused_reconcile_does_not_start_the_window(serve):
    control = FakeControl(leader=False)
    api = serve(control)
    assert api.call("POST", EXPLICIT).status_code == 503
    control.leader = True
    assert api.call("POST", EXPLICIT).status_code == 204  # not 429: nothing was accepted before


def test_sandbox_lists_the_apps_executors(serve):
    api = serve(FakeControl())
    response = api.call("GET", "/api/operate/sandbox", params={"appName": "foo_app"})
    assert response.status_code == 200
    assert response.json() == [
        {"hostname": "agent-1", "path": "/slaves/S1/frameworks/F/executors/foo_app@-@S1/runs/c"}
    ]
    assert api.control.sandboxes == ["foo_app"]


@pytest.mark.parametrize("query", ["", "?appName=", "?appName=%20", "?app=foo"])
def test_sandbox_without_app_name_is_400_naming_it(serve, query):
    api = serve(FakeControl())
    response = api.call("GET", "/api/operate/sandbox" + query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["appName"]
    assert api.control.sandboxes == []


def test_standby_redirects_to_the_leader_with_the_same_path_and_query(serve):
    api = serve(FakeControl(leader=False, leader_url="http://10.0.0.7:8899"))
    moved = api.call("POST", EXPLICIT)
    assert moved.status_code == 307
    assert moved.headers["Location"] == "http://10.0.0.7:8899/api/operate/reconcile/explicit"
    moved = api.call("GET", "/api/operate/sandbox", params={"appName": "foo_app"})
    assert moved.status_code == 307
    assert moved.headers["Location"] == "http://10.0.0.7:8899/api/operate/sandbox?appName=foo_app"


def test_a_client_following_the_redirect_reaches_the_leader(serve):
    leader = serve(FakeControl())
    standby = serve(FakeControl(leader=False, leader_url=leader.base_url + "/"))
    done = standby.call("POST", IMPLICIT, allow_redirects=True)  # 307: requests re-POSTs to the leader
    assert done.status_code == 204 and [r.status_code for r in done.history] == [307]
    assert leader.control.reconciles == [False] and standby.control.reconciles == []
    found = standby.call("GET", "/api/operate/sandbox", params={"appName": "a"}, allow_redirects=True)
    assert found.status_code == 200 and leader.control.sandboxes == ["a"]


def test_standby_without_a_known_leader_is_503(serve):
    api = serve(FakeControl(leader=False))
    for method, path in [("POST", EXPLICIT), ("POST", IMPLICIT), ("GET", "/api/operate/sandbox?appName=a")]:
        response = api.call(method, path)
        assert response.status_code == 503
        assert response.json()["message"] == "this instance is a standby"
        assert "Location" not in response.headers


def test_without_a_scheduler_operations_are_503_and_health_says_api_only(serve):
    api = serve(None)
    for method, path in [("POST", EXPLICIT), ("GET", "/api/operate/sandbox?appName=a")]:
        response = api.call(method, path)
        assert response.status_code == 503
        assert response.json()["message"] == "no scheduler in this process"
    health = api.call("GET", "/health")
    assert health.status_code == 200
    assert health.json() == {"role": "api-only", "leader": None, "message": "no scheduler in this process"}


def test_health_reports_the_scheduler_side(serve):
    api = serve(FakeControl(leader=False, leader_url="http://10.0.0.7:8899"))
    health = api.call("GET", "/health")
    assert health.status_code == 200 and health.headers["Content-Type"] == "application/json"
    assert health.json() == {
        "role": "standby",
        "leader": "http://10.0.0.7:8899",
        "zookeeper": "CONNECTED",
        "mesos": "subscribed",
    }


def test_wrong_method_is_405(serve):
    api = serve(FakeControl())
    assert api.call("GET", EXPLICIT).status_code == 405
    assert api.call("POST", "/health").status_code == 405


def test_openapi_lists_the_operations(serve):
    spec = serve(None).call("GET", "/api/openapi.json").json()
    assert {EXPLICIT, IMPLICIT, "/api/operate/sandbox", "/health"} <= set(spec["paths"])
    assert "429" in spec["paths"][EXPLICIT]["post"]["responses"]


TASK = "a_job@-@0@-@READY@-@agent-S0@-@0b6f1c2e-1d2b-4c1e-9a60-3f1e2d4c5b6a"


def test_sandbox_tail_checks_its_parameters_then_asks_the_leader(serve):
    api = serve(FakeControl())
    ok = api.call("GET", "/api/operate/sandbox/tail", params={"taskId": TASK})
    assert ok.status_code == 200 and ok.json()["data"] == "x"
    api.call("GET", "/api/operate/sandbox/tail", params={"taskId": TASK, "file": "stderr", "length": "10"})
    assert api.control.tails == [(TASK, "stdout", 65536), (TASK, "stderr", 10)]
    for params, name in (
        ({}, "taskId"),
        ({"taskId": "a/b"}, "taskId"),
        ({"taskId": TASK.replace("READY", "LATER")}, "taskId"),
        ({"taskId": TASK, "file": "stdin"}, "file"),
        ({"taskId": TASK, "length": "-1"}, "length"),
        ({"taskId": TASK, "length": "١٢"}, "length"),  # digits, but not ASCII ones
    ):
        answer = api.call("GET", "/api/operate/sandbox/tail", params=params)
        assert answer.status_code == 400 and list(answer.json()["errors"]) == [name], params
    assert len(api.control.tails) == 2  # nothing reached the scheduler side


def test_sandbox_tail_from_a_standby_is_a_307_and_agent_failures_are_502_or_504(serve):
    standby = serve(FakeControl(leader=False, leader_url="http://10.0.0.7:8899"))
    moved = standby.call("GET", "/api/operate/sandbox/tail", params={"taskId": TASK, "file": "stderr"})
    assert moved.status_code == 307
    query = moved.request.url.split("?", 1)[1]  # the same raw query
    assert moved.headers["Location"] == f"http://10.0.0.7:8899/api/operate/sandbox/tail?{query}"
    control = FakeControl()
    api = serve(control)
    for error, status in (
        (AgentUnavailable("agent 10.0.0.9:5051 unreachable"), 502),
        (AgentTimeout("too slow"), 504),
    ):
        control.tail_error = error
        answer = api.call("GET", "/api/operate/sandbox/tail", params={"taskId": TASK})
        assert answer.status_code == status and answer.json()["message"] == error.message
