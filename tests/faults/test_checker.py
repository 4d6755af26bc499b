"""The campaign's checker on hand-made histories: it must flag what it claims to catch."""

from __future__ import annotations

import json

from tests.faults.checker import Execution, Write, check_transient, check_writes, cut_runs, read_executions
from tests.faults.overlapping_runs import check_overlapping
from tests.faults.zkhistory import Change, Transaction, job_history


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


# ------------------------------------------------------------- concurrencyPolicy ALLOW: overlapping runs


def tid(shard: int, name: str, kind: str = "READY") -> str:
    return f"j@-@{shard}@-@{kind}@-@S0@-@{name}"


def at(task_id: str, start: float, end: float | None) -> Execution:
    return Execution("j", int(task_id.split("@-@")[1]), task_id, 1, start, end)


def launched(zxid: int, time: float, *tasks: str) -> Transaction:
    return Transaction(
        zxid, time, tuple(Change("create", f"/c/state/running/j/{t}", t.encode()) for t in tasks)
    )


def lost_and_queued(zxid: int, time: float, task_id: str) -> Transaction:
    """The lost task's record goes and its shard's failover entry is created."""
    entry = f"/c/state/failover/j/j@-@{task_id.split('@-@')[1]}"
    return Transaction(
        zxid,
        time,
        (Change("delete", f"/c/state/running/j/{task_id}", None), Change("create", entry, task_id.encode())),
    )


def failed_over(zxid: int, time: float, task_id: str) -> Transaction:
    """A launch transaction that takes the shard's failover entry and records ``task_id``."""
    entry = f"/c/state/failover/j/j@-@{task_id.split('@-@')[1]}"
    return Transaction(
        zxid,
        time,
        (Change("delete", entry, None), Change("create", f"/c/state/running/j/{task_id}", task_id.encode())),
    )


# runs fired every 2 s, each shard sleeping 5 s: every run overlaps the one before
A0, A1, B0, B1 = tid(0, "a0"), tid(1, "a1"), tid(0, "b0"), tid(1, "b1")
OVERLAPPING = [at(A0, 0.0, 5.0), at(A1, 0.1, 5.1), at(B0, 2.0, 7.0), at(B1, 2.1, 7.1)]
LOG = [launched(1, 0.0, A0, A1), launched(2, 2.0, B0, B1)]


def allow(executions, log, instants=2, **kwargs):
    history = job_history(log, "j", "/c")
    return check_overlapping("j", 2, executions, history, instants, 0, True, True, 1000.0, **kwargs)


def test_overlapping_runs_are_accepted_for_allow_and_refused_for_forbid():
    v = allow(OVERLAPPING, LOG)
    assert (v.runs, v.doubled, v.lost, v.overlapping, v.unrecorded) == (2, [], [], [], [])
    assert (v.runs_overlapping, v.shard_overlaps_across_runs) == (1, 2)
    forbid = check_transient("j", 2, OVERLAPPING, 2, 0, True, True, open_end=1000.0)
    assert forbid.overlapping  # the same history is a violation for a job that may not overlap


def test_a_doubled_shard_of_an_overlapping_run_is_flagged():
    again = tid(1, "a1x", "FAILOVER")  # the first run's shard 1 failed over though it completed
    log = [*LOG, lost_and_queued(3, 5.2, A1), failed_over(4, 5.3, again)]
    v = allow([*OVERLAPPING, at(again, 5.4, 10.4)], log)
    assert v.doubled == [f"run 0 shard 1: again as {again} at 5.400 after {A1}"]
    assert (v.lost, v.overlapping) == ([], [])
    # the same second execution while the first still ran: a shard run twice at once
    v = allow([*OVERLAPPING, at(again, 3.0, 8.0)], log)
    assert v.doubled and v.overlapping
    # a task no launch recorded is a violation of its own
    assert allow([*OVERLAPPING, at(tid(0, "zz"), 4.0, 9.0)], LOG).unrecorded


def test_a_lost_shard_of_an_overlapping_run_runs_again_in_its_own_run():
    killed = [at(A0, 0.0, 5.0), at(A1, 0.1, None), at(B0, 2.0, 7.0), at(B1, 2.1, 7.1)]
    assert allow(killed, LOG).lost == ["run 0 (launched 0.000): shard 1 never completed"]
    again = tid(1, "a1x", "FAILOVER")  # starts while run 1's shard 1 runs: allowed, it is run 0's
    log = [*LOG, lost_and_queued(3, 3.0, A1), failed_over(4, 3.1, again)]
    v = allow([*killed, at(again, 3.2, 8.2)], log)
    assert (v.lost, v.doubled, v.overlapping) == ([], [], [])
    assert not allow(killed, LOG, instants=2).lost_to_one_entry_per_shard


def test_a_shard_lost_in_two_overlapping_runs_while_one_entry_waits_is_the_known_limit():
    """Both runs' shard 1 die with their agent; the shard has one failover node, so only the first
    loss is queued: the second run's shard 1 never runs again (README, "Run policies")."""
    killed = [at(A0, 0.0, 5.0), at(A1, 0.1, None), at(B0, 2.0, 7.0), at(B1, 2.1, None)]
    again = tid(1, "a1x", "FAILOVER")
    b1_gone = Transaction(4, 3.0, (Change("delete", f"/c/state/running/j/{B1}", None),))
    log = [*LOG, lost_and_queued(3, 3.0, A1), b1_gone, failed_over(5, 3.4, again)]
    v = allow([*killed, at(again, 3.5, 8.5)], log)
    assert v.lost == ["run 1 (launched 2.000): shard 1 never completed"]
    assert v.lost_to_one_entry_per_shard == v.lost
    # only when the scheduler said it folded that task's failover, if its word is asked for
    assert allow([*killed, at(again, 3.5, 8.5)], log, folded={B1}).lost_to_one_entry_per_shard == v.lost
    assert allow([*killed, at(again, 3.5, 8.5)], log, folded=set()).lost_to_one_entry_per_shard == []


def test_the_failover_of_an_overlapping_shard_whose_end_went_unseen_is_indeterminate():
    again = tid(1, "a1x", "FAILOVER")
    log = [*LOG, lost_and_queued(3, 5.3, A1), failed_over(4, 5.4, again)]
    history = [*OVERLAPPING, at(again, 5.5, 10.5)]
    killed_after_end = {A1: 5.15}  # the nemesis killed it after it wrote its end line
    v = allow(history, log, killed_at=killed_after_end, declared_lost={A1})
    assert (v.doubled, v.lost, len(v.reran_indeterminate)) == ([], [], 1)
    assert allow(history, log, killed_at=killed_after_end, declared_lost=set()).doubled  # its end was seen
    assert allow(history, log, killed_at={A1: 5.05}, declared_lost={A1}).doubled  # killed before its end


def test_a_failover_entry_kept_per_task_links_its_failover_to_the_run_too():
    """Entries named by the task they run again (one per task, not per shard) link the same way."""
    again = tid(1, "a1x", "FAILOVER")
    entry = f"/c/state/failover/j/{A1}"
    queued = Transaction(3, 3.0, (Change("create", entry, json.dumps({"attempt": 1}).encode()),))
    taken = Transaction(
        4,
        3.1,
        (Change("delete", entry, None), Change("create", f"/c/state/running/j/{again}", again.encode())),
    )
    killed = [at(A0, 0.0, 5.0), at(A1, 0.1, None), at(B0, 2.0, 7.0), at(B1, 2.1, 7.1)]
    v = allow([*killed, at(again, 3.2, 8.2)], [*LOG, queued, taken])
    assert (v.lost, v.doubled, v.unrecorded) == ([], [], [])
