"""``core.fit``: which runs no agent, even idle, can ever hold (issue #12)."""

from __future__ import annotations

from elasticjob_cloud.core.fit import Marks, Shape, capacity, holdable, unfit
from elasticjob_cloud.core.matching import AgentOffers, RunRequest, ShardRequest, match
from elasticjob_cloud.core.models import TaskType

SMALL = {"a1": (1.0, 512.0), "a2": (2.0, 256.0)}


def test_one_shard_larger_than_every_agent_is_unfit_and_says_why() -> None:
    shape = Shape(cpus=4.0, mem=64.0, shards=1, executor_cpus=0.1, executor_mem=64.0)

    mark = unfit("big", shape, SMALL)

    assert mark is not None
    assert (mark.largest_cpus, mark.largest_mem, mark.agents, mark.holdable) == (2.0, 512.0, 2, 0)
    assert "no agent can hold one shard" in mark.reason
    assert "4 cpus and 64 MB per shard" in mark.reason
    assert "plus 0.1 cpus and 64 MB for the app's executor" in mark.reason
    assert "the largest of 2 agent(s) holds 2 cpus and 512 MB" in mark.reason
    assert mark.as_dict()["cpuCount"] == 4.0


def test_the_executor_is_part_of_what_a_shard_needs() -> None:
    fits_alone = Shape(cpus=1.0, mem=128.0)
    with_executor = Shape(cpus=1.0, mem=128.0, executor_cpus=0.5, executor_mem=200.0)

    assert unfit("j", fits_alone, SMALL) is None
    # 1.5 cpus and 328 MB: a1 lacks the cpus, a2 the memory
    assert capacity(with_executor, 1.0, 512.0) == 0
    assert capacity(with_executor, 2.0, 256.0) == 0
    assert unfit("j", with_executor, SMALL) is not None
    assert unfit("j", with_executor, {**SMALL, "a3": (1.5, 328.0)}) is None  # exactly enough


def test_memory_alone_can_make_a_run_unfit() -> None:
    mark = unfit("mem", Shape(cpus=0.1, mem=1024.0), SMALL)

    assert mark is not None and mark.holdable == 0


def test_a_run_whose_shards_together_exceed_all_agents_is_unfit() -> None:
    # each agent holds two 0.5-cpu shards beside one executor of 0.5: 4 of 5 shards at most
    totals = {"a": (1.5, 1024.0), "b": (1.5, 1024.0)}
    shape = Shape(cpus=0.5, mem=32.0, shards=5, executor_cpus=0.5, executor_mem=32.0)

    assert capacity(shape, 1.5, 1024.0) == 2
    assert holdable(shape, totals) == 4
    mark = unfit("wide", shape, totals)
    assert mark is not None
    assert "5 shards must start together" in mark.reason and "only 4" in mark.reason
    assert unfit("wide", Shape(0.5, 32.0, 4, 0.5, 32.0), totals) is None


def test_a_resource_a_shard_does_not_need_does_not_bound_it() -> None:
    assert capacity(Shape(cpus=0.0, mem=10.0, shards=50), 1.0, 1000.0) == 50
    assert capacity(Shape(cpus=1.0, mem=0.0, shards=50), 4.0, 0.0) == 4


def test_no_agent_known_marks_nothing() -> None:
    assert unfit("j", Shape(cpus=1000.0, mem=1.0), {}) is None


def test_unfit_agrees_with_matching_on_idle_agents() -> None:
    """What ``fit`` calls holdable is exactly what ``matching`` places on the same agents, idle."""
    totals = {"a": (2.0, 300.0), "b": (1.0, 1000.0), "c": (0.7, 100.0)}
    for cpus, mem, shards, executor in [
        (0.5, 50.0, 3, (0.2, 50.0)),
        (0.5, 50.0, 6, (0.2, 50.0)),
        (1.0, 100.0, 2, (0.0, 0.0)),
        (1.0, 100.0, 3, (0.5, 0.0)),
        (0.3, 30.0, 9, (0.1, 10.0)),
    ]:
        shape = Shape(cpus, mem, shards, *executor)
        run = RunRequest(
            tuple(
                ShardRequest("j", i, TaskType.READY, "app", cpus, mem, executor != (0.0, 0.0))
                for i in range(shards)
            )
        )
        agents = [AgentOffers(name, name, [f"o-{name}"], c, m) for name, (c, m) in totals.items()]
        placed = not match([run], agents, {"app": executor}).unplaced
        assert placed == (unfit("j", shape, totals) is None), shape


def test_marks_report_a_job_once_and_clear_when_the_agents_grow() -> None:
    marks = Marks(SMALL)
    big = Shape(cpus=4.0, mem=64.0)
    small = Shape(cpus=0.5, mem=64.0)

    new, cleared = marks.update([("big", big), ("small", small), ("big", small)])
    assert [m.job_name for m in new] == ["big"] and cleared == []
    for _ in range(3):  # every later round: nothing new to report
        assert marks.update([("big", big), ("small", small)]) == ([], [])
    assert set(marks.marked) == {"big"}

    marks.set_totals({**SMALL, "a3": (8.0, 8192.0)})
    assert marks.update([("big", big)]) == ([], ["big"])
    assert marks.marked == {}


def test_marks_clear_when_the_run_is_no_longer_pending_and_come_back_as_new() -> None:
    marks = Marks(SMALL)
    big = Shape(cpus=4.0, mem=64.0)
    marks.update([("big", big)])

    assert marks.update([]) == ([], ["big"])  # deregistered, disabled or launched
    new, _ = marks.update([("big", big)])
    assert [m.job_name for m in new] == ["big"]


def test_marks_follow_the_latest_totals_in_what_they_say() -> None:
    marks = Marks(SMALL)
    big = Shape(cpus=4.0, mem=64.0)
    marks.update([("big", big)])

    marks.set_totals({"a1": (3.0, 512.0)})

    assert marks.update([("big", big)]) == ([], [])  # still unschedulable: not reported again
    assert marks.marked["big"].largest_cpus == 3.0 and marks.marked["big"].agents == 1


def test_without_mark_new_marks_only_stay_or_go() -> None:
    marks = Marks(SMALL)
    big = Shape(cpus=4.0, mem=64.0)
    marks.update([("old", big)])

    assert marks.update([("old", big), ("new", big)], mark_new=False) == ([], [])
    assert set(marks.marked) == {"old"}
    assert marks.update([("new", big)], mark_new=False) == ([], ["old"])
    assert marks.marked == {}
