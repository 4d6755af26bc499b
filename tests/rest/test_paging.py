"""Server-side paging of ``/api/app/list`` and ``/api/job/jobs`` (real HTTP, real ZooKeeper)."""

import pytest
import requests

from tests.support import FOO_APP, FOO_JOB


def call(api, method, path, **kwargs):
    return requests.request(method, api.base_url + path, timeout=10, **kwargs)


@pytest.fixture
def jobs(api):
    assert call(api, "POST", "/api/app", json=FOO_APP).status_code == 204
    assert call(api, "POST", "/api/app", json={**FOO_APP, "appName": "bar_app"}).status_code == 204
    names = [f"job_{i:02d}" for i in range(23)] + ["Other_JOB"]
    for name in names:
        assert call(api, "POST", "/api/job/register", json={**FOO_JOB, "jobName": name}).status_code == 204
    return api


def test_without_paging_parameters_the_lists_stay_plain_arrays(jobs):
    listed = call(jobs, "GET", "/api/job/jobs?order=asc&limit=10&offset=0").json()  # the 2.x console's
    assert isinstance(listed, list) and len(listed) == 24
    assert isinstance(call(jobs, "GET", "/api/app/list").json(), list)


def test_pages_totals_search_and_order(jobs):
    first = call(jobs, "GET", "/api/job/jobs?page=1&per_page=10").json()
    assert first["total"] == 24
    assert [row["jobName"] for row in first["rows"]] == [f"job_{i:02d}" for i in range(10)]
    last = call(jobs, "GET", "/api/job/jobs?page=3&per_page=10").json()
    assert [row["jobName"] for row in last["rows"]] == ["job_20", "job_21", "job_22", "Other_JOB"]
    assert call(jobs, "GET", "/api/job/jobs?page=9&per_page=10").json() == {"total": 24, "rows": []}
    found = call(jobs, "GET", "/api/job/jobs?search=other").json()  # any case
    assert found["total"] == 1 and found["rows"][0]["jobName"] == "Other_JOB"
    assert found["rows"][0] == call(jobs, "GET", "/api/job/jobs/Other_JOB").json()
    desc = call(jobs, "GET", "/api/job/jobs?search=job_1&order=desc&per_page=3").json()
    assert desc["total"] == 10 and [r["jobName"] for r in desc["rows"]] == ["job_19", "job_18", "job_17"]
    apps = call(jobs, "GET", "/api/app/list?search=bar").json()
    assert apps["total"] == 1 and apps["rows"][0]["appName"] == "bar_app"


@pytest.mark.parametrize(
    "query,field",
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=1001", "per_page"),
        ("per_page=-1", "per_page"),
        ("search=" + "a" * 201, "search"),
        ("page=1&order=sideways", "order"),
    ],
)
def test_bad_paging_parameters_are_400_naming_the_parameter(jobs, query, field):
    for path in ("/api/job/jobs", "/api/app/list"):
        response = call(jobs, "GET", f"{path}?{query}")
        assert response.status_code == 400
        assert field in response.json()["errors"]
