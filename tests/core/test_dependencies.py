"""The dependency graph's pure rules (issue #17): cycles, dependents, edge states, and the fields."""

import itertools

import pytest

from elasticjob_cloud.core.dependencies import (
    NEVER_CRON,
    DependencyPolicy,
    EdgeState,
    RunOutcome,
    all_dependents,
    all_satisfied,
    ancestors,
    describe_cycle,
    downstreams,
    edge_after,
    find_cycle,
    graph_view,
)
from elasticjob_cloud.core.schemas import job_to_wire, load_job, load_stored_job
from elasticjob_cloud.exceptions import InvalidConfig

GRAPH = {"a": (), "b": ("a",), "c": ("b",), "d": ("a", "c"), "x": ()}


def test_downstreams_dependents_and_ancestors():
    assert downstreams(GRAPH, "a") == ["b", "d"]
    assert all_dependents(GRAPH, ["b"]) == ["c", "d"]
    assert all_dependents(GRAPH, ["a"]) == ["b", "c", "d"]
    assert all_dependents(GRAPH, ["x"]) == []
    assert ancestors(GRAPH, ["d"]) == {"a", "b", "c", "d"}


def test_a_cycle_through_a_job_is_found_and_named_in_order():
    assert find_cycle(GRAPH, "d") is None
    closed = {**GRAPH, "a": ("d",)}
    cycle = find_cycle(closed, "a")
    assert cycle is not None and cycle[0] == cycle[-1] == "a"
    for job, up in itertools.pairwise(cycle):
        assert up in closed[job], (job, up)  # each depends on the next
    assert describe_cycle(["a", "b", "a"]) == "a → b → a"
    assert find_cycle({"s": ("s",)}, "s") == ["s", "s"]


@pytest.mark.parametrize(
    "succeeded, policy, state",
    [
        (True, DependencyPolicy.ALL_SUCCEEDED, EdgeState.SATISFIED),
        (False, DependencyPolicy.ALL_SUCCEEDED, EdgeState.FAILED),
        (True, DependencyPolicy.ALL_DONE, EdgeState.SATISFIED),
        (False, DependencyPolicy.ALL_DONE, EdgeState.SATISFIED),
    ],
)
def test_an_edge_after_an_upstream_run(succeeded, policy, state):
    assert edge_after(RunOutcome(succeeded), policy) is state


def test_a_downstream_runs_only_when_every_edge_is_satisfied():
    ok, failed = EdgeState.SATISFIED, EdgeState.FAILED
    assert all_satisfied(["a", "b"], {"a": ok, "b": ok})
    assert not all_satisfied(["a", "b"], {"a": ok})
    assert not all_satisfied(["a", "b"], {"a": ok, "b": failed})
    assert not all_satisfied([], {})


def test_the_graph_view_lists_every_job_and_edge():
    view = graph_view({"a": (), "b": ("a",)})
    assert view == {"nodes": [{"id": "a"}, {"id": "b"}], "edges": [{"from": "a", "to": "b"}]}


BODY = {
    "jobName": "b",
    "appName": "app",
    "jobClass": "x.Job",
    "jobType": "SIMPLE",
    "jobExecutionType": "TRANSIENT",
    "shardingTotalCount": 1,
    "cpuCount": 1,
    "memoryMB": 64,
}


def test_a_job_with_dependencies_needs_no_cron_and_is_stored_with_one_the_original_reads():
    job = load_job({**BODY, "dependsOn": ["a"]})
    assert job.cron == NEVER_CRON and job.policy.depends_on == ("a",)
    wire = job_to_wire(job)
    assert wire["cron"] == NEVER_CRON and wire["dependsOn"] == ["a"] and "dependencyPolicy" not in wire
    assert load_stored_job(wire) == job
    done = load_job({**BODY, "cron": "0 * * * * ?", "dependsOn": ["a"], "dependencyPolicy": "ALL_DONE"})
    assert job_to_wire(done)["dependencyPolicy"] == "ALL_DONE" and done.cron == "0 * * * * ?"
    plain = job_to_wire(load_job({**BODY, "cron": "0 * * * * ?"}))
    assert not {"dependsOn", "dependencyPolicy"} & set(plain)  # the original's JSON


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({}, "cron", "Missing data"),
        ({"dependsOn": []}, "cron", "Missing data"),
        ({"dependsOn": ["a", "a"]}, "dependsOn", "more than once"),
        ({"dependsOn": ["a"], "cron": None}, "cron", "may not be null"),
        ({"dependsOn": ["a/b"]}, "dependsOn", "must be 1-100"),
        ({"dependsOn": "a"}, "dependsOn", "list"),
        ({"dependsOn": ["a"], "dependencyPolicy": "SOME"}, "dependencyPolicy", "ALL_SUCCEEDED"),
        ({"dependsOn": ["a"], "jobExecutionType": "DAEMON", "cron": "0 * * * * ?"}, "dependsOn", "DAEMON"),
        ({"dependsOn": [f"j{i}" for i in range(101)]}, "dependsOn", "at most 100"),
    ],
)
def test_bad_dependency_fields_are_refused_naming_the_field(changes, field, words):
    with pytest.raises(InvalidConfig) as caught:
        load_job({**BODY, **changes})
    errors = caught.value.errors
    messages = [m for key, found in errors.items() if key.split(".")[0] == field for m in found]
    assert any(words in message for message in messages), errors
    assert field == "cron" or "cron" not in errors  # no second message about the cron
