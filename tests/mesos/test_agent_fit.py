"""The engine's unschedulable marks (``mesos.agent_fit``) over the engine's unit-test harness: totals
from a recording fetch, the rate it is asked at, one warning per job, the mark going (issue #12)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from elasticjob_cloud.core.fit import Totals
from elasticjob_cloud.exceptions import MesosUnavailable, RegistryUnavailable
from elasticjob_cloud.mesos.agent_fit import REFRESH_SECONDS, SOONEST_SECONDS, AgentFit, totals_of
from tests.mesos.test_engine import APP, Harness, job_body
from tests.support import wait_until

SMALL = {"S0": (2.0, 4096.0), "S1": (2.0, 4096.0)}


class Master:
    """A recording fetch: the totals it answers, the masters it was asked."""

    def __init__(self, totals: Totals) -> None:
        self.totals = dict(totals)
        self.asked: list[str] = []
        self.fail = False
        self.answered = threading.Event()

    def __call__(self, master: str) -> Totals:
        self.asked.append(master)
        try:
            if self.fail:
                raise MesosUnavailable("Mesos http://master:5050/master/slaves unreachable")
            return dict(self.totals)
        finally:
            self.answered.set()


@pytest.fixture
def h() -> Any:
    harness = Harness()
    harness.lifecycle.register_app(APP)  # its executor: 1 cpu, 128 MB
    harness.master = Master(SMALL)
    harness.woken = threading.Event()
    harness.engine.fit = AgentFit(harness.master, harness.woken.set)
    return harness


def answered(h: Any) -> None:
    """The fetch thread answered and woke the engine: one more round takes the answer."""
    wait_until(h.woken.is_set, 5, message="the totals fetch to answer")
    h.woken.clear()
    h.master.answered.clear()
    h.engine.dirty = True
    h.step()


def warnings_of(caplog: pytest.LogCaptureFixture, job: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith(f"job {job} is unschedulable")
    ]


def test_a_run_no_agent_holds_is_warned_once_then_launches_on_a_bigger_agent(h, caplog) -> None:
    caplog.set_level(logging.INFO, logger="elasticjob_cloud.mesos.agent_fit")
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))  # 4 + 1 for the executor
    h.subscribe()
    h.lifecycle.trigger("big")
    h.engine.dirty = True
    h.step()
    assert h.master.asked == ["master:5050"]  # a run is pending: the totals are asked for once
    answered(h)

    assert set(h.engine.fit.marked()) == {"big"}
    [warning] = warnings_of(caplog, "big")
    assert "no agent can hold one shard" in warning and "4 cpus" in warning and "holds 2 cpus" in warning

    for _ in range(20):  # rounds on offers that cannot hold it, within the refresh interval
        h.now += 1.0  # the last round's offers expired (declined) meanwhile
        h.give_offers("S0", "S1", cpus=2, mem=4096)
    h.lifecycle.trigger("big")  # a second queued run of the same job
    h.engine.dirty = True
    h.step()
    assert h.driver.launched() == []
    assert len(warnings_of(caplog, "big")) == 1
    assert h.master.asked == ["master:5050"]

    h.now += SOONEST_SECONDS
    h.give_offers("S2", cpus=8, mem=8192)  # an agent joined, large enough: the offer alone launches it
    assert [t["task_id"]["value"].split("@-@")[0] for t in h.driver.launched()] == ["big"]
    assert h.engine.fit.marked() == {}
    assert any(r.getMessage() == "job big is no longer unschedulable" for r in caplog.records)
    assert len(warnings_of(caplog, "big")) == 1


def test_the_totals_are_asked_for_at_a_bounded_rate(h) -> None:
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))
    h.subscribe()
    h.lifecycle.trigger("big")
    h.engine.dirty = True
    h.step()
    answered(h)

    h.now += SOONEST_SECONDS / 2
    h.give_offers("S9", cpus=1, mem=512)  # unknown agent, but asked too recently
    assert len(h.master.asked) == 1
    h.now += SOONEST_SECONDS / 2
    h.give_offers("S9", cpus=1, mem=512)
    assert len(h.master.asked) == 2  # asked again: an unknown agent offers
    answered(h)

    for _ in range(10):  # every known agent: not asked again until the refresh interval
        h.now += REFRESH_SECONDS / 20
        h.give_offers("S0", cpus=1, mem=512)
    assert len(h.master.asked) == 2
    h.now += REFRESH_SECONDS / 2
    h.give_offers("S0", cpus=1, mem=512)
    assert len(h.master.asked) == 3


def test_nothing_pending_asks_nothing(h) -> None:
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))
    h.subscribe()
    for _ in range(5):
        h.now += REFRESH_SECONDS
        h.give_offers("S0", cpus=2, mem=4096)
    assert h.master.asked == []


def test_an_offering_agent_the_totals_lack_holds_the_verdict(h, caplog) -> None:
    caplog.set_level(logging.INFO, logger="elasticjob_cloud.mesos.agent_fit")
    h.master.totals = {"S0": (2.0, 4096.0)}
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))
    h.subscribe()
    h.give_offers("S1", cpus=1, mem=512)  # offering, busy, and not yet in the totals
    h.lifecycle.trigger("big")
    h.engine.dirty = True
    h.step()
    answered(h)  # the answer lists only S0, but S1 offered before the fetch began: not waited for

    assert set(h.engine.fit.marked()) == {"big"}

    h.master.totals["S7"] = (16.0, 4096.0)
    h.now += 1.0
    h.give_offers("S7", cpus=1, mem=512)  # joined after that answer, busy: maybe large
    h.now += REFRESH_SECONDS
    h.give_offers("S7", cpus=1, mem=512)  # due: asked again; judged once the answer lists S7
    answered(h)

    assert h.engine.fit.marked() == {}
    assert any(r.getMessage() == "job big is no longer unschedulable" for r in caplog.records)


def test_a_failing_master_is_logged_once_and_marks_nothing(h, caplog) -> None:
    h.master.fail = True
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))
    h.subscribe()
    h.lifecycle.trigger("big")
    for _ in range(3):
        h.engine.dirty = True
        h.step()
        answered(h)
        h.now += REFRESH_SECONDS

    assert len(h.master.asked) == 3
    assert h.engine.fit.marked() == {}
    failures = [r for r in caplog.records if "agent totals not read" in r.getMessage()]
    assert len(failures) == 1 and "unreachable" in failures[0].getMessage()


def test_the_master_s_agent_list_is_read_as_totals() -> None:
    slaves = {
        "slaves": [
            {"id": "S0", "resources": {"cpus": 4.0, "mem": 4096.0, "disk": 10.0, "ports": "[31000-32000]"}},
            {"id": "S1", "resources": {"cpus": 0.5}},
            {"resources": {"cpus": 64.0, "mem": 1.0}},  # no id: not judged by
            {"id": "S3", "resources": {"cpus": "many"}},
        ],
        "recovered_slaves": [],
    }
    assert totals_of(slaves) == {"S0": (4.0, 4096.0), "S1": (0.5, 0.0)}
    assert totals_of({}) == {}


def test_the_marks_are_published_once_at_start_then_only_when_they_change(h) -> None:
    published: list[dict[str, Any]] = []
    down = {"now": True}

    def publish(marks: dict[str, Any]) -> None:
        if down["now"]:
            raise RegistryUnavailable("ZooKeeper away")
        published.append(marks)

    h.engine.fit.publish = publish
    h.lifecycle.register_job(job_body("big", shards=1, cpuCount=4))
    h.subscribe()
    h.engine.dirty = True
    h.step()
    assert published == []  # ZooKeeper away: tried again next round
    down["now"] = False
    h.engine.dirty = True
    h.step()
    assert published == [{}]  # what a dead leader left is replaced, once
    h.lifecycle.trigger("big")
    h.engine.dirty = True
    h.step()
    answered(h)
    assert [set(m) for m in published] == [set(), {"big"}]
    assert published[-1]["big"] == h.engine.fit.marked()["big"].as_dict()
    for _ in range(5):  # rounds that change nothing write nothing
        h.now += 1.0
        h.give_offers("S0", cpus=2, mem=4096)
    assert len(published) == 2
    h.now += SOONEST_SECONDS
    h.give_offers("S2", cpus=8, mem=8192)  # launched: the mark goes
    assert published[-1] == {} and len(published) == 3
