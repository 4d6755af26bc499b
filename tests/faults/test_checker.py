"""The campaign's checker on hand-made histories: it must flag what it claims to catch."""

from __future__ import annotations

import json

from tests.faults.checker import Execution, Write, check_transient, check_writes, cut_runs, read_executions


def ex(shard: int, start: float, end: float | None, kind: str = "READY", job: str = "j") -> Execution:
    return Execution(job, shard, f"{job}@-@{shard}@-@{kind}@-@S0@-@{start}", 1, start, end)


def verdict(executions, instants=3, failover=True, misfire=True, allowed=0):
    return check_transient("j", 2, executions, instants, allowed, failover, misfire, open_end=1000.0)


CLEAN = [
    ex(0, 0.0, 0.3),
    ex(1, 0.1, 0.4),
    ex(0, 2.0, 2.3),
    ex(1, 2.05, 2.35),
    ex(0, 4.0, 4.3),
    ex(1, 4.9, 5.2),
]


def test_a_clean_history_passes_and_a_late_shard_stays_in_its_run():
    v = verdict(CLEAN)
    assert (v.runs, v.doubled, v.overlapping, v.lost) == (3, [], [], [])
    assert [len(run.executions) for run in cut_runs(CLEAN)] == [2, 2, 2]


def test_a_shard_run_twice_for_one_fire_is_doubled_and_overlapping():
    v = verdict([*CLEAN[:2], ex(1, 0.2, 0.5), *CLEAN[2:]])
    assert v.doubled and v.overlapping


def test_a_run_whose_ready_launch_was_dropped_runs_as_failover_only():
    dropped = [*CLEAN[:2], ex(0, 2.5, 2.8, "FAILOVER"), ex(1, 2.6, 2.9, "FAILOVER")]
    v = verdict(dropped, instants=2)
    assert (v.runs, v.doubled, v.lost) == (2, [], [])
    assert verdict(dropped, instants=1).doubled  # unless there was no instant for it


def test_a_shard_lost_before_it_started_does_not_pull_in_the_next_run():
    history = [ex(0, 9.58, 9.9), ex(1, 12.6, 12.9), ex(0, 12.64, 12.95)]
    v = verdict(history, instants=2)
    assert (v.runs, v.doubled, len(v.lost)) == (2, [], 1)


def test_more_runs_than_instants_is_doubled():
    assert verdict(CLEAN, instants=2).doubled


def test_a_killed_shard_must_run_again_when_failover_is_on():
    killed = [ex(0, 0.0, 0.3), ex(1, 0.1, None), ex(0, 2.0, 2.3), ex(1, 2.0, 2.3)]
    assert verdict(killed, instants=2).lost
    assert not verdict(killed, instants=2, failover=False).lost
    repaired = [*killed[:2], ex(1, 1.0, 1.3, "FAILOVER"), *killed[2:]]
    assert verdict(repaired, instants=2).lost == []


def test_missing_fires_beyond_the_folding_allowance_are_lost():
    assert verdict(CLEAN, instants=5).lost
    assert not verdict(CLEAN, instants=5, allowed=2).lost
    assert not verdict(CLEAN, instants=5, misfire=False).lost


def test_lines_of_killed_and_torn_writes_are_read():
    shard = {"jobName": "j", "taskId": "j@-@0@-@READY@-@S0@-@u", "shardingItem": 0}
    lines = [f"S 1.0 7 {json.dumps(shard)}", f"E 1.5 7 {json.dumps(shard)}", "S 2.0 8 {broken", "E 3"]
    assert [(e.start, e.end) for e in read_executions(lines)] == [(1.0, 1.5)]


def test_api_answers_must_match_the_final_state():
    ok = [Write(0, "register", "a", "d1", 204), Write(1, "disable", "a", "", 204)]
    assert check_writes(ok, {"a": (True, True, "d1")}) == []
    assert check_writes(ok, {"a": (True, False, "d1")})  # a 2xx disable that did not apply
    refused = [Write(0, "update", "a", "d1", 404)]
    assert check_writes(refused, {"a": (False, False, "")}) == []
    assert check_writes([Write(0, "register", "a", "d1", 409)], {})  # 409 though nothing existed
    unknown = [Write(0, "register", "a", "d1", 503)]
    assert check_writes(unknown, {"a": (True, False, "d1")}) == []
    assert check_writes(unknown, {}) == []
    assert check_writes(unknown, {"a": (True, False, "other")})  # half-applied: not all or nothing


def test_a_failover_of_a_task_killed_after_its_last_line_is_not_a_double_but_others_are():
    done = [ex(0, 0.0, 0.3), ex(1, 0.1, 0.4), ex(0, 2.0, 2.3), ex(1, 2.05, 2.35)]
    again = ex(1, 0.6, 0.9, "FAILOVER")
    history = [*done[:2], again, *done[2:]]
    assert verdict(history, instants=2).doubled  # shard 1 ran twice for one fire
    killed_after_end = {done[1].task_id: 0.45}  # its process group SIGKILLed after it wrote its end
    v = check_transient("j", 2, history, 2, 0, True, True, 1000.0, killed_at=killed_after_end)
    assert (v.doubled, v.lost, len(v.reran_indeterminate)) == ([], [], 1)
    killed_before_end = {done[1].task_id: 0.35}  # killed before its end: the end line cannot follow
    assert check_transient("j", 2, history, 2, 0, True, True, 1000.0, killed_at=killed_before_end).doubled


def test_a_task_killed_after_its_process_exited_takes_no_later_failover_out_of_its_run():
    """The nemesis can hit an executor whose command already exited (the agent's thread has not yet
    reported TASK_FINISHED; wider under load): the task finishes, nothing is failed over. A FAILOVER
    of that shard several runs later (say, its agent removed) repairs that later run and must stay
    in it: only the shard's very next execution can be the failover of the killed task."""
    finished = ex(0, 0.0, 0.3)
    history = [
        finished,
        ex(1, 0.05, 0.35),
        ex(0, 3.0, 3.3),
        ex(1, 3.05, 3.35),
        ex(0, 6.0, None),  # its agent removed mid-run
        ex(1, 6.05, 6.35),
        ex(0, 7.0, 7.3, "FAILOVER"),  # the repair of run 2
    ]
    killed = {finished.task_id: 0.4}  # after its end line; the process had exited: TASK_FINISHED
    v = check_transient("j", 2, history, 3, 0, True, True, 1000.0, killed_at=killed)
    assert (v.lost, v.doubled, v.reran_indeterminate) == ([], [], [])


def test_a_shard_that_ended_as_its_agent_died_runs_again_indeterminate_not_lost():
    """Seed 404 under load: shard 1 ended 13 ms after the master went down for a restart; its agent
    never came back, so its TASK_FINISHED never reached anyone and the scheduler failed it over once
    the grace period ran out. That lone FAILOVER is the indeterminate re-run, not a run of its own
    that lost shard 0; a FAILOVER of a shard that ended long before its agent died is still flagged."""
    history = [
        ex(0, 0.0, 0.3),
        ex(1, 0.05, 0.35),  # ended at 0.35; its agent died at 0.34-0.7
        ex(1, 13.0, 13.3, "FAILOVER"),
        ex(0, 18.0, 18.3),
        ex(1, 18.05, 18.35),
    ]
    assert verdict(history, instants=6, misfire=False).lost  # taken alone: a run without shard 0
    died = {history[1].task_id: (0.34, 0.7)}
    v = check_transient("j", 2, history, 6, 0, True, False, 1000.0, agent_died=died)
    assert (v.lost, v.doubled, len(v.reran_indeterminate)) == ([], [], 1)
    long_before = {history[1].task_id: (5.0, 5.4)}
    v = check_transient("j", 2, history, 6, 0, True, False, 1000.0, agent_died=long_before)
    assert v.lost and not v.reran_indeterminate
    declared = {history[1].task_id}
    v = check_transient("j", 2, history, 6, 0, True, False, 1000.0, agent_died=died, declared_lost=declared)
    assert (v.lost, len(v.reran_indeterminate)) == ([], 1)
    v = check_transient("j", 2, history, 6, 0, True, False, 1000.0, agent_died=died, declared_lost=set())
    assert v.lost and not v.reran_indeterminate  # its end reached the scheduler: the FAILOVER is another's
