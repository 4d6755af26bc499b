"""The producer service on a real ZooKeeper: watches, restart catch-up, two producers, disable."""

import json
import threading
import time

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.schemas import job_to_wire
from elasticjob_cloud.producer.job_schedules import FireKind
from elasticjob_cloud.producer.service import ProducerService
from elasticjob_cloud.registry import connect
from elasticjob_cloud.registry.fires import encode_instant
from elasticjob_cloud.registry.tree import SetData
from tests.support import clear_ready, wait_until

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")
EVERY_SECOND = "* * * * * ?"


def job(name="job", cron=EVERY_SECOND, misfire=True):
    return JobConfig(
        name, "app", JobType.SIMPLE, ExecutionType.TRANSIENT, cron, 1, 0.5, 64.0, "a.B", misfire=misfire
    )


class Records:
    def __init__(self):
        self.items, self.lock = [], threading.Lock()

    def __call__(self, record):
        with self.lock:
            self.items.append(record)

    def of(self, name, *kinds):
        with self.lock:
            return [r for r in self.items if r.job_name == name and (not kinds or r.kind in kinds)]


@pytest.fixture
def open_registry(zk_hosts):
    connections = []

    def make():
        registry, connection = connect(zk_hosts)
        connections.append(connection)
        return registry

    yield make
    for connection in connections:
        connection.stop()


@pytest.fixture
def start_producer():
    services = []

    def start(registry):
        records = Records()
        service = ProducerService(registry, "UTC", listener=records).start()
        services.append(service)
        return service, records

    yield start
    for service in services:
        service.stop()


def test_jobs_registered_updated_and_removed_through_the_registry_are_seen_within_a_second(
    open_registry, start_producer
):
    registry = open_registry()
    registry.config.add_app(APP)
    service, records = start_producer(registry)
    started = time.monotonic()
    registry.config.add_job(job())
    wait_until(lambda: records.of("job", FireKind.ANCHOR), 1.0, message="the registration")
    assert time.monotonic() - started < 1.0
    wait_until(lambda: registry.ready.counts().get("job", 0) >= 2, 4, message="two fires")
    registry.config.replace_job(job(cron="0 0 0 1 1 ? 2099"))
    wait_until(lambda: service.producer.scheduled.get("job", 0) > 4e9, 1.0, message="the new schedule")
    registry.config.remove_job("job")
    wait_until(lambda: "job" not in service.producer.scheduled, 1.0, message="the deregistration")
    assert not registry.tree.exists(paths.last_fire("job"))


def test_raw_zookeeper_writes_are_seen_within_a_second(open_registry, start_producer, zk_connection):
    registry = open_registry()
    registry.config.add_app(APP)
    service, records = start_producer(registry)
    client = zk_connection.client  # a second, unrelated client, as an operator or another tool
    client.create(paths.job("raw"), json.dumps(job_to_wire(job("raw"))).encode())
    wait_until(lambda: records.of("raw", FireKind.ANCHOR), 1.0, message="the raw registration")
    client.create(paths.disabled_job("raw"), b"raw")
    wait_until(lambda: "raw" not in service.producer.scheduled, 1.0, message="the raw disable")
    client.delete(paths.disabled_job("raw"))
    wait_until(lambda: "raw" in service.producer.scheduled, 1.0, message="the raw enable")
    client.delete(paths.job("raw"))
    wait_until(lambda: "raw" not in service.producer.scheduled, 1.0, message="the raw deletion")


def test_restart_settles_the_gap_once(open_registry, start_producer):
    registry = open_registry()
    registry.config.add_app(APP)
    registry.config.add_job(job())
    first, records = start_producer(registry)
    wait_until(lambda: records.of("job", FireKind.FIRE), 3, message="a first fire")
    first.stop()
    clear_ready(registry, "job")
    # as if the producer had been down for ten seconds: the stored last fire lies ten seconds back
    found = registry.tree.get(paths.last_fire("job"))
    last = int(time.time()) - 10
    registry.tree.commit([SetData(paths.last_fire("job"), encode_instant(last), found[1])])
    _, after = start_producer(open_registry())
    catch_up = wait_until(lambda: after.of("job", FireKind.CATCH_UP), 2, message="the catch-up")
    # every second from the stored last fire to the latest instant before the start, however long
    # the start took and wherever in its second the test began
    assert len(catch_up) == 1 and catch_up[0].missed == catch_up[0].instant - last >= 10
    assert catch_up[0].ready_count == 1


def test_two_producers_never_produce_one_instant_twice(open_registry, start_producer):
    setup = open_registry()
    setup.config.add_app(APP)
    setup.config.add_job(job())
    _, a = start_producer(open_registry())
    _, b = start_producer(open_registry())
    wait_until(
        lambda: len(a.of("job", FireKind.FIRE)) + len(b.of("job", FireKind.FIRE)) >= 4, 6, message="fires"
    )
    fires = a.of("job", FireKind.FIRE) + b.of("job", FireKind.FIRE)
    instants = [r.instant for r in fires]
    assert len(instants) == len(set(instants)), "an instant was produced twice"
    wait_until(
        lambda: setup.ready.counts()["job"] == sum(r.runs for r in a.of("job") + b.of("job")),
        2,
        message="the counter to equal the runs produced",
    )


def test_disable_and_enable_app_through_the_registry(open_registry, start_producer):
    registry = open_registry()
    registry.config.add_app(APP)
    registry.config.add_job(job())
    service, records = start_producer(registry)
    wait_until(lambda: records.of("job", FireKind.FIRE), 3, message="a first fire")
    registry.disable.disable_app("app")
    wait_until(lambda: "job" not in service.producer.scheduled, 1.0, message="the app disable")
    fires = len(records.of("job", FireKind.FIRE))
    clear_ready(registry, "job")
    registry.disable.enable_app("app")
    wait_until(lambda: len(records.of("job", FireKind.FIRE)) > fires, 3, message="fires after the enable")
    assert records.of("job")[-2].kind in (FireKind.ANCHOR, FireKind.FIRE)
    assert not records.of("job", FireKind.CATCH_UP) and service.producer.totals().missed == 0
