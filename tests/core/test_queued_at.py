"""When counted runs were queued, as a new leader learns it (``core.queued_at``, pure logic), and how
a leader's ``QueuedRuns`` starts from it (``mesos.queued``)."""

import pytest

from elasticjob_cloud.core.models import TaskType
from elasticjob_cloud.core.planning import PendingRun, launch_order
from elasticjob_cloud.core.ports import ReadyTake
from elasticjob_cloud.core.queued_at import (
    MAX_ENTRIES,
    QueuedCounter,
    after_adding,
    covers_all,
    decode,
    encode,
    newest,
    waiting_instants,
)
from elasticjob_cloud.mesos.queued import QueuedRuns
from tests.mesos.test_queued_runs import job


def test_the_waiting_runs_are_the_records_newest():
    entries = ((10.0, 2), (20.0, 1), (30.0, 3))
    assert newest(entries, 6) == entries
    assert newest(entries, 4) == ((20.0, 1), (30.0, 3))
    assert newest(entries, 2) == ((30.0, 2),)  # a partly taken entry keeps its newer runs
    assert newest(entries, 0) == ()
    assert newest(entries, 9) == entries  # runs it does not cover: see waiting_instants


def test_adding_trims_to_the_counter_read_then_appends():
    assert after_adding((), 0, 2, 5.0) == ((5.0, 2),)
    # two runs were taken since the record was written: the counter read 1
    assert after_adding(((1.0, 2), (2.0, 1)), 1, 1, 5.0) == ((2.0, 1), (5.0, 1))
    # a queue that emptied (its node deleted: the writer read 0) starts afresh
    assert after_adding(((1.0, 2),), 0, 1, 5.0) == ((5.0, 1),)


def test_a_full_record_merges_its_newest_entries_at_the_later_instant():
    full = tuple((float(i), 1) for i in range(MAX_ENTRIES))
    grown = after_adding(full, MAX_ENTRIES, 1, 5000.0)
    assert len(grown) == MAX_ENTRIES
    assert grown[0] == (0.0, 1) and grown[-1] == (5000.0, 2)  # late for one run, never early
    assert sum(n for _, n in grown) == MAX_ENTRIES + 1


def test_instants_come_from_the_record_and_uncovered_runs_count_from_the_last_change():
    counter = QueuedCounter(3, 4, created=1.0, modified=50.0, recorded=((10.0, 1), (20.0, 1), (30.0, 1)))
    assert waiting_instants(counter) == [10.0, 20.0, 30.0] and covers_all(counter)
    taken = QueuedCounter(2, 5, 1.0, 50.0, ((10.0, 1), (20.0, 1), (30.0, 1)))
    assert waiting_instants(taken) == [20.0, 30.0]
    # five waiting, two of them queued by a writer that keeps no record: at the node's mtime
    partial = QueuedCounter(5, 6, 1.0, 50.0, ((10.0, 1), (20.0, 1), (30.0, 1)))
    assert waiting_instants(partial) == [10.0, 20.0, 30.0, 50.0, 50.0] and not covers_all(partial)
    assert waiting_instants(QueuedCounter(2, 0, 1.0, 50.0)) == [50.0, 50.0]
    # an entry noted just before the node's creation committed, or left from an earlier queue
    assert waiting_instants(QueuedCounter(2, 0, 15.0, 50.0, ((10.0, 1), (20.0, 1)))) == [15.0, 20.0]


@pytest.mark.parametrize("data", [b"", b"{}", b"[[1]]", b'[["x", 1]]', b"[[1, 0]]", b"\xff", b"5"])
def test_an_unreadable_record_is_none(data):
    assert decode(data) is None


def test_a_record_reads_back():
    assert decode(encode(((1.23412, 2), (3.0, 1)))) == ((1.235, 2), (3.0, 1))  # up: never earlier


def test_a_new_leader_starts_from_the_record_and_drops_at_the_real_deadline():
    queued = QueuedRuns()
    jobs = {"a": job("a", starting_deadline_seconds=60)}
    assert queued.wants_record(jobs)("a") and not queued.wants_record(jobs)("unknown")
    # queued at 950 under the old leader; this leader loads the queue at 1000
    counter = QueuedCounter(1, 0, created=949.9, modified=949.9, recorded=((950.0, 1),))
    queued.observe({"a": (1, 0)}, 1000.0, {"a": counter})
    assert not queued.wants_record(jobs)("a")  # observed from now on: no record read
    assert queued.next_expiry(jobs) == 1010.0
    assert queued.expired({"a": (1, 0)}, jobs, 1009.9) == []
    [late] = queued.expired({"a": (1, 0)}, jobs, 1010.0)
    assert (late.runs, late.oldest) == (1, 950.0)


def test_a_counter_that_moved_since_the_read_is_observed_as_today():
    queued = QueuedRuns()
    queued.observe({"a": (2, 1)}, 1000.0, {"a": QueuedCounter(1, 0, 900.0, 900.0, ((900.0, 1),))})
    assert queued.instants["a"] == [1000.0, 1000.0]


def test_equal_priorities_keep_their_order_by_the_counters_creation_across_a_leader_change():
    queued = QueuedRuns()
    counters = {  # jobs without a deadline: no record, only the ready node's stat
        "a-later": QueuedCounter(1, 0, created=920.0, modified=920.0),
        "b-earlier": QueuedCounter(3, 2, created=910.0, modified=930.0),
    }
    queued.observe({n: (c.count, c.version) for n, c in counters.items()}, 1000.0, counters)
    assert queued.oldest("b-earlier") == 910.0 and queued.instants["b-earlier"] == [930.0] * 3
    runs = [PendingRun(job(n), (0,), TaskType.READY, ReadyTake(n, 1, 0)) for n in ("a-later", "b-earlier")]
    assert [r.job.job_name for r in launch_order(runs, queued.oldest)] == ["b-earlier", "a-later"]
    queued.observe({"a-later": (1, 0), "b-earlier": (2, 3)}, 1001.0)  # b's oldest run taken
    assert queued.oldest("b-earlier") == 930.0  # the creation no longer names its oldest run


def test_a_queue_emptied_and_filled_again_between_two_rounds_forgets_the_runs_gone():
    queued = QueuedRuns()
    jobs = {"a": job("a", starting_deadline_seconds=60)}
    queued.observe({"a": (1, 0)}, 1000.0, {"a": QueuedCounter(1, 0, 999.9, 999.9, ((999.9, 1),))})
    # launched at 1050 (the node deleted), and a fire queued a new run at 1050.2, before the next
    # round read the counter: the same count, a younger node
    fresh = QueuedCounter(1, 0, created=1050.2, modified=1050.2)
    queued.observe({"a": (1, 0)}, 1050.3, {"a": fresh})
    assert queued.instants["a"] == [1050.2]
    assert queued.expired({"a": (1, 0)}, jobs, 1100.0) == []  # not dropped at 60 s after the old run
    queued.observe({"a": (2, 1)}, 1051.0, {"a": QueuedCounter(2, 1, 1050.2, 1051.0)})  # same node
    assert queued.instants["a"] == [1050.2, 1051.0]
