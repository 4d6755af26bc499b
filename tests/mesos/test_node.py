"""SchedulerNode's answers as the REST layer's SchedulerControl, before any service runs.

A leader that is still starting must not redirect to itself (a 307 loop for ``curl -L``); a standby
points at the leader; nobody elected means no URL at all.
"""

import threading

import pytest

from elasticjob_cloud.exceptions import NotLeader
from elasticjob_cloud.mesos.catalog import WATCHED
from elasticjob_cloud.mesos.node import SchedulerNode
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.settings import Settings


def node(leader: str | None, me: str = "me:8899") -> SchedulerNode:
    scheduler = SchedulerNode(Settings(), registry=None, webui_port=8899, leader_identity=lambda: leader)
    scheduler.identity = me
    return scheduler


def test_a_standby_names_the_leader():
    with pytest.raises(NotLeader) as caught:
        node("other:8899").sandbox("app")
    assert caught.value.leader_url == "http://other:8899"
    assert node("other:8899").role() == "standby"


def test_nobody_elected_gives_no_url():
    with pytest.raises(NotLeader) as caught:
        node(None).reconcile(explicit=True)
    assert caught.value.leader_url is None


def test_the_elected_instance_before_its_service_is_up_never_redirects_to_itself():
    with pytest.raises(NotLeader) as caught:
        node("me:8899").sandbox("app")
    assert caught.value.leader_url is None
    assert "still starting" in caught.value.message


def test_while_the_service_starts_the_role_is_starting_and_operations_answer_503(monkeypatch):
    scheduler = node("me:8899")
    entered, release = threading.Event(), threading.Event()

    class SlowService:
        def __init__(self, *args):
            pass

        def start(self):
            entered.set()
            release.wait(10)
            return self

    monkeypatch.setattr("elasticjob_cloud.mesos.node.SchedulerService", SlowService)
    thread = threading.Thread(target=scheduler.elected)
    thread.start()
    try:
        assert entered.wait(10)
        assert scheduler.role() == "starting"
        with pytest.raises(NotLeader) as caught:
            scheduler.reconcile(explicit=False)
        assert caught.value.leader_url is None
        release.set()
        thread.join(10)
        assert scheduler.role() == "leader"
    finally:
        release.set()
        thread.join(10)


def test_a_standby_keeps_the_catalog_caches_warm_and_lets_them_go_when_stopped():
    registry = Registry.in_memory()
    watched: list[str] = []
    watch = registry.tree.watch

    def recording(path, callback):
        watched.append(path)
        unwatch = watch(path, callback)

        def undo():
            watched.remove(path)
            unwatch()

        return undo

    registry.tree.watch = recording
    standby = SchedulerNode(Settings(), registry=registry, webui_port=8899)
    standby.keep_warm()
    assert sorted(set(watched)) == sorted(WATCHED) and standby.role() == "standby"
    assert standby.warm_jobs is not None
    standby.stop()
    assert watched == [] and standby.warm_jobs is None
