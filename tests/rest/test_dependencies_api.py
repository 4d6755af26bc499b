"""Job dependencies over HTTP (issue #17): registration refuses an unknown upstream (404) and a cycle
(409), naming them, deregistration of an upstream is a 409 listing its dependents unless
``?cascade=true``, and the dependency views answer for a job and for the whole graph."""

import pytest
import requests

from tests.support import FOO_APP
from tests.support import dependent_job as body


@pytest.fixture
def chain(api):
    url = api.base_url
    assert requests.post(url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    for job in (body("a"), body("b", "a"), body("c", "b", dependencyPolicy="ALL_DONE")):
        response = requests.post(url + "/api/job/register", json=job, timeout=10)
        assert response.status_code == 204, response.text
    return url


def test_an_unknown_upstream_is_a_404_and_a_cycle_a_409_naming_them(chain):
    """As for an unknown ``appName``: the body is valid, what it refers to is not there (404) or
    would not fit what is stored (409); both name the field."""
    response = requests.post(chain + "/api/job/register", json=body("d", "a", "ghost"), timeout=10)
    assert response.status_code == 404 and "ghost" in response.json()["errors"]["dependsOn"][0]
    response = requests.put(chain + "/api/job/update", json={"jobName": "a", "dependsOn": ["c"]}, timeout=10)
    assert response.status_code == 409, response.text
    assert "a → c → b → a" in response.json()["message"]
    assert requests.get(chain + "/api/job/jobs/a", timeout=10).json()["cron"] == "0 0 3 * * ?"
    daemon = body("e", "a", jobExecutionType="DAEMON", cron="0 * * * * ?")
    response = requests.post(chain + "/api/job/register", json=daemon, timeout=10)
    assert response.status_code == 400 and "DAEMON" in response.json()["errors"]["dependsOn"][0]


def test_an_allow_job_cannot_be_an_upstream_nor_an_upstream_become_one(chain):
    """Runs of a ``concurrencyPolicy`` ALLOW job overlap: which one completed cannot be told."""
    allowing = body("free", concurrencyPolicy="ALLOW")
    assert requests.post(chain + "/api/job/register", json=allowing, timeout=10).status_code == 204
    response = requests.post(chain + "/api/job/register", json=body("d", "a", "free"), timeout=10)
    assert response.status_code == 409, response.text
    assert "free" in response.json()["errors"]["dependsOn"][0] and "ALLOW" in response.text
    assert "d" not in [j["jobName"] for j in requests.get(chain + "/api/job/jobs", timeout=10).json()]
    update = {"jobName": "b", "concurrencyPolicy": "ALLOW"}  # c depends on b
    response = requests.put(chain + "/api/job/update", json=update, timeout=10)
    assert response.status_code == 409 and "c" in response.json()["errors"]["concurrencyPolicy"][0]
    assert "concurrencyPolicy" not in requests.get(chain + "/api/job/jobs/b", timeout=10).json()
    update = {"jobName": "c", "concurrencyPolicy": "ALLOW"}  # nothing depends on c: a downstream may
    assert requests.put(chain + "/api/job/update", json=update, timeout=10).status_code == 204


def test_an_update_may_clear_the_cron_of_a_job_with_stored_upstreams_and_not_of_one_without(chain):
    """The empty cron of a partial update is judged with the stored fields (b has dependsOn, a has none)."""
    b_before = requests.get(chain + "/api/job/jobs/b", timeout=10).json()
    update = {"jobName": "b", "cron": "0 0 4 * * ?"}
    assert requests.put(chain + "/api/job/update", json=update, timeout=10).status_code == 204
    update = {"jobName": "b", "cron": ""}
    response = requests.put(chain + "/api/job/update", json=update, timeout=10)
    assert response.status_code == 204, response.text
    assert requests.get(chain + "/api/job/jobs/b", timeout=10).json()["cron"] == b_before["cron"]
    response = requests.put(chain + "/api/job/update", json={"jobName": "a", "cron": ""}, timeout=10)
    assert response.status_code == 409 and "cron" in response.json()["errors"], response.text
    assert requests.get(chain + "/api/job/jobs/a", timeout=10).json()["cron"] == "0 0 3 * * ?"


def test_dropping_the_upstreams_of_a_job_without_a_cron_needs_a_cron_in_the_same_update(chain):
    """b has no cron of its own: without dependsOn it would never run, so that needs a cron too."""
    response = requests.put(chain + "/api/job/update", json={"jobName": "b", "dependsOn": None}, timeout=10)
    assert response.status_code == 409 and "cron" in response.json()["errors"]["dependsOn"][0]
    assert requests.get(chain + "/api/job/jobs/b", timeout=10).json()["dependsOn"] == ["a"]
    update = {"jobName": "b", "dependsOn": None, "cron": "0 0 5 * * ?"}
    assert requests.put(chain + "/api/job/update", json=update, timeout=10).status_code == 204
    shown = requests.get(chain + "/api/job/jobs/b", timeout=10).json()
    assert shown["cron"] == "0 0 5 * * ?" and "dependsOn" not in shown


def test_deregistering_an_upstream_is_a_409_listing_its_dependents_unless_cascade(chain):
    response = requests.delete(chain + "/api/job/a/deregister", timeout=10)
    assert response.status_code == 409 and "b, c" in response.json()["message"]
    bad = requests.delete(chain + "/api/job/a/deregister?cascade=maybe", timeout=10)
    assert bad.status_code == 400 and "cascade" in bad.json()["errors"]
    names = [j["jobName"] for j in requests.get(chain + "/api/job/jobs", timeout=10).json()]
    assert sorted(names) == ["a", "b", "c"]
    response = requests.delete(chain + "/api/job/deregister?cascade=true", data="b", timeout=10)
    assert response.status_code == 204, response.text
    assert [j["jobName"] for j in requests.get(chain + "/api/job/jobs", timeout=10).json()] == ["a"]


def test_the_dependencies_of_a_job_and_the_graph(chain):
    answer = requests.get(chain + "/api/job/b/dependencies", timeout=10).json()
    assert answer["jobName"] == "b" and answer["dependencyPolicy"] == "ALL_SUCCEEDED"
    assert [(e["jobName"], e["state"]) for e in answer["upstreams"]] == [("a", "WAITING")]
    assert [(e["jobName"], e["state"]) for e in answer["downstreams"]] == [("c", "WAITING")]
    assert answer["queuedRuns"] == 0
    graph = requests.get(chain + "/api/job/dependencies/graph", timeout=10).json()
    assert [n["id"] for n in graph["nodes"]] == ["a", "b", "c"]
    assert graph["edges"] == [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}]
    assert requests.get(chain + "/api/job/ghost/dependencies", timeout=10).status_code == 404


def test_the_command_line_client_shows_edges_and_cascades(chain, capsys):
    from elasticjob_cloud.cli import main

    assert main(["job", "dependencies", "b", "--api", chain]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["EDGE", "JOB", "STATE"]
    assert [line.split()[-2:] for line in lines[1:]] == [["a", "WAITING"], ["c", "WAITING"]]
    assert main(["job", "graph", "--api", chain]) == 0
    assert capsys.readouterr().out == "a -> b\nb -> c\n"
    assert main(["job", "deregister", "a", "--api", chain]) == 1
    assert "b, c" in capsys.readouterr().err
    assert main(["job", "deregister", "a", "--cascade", "--api", chain]) == 0
    assert "with the jobs that depend on it" in capsys.readouterr().out
    assert requests.get(chain + "/api/job/jobs", timeout=10).json() == []
