"""``POST /api/job/trigger`` with parameters and an idempotency key (issue #17), over HTTP: the
original's forms unchanged, the new form answers the run, one run per key, bad input refused."""

import pytest
import requests

from elasticjob_cloud.core import paths
from tests.support import FOO_APP, FOO_JOB


@pytest.fixture
def seeded(api):
    assert requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    assert requests.post(api.base_url + "/api/job/register", json=FOO_JOB, timeout=10).status_code == 204
    return api


def trigger(api, body, **kwargs):
    return requests.post(api.base_url + "/api/job/trigger", json=body, timeout=10, **kwargs)


def queued_runs(api):
    return {r.run_id: r for r in api.registry.triggered.entries()}


def test_the_originals_forms_still_queue_a_counted_run(seeded):
    url = seeded.base_url + "/api/job/trigger"
    assert requests.post(url, data="foo_job", timeout=10).status_code == 204
    assert trigger(seeded, {"jobName": "foo_job"}).status_code == 204
    assert seeded.registry.ready.counts() == {"foo_job": 2}  # misfire=true adds up
    assert queued_runs(seeded) == {}


def test_a_trigger_with_parameters_answers_its_run_and_keeps_the_parameters(seeded):
    response = trigger(
        seeded, {"jobName": "foo_job", "jobParameter": "p", "shardingItemParameters": "0=a,4=e"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["jobName"] == "foo_job" and answer["queued"] is True
    [run] = queued_runs(seeded).values()
    assert run.run_id == answer["runId"]
    assert (run.job_parameter, run.sharding_item_parameters) == ("p", "0=a,4=e")
    assert seeded.registry.ready.counts() == {}


def test_the_same_idempotency_key_answers_the_same_run(seeded):
    body = {"jobName": "foo_job", "jobParameter": "x", "idempotencyKey": "nightly-2026-12-06"}
    first, second = trigger(seeded, body).json(), trigger(seeded, body).json()
    assert first["runId"] == second["runId"] and (first["queued"], second["queued"]) == (True, False)
    other = trigger(seeded, {**body, "idempotencyKey": "nightly-2026-12-07"}).json()
    assert other["runId"] != first["runId"] and other["queued"]
    assert set(queued_runs(seeded)) == {first["runId"], other["runId"]}


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"jobName": "foo_job", "shardingItemParameters": "5=x"}, 400, "shardingItemParameters"),
        ({"jobName": "foo_job", "shardingItemParameters": "a"}, 400, "shardingItemParameters"),
        ({"jobName": "foo_job", "jobParameter": 12}, 400, "jobParameter"),
        ({"jobName": "foo_job", "idempotencyKey": " "}, 400, "idempotencyKey"),
        ({"jobName": "foo_job", "idempotencyKey": "k" * 257}, 400, "idempotencyKey"),
        ({"jobName": "a/b", "jobParameter": "x"}, 400, "jobName"),
        ({"jobName": "nobody", "jobParameter": "x"}, 404, None),
    ],
)
def test_a_bad_trigger_is_refused_and_queues_nothing(seeded, body, status, field):
    response = trigger(seeded, body)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in response.json()["errors"], response.json()
    assert queued_runs(seeded) == {} and seeded.registry.ready.counts() == {}


def test_a_daemon_job_is_not_triggered(seeded):
    daemon = {**FOO_JOB, "jobName": "resident", "jobExecutionType": "DAEMON"}
    assert requests.post(seeded.base_url + "/api/job/register", json=daemon, timeout=10).status_code == 204
    assert trigger(seeded, {"jobName": "resident", "jobParameter": "x"}).status_code == 409


def test_deregistering_the_job_removes_its_triggered_runs_and_keys(seeded):
    trigger(seeded, {"jobName": "foo_job", "idempotencyKey": "k"})
    url = seeded.base_url + "/api/job/deregister"
    assert requests.delete(url, data="foo_job", timeout=10).status_code == 204
    tree = seeded.registry.tree
    assert not tree.exists(paths.triggered_job("foo_job")) and not tree.exists(
        paths.trigger_keys_job("foo_job")
    )
