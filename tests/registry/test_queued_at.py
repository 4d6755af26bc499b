"""The record of when a deadline job's counted runs were queued (``core.queued_at``), on the in-memory
twin and a real ZooKeeper: each writer that adds runs writes it in the counter's transaction (and
only for deadline jobs), takes and drops leave it to the counter, the engine's one read returns it
with the counters' stat times, and the counter keeps the original's bare decimal count."""

import time

import pytest

from elasticjob_cloud.core import paths
from elasticjob_cloud.core.models import AppConfig, ExecutionType, JobConfig, JobType
from elasticjob_cloud.core.policies import RunPolicy
from elasticjob_cloud.core.ports import ReadyTake
from elasticjob_cloud.core.queued_at import decode, waiting_instants
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry.fires import FireStore, FireWrite
from tests.registry.test_dependencies import body, outcome
from tests.support import FOO_APP

APP = AppConfig("app", "http://h/app.tar.gz", "bin/start.sh")


def job(name: str, **policy) -> JobConfig:
    return JobConfig(
        name,
        "app",
        JobType.SIMPLE,
        ExecutionType.TRANSIENT,
        "0/5 * * * * ?",
        1,
        0.5,
        64.0,
        "a.B",
        policy=RunPolicy(**policy),
    )


class Recording:
    """The registry's tree, remembering the batches committed through ``commit_many``."""

    def __init__(self, inner):
        self.inner, self.batches = inner, []

    def commit_many(self, batches):
        self.batches.extend(batches)
        return self.inner.commit_many(batches)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def reg(registry):
    registry.config.add_app(APP)
    registry.config.add_job(job("strict", starting_deadline_seconds=60))
    registry.config.add_job(job("plain"))
    return registry


def record(reg, name="strict"):
    found = reg.tree.get(paths.ready_queued_at(name))
    return decode(found[0]) if found is not None else None


def fire(reg, name: str, runs: int, deadline: bool) -> list[list]:
    tree = Recording(reg.tree)
    store = FireStore(tree, 5)
    version = reg.tree.get(paths.job(name))[1]
    last = reg.tree.get(paths.last_fire(name))
    write = FireWrite(name, version, time.time(), last[1] if last else -1, runs, True, deadline)
    [result] = store.write([write])
    assert result.error is None
    return tree.batches


def counters(reg):
    return reg.ready.counters(lambda name: name == "strict")


def test_fires_record_the_instants_of_a_deadline_jobs_runs_in_the_counters_transaction(reg):
    before = time.time()
    [batch] = fire(reg, "strict", 2, deadline=True)
    assert len(batch) == 4  # config check, last fire, counter, record: one transaction
    [(at, runs)] = record(reg)
    assert runs == 2 and before - 0.001 <= at <= time.time() + 0.001  # kept to the millisecond
    [batch] = fire(reg, "strict", 1, deadline=True)
    assert len(batch) == 4 and [n for _, n in record(reg)] == [2, 1]
    assert reg.tree.get(paths.ready("strict"))[0] == b"3"  # the original's counter, untouched in form


def test_a_job_without_a_deadline_pays_no_op_and_keeps_no_record(reg):
    [batch] = fire(reg, "plain", 1, deadline=False)
    assert len(batch) == 3  # config check, last fire, counter: as before
    assert record(reg, "plain") is None
    reg.ready.trigger("plain", lambda j: True)
    assert record(reg, "plain") is None and reg.ready.counts() == {"plain": 2}


def test_a_fire_that_adds_no_run_leaves_the_record(reg):
    reg.ready.trigger("strict", lambda j: False)
    first = record(reg)
    reg.ready.trigger("strict", lambda j: False)  # without misfire: still the one waiting run
    assert record(reg) == first and reg.ready.counts() == {"strict": 1}


def test_takes_and_drops_leave_the_record_to_the_counter_and_the_next_adder_trims_it(reg):
    for _ in range(3):
        reg.ready.trigger("strict", lambda j: True)
        time.sleep(0.002)  # distinct instants
    first, second, third = (at for at, _ in record(reg))
    assert first < second < third
    count, version = reg.ready.snapshot()["strict"]
    assert reg.ledger.take_ready_run(ReadyTake("strict", count, version))  # a launch: the oldest
    assert len(record(reg)) == 3  # no op on the record
    assert waiting_instants(counters(reg)["strict"]) == [second, third]
    writes = reg.ledger.writes()
    count, version = reg.ready.snapshot()["strict"]
    writes.drop_ready(ReadyTake("strict", count, version), 1)  # past its deadline: the oldest
    writes.flush()
    assert waiting_instants(counters(reg)["strict"]) == [third]
    reg.ready.trigger("strict", lambda j: True)
    kept = record(reg)
    assert len(kept) == 2 and kept[0] == (third, 1)  # trimmed to the counter it read, then appended


def test_a_queue_that_emptied_starts_a_fresh_record(reg):
    reg.ready.trigger("strict", lambda j: True)
    count, version = reg.ready.snapshot()["strict"]
    assert reg.ledger.take_ready_run(ReadyTake("strict", count, version))  # the node is deleted
    assert record(reg) is not None and "strict" not in counters(reg)  # stale, counted as none
    time.sleep(0.002)
    reg.ready.trigger("strict", lambda j: True)
    [(at, runs)] = record(reg)
    counter = counters(reg)["strict"]
    assert runs == 1 and waiting_instants(counter) == [max(at, counter.created)]  # never before the node
    assert counter.created - at < 0.5  # noted just before the transaction, not left from before


def test_the_engines_read_gives_stat_times_and_records_only_of_the_jobs_asked(reg):
    before = time.time()
    reg.ready.trigger("plain", lambda j: True)
    reg.ready.trigger("strict", lambda j: True)
    time.sleep(0.05)
    reg.ready.trigger("plain", lambda j: True)
    read = counters(reg)
    plain, strict = read["plain"], read["strict"]
    assert (plain.count, strict.count) == (2, 1) and plain.recorded is None
    assert strict.recorded == record(reg)
    assert before - 1 <= plain.created < plain.modified <= time.time() + 1  # created stays, modified moves
    assert (plain.count, plain.version) == (2, reg.ready.snapshot()["plain"][1])


def test_a_deregistration_takes_the_record_along(reg):
    reg.ready.trigger("strict", lambda j: True)
    reg.config.remove_job("strict")
    assert not reg.tree.exists(paths.ready_queued_at("strict"))


def test_a_downstream_with_a_deadline_queued_by_its_upstream_gets_its_instant(registry):
    life = Lifecycle(registry)
    life.register_app(FOO_APP)
    life.register_job(body("up"))
    life.register_job(body("down", "up", startingDeadlineSeconds=30))
    life.register_job(body("free", "up"))
    outcome(registry, "up", 0, True, 10.0)
    done = registry.dependencies.complete_run("up", ["down", "free"], 12.0)
    assert sorted(done.queued) == ["down", "free"]
    assert record(registry, "down") == ((12.0, 1),) and record(registry, "free") is None
