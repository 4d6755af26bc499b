"""The OpenAPI document is true to the server: exactly the routes and methods Flask serves, every path
parameter declared, the server's bounds in the schemas; any other method is a 405 with ``Allow``."""

import re

import pytest
import requests
import schemathesis

from elasticjob_cloud.core import limits
from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.rest.app import Services, create_app
from elasticjob_cloud.rest.contract import UNDOCUMENTED, is_undocumented
from elasticjob_cloud.rest.openapi import build_spec, openapi_path

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def app():
    return create_app(Services(lifecycle=Lifecycle(Registry.in_memory())))


@pytest.fixture(scope="module")
def document(app):
    with app.app_context():
        return build_spec(app)


def served(app):
    """(OpenAPI path, method) of every route Flask serves, less the documented exclusions."""
    pairs = set()
    for rule in app.url_map.iter_rules():
        if is_undocumented(rule.endpoint):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            pairs.add((openapi_path(rule.rule), method.lower()))
    return pairs


def test_the_document_lists_exactly_the_routes_flask_serves(app, document):
    listed = {
        (path, method) for path, item in document["paths"].items() for method in item if method in METHODS
    }
    assert listed == served(app)
    api_rules = [rule for rule in app.url_map.iter_rules() if not is_undocumented(rule.endpoint)]
    assert "OPTIONS" not in {method for rule in api_rules for method in rule.methods}


def test_every_exclusion_is_explained_and_the_api_itself_is_not_excluded(app):
    assert all(reason for reason in UNDOCUMENTED.values())
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json":
            assert not is_undocumented(rule.endpoint), rule.rule


def test_the_document_is_valid_openapi_and_declares_every_path_parameter(document):
    loaded = schemathesis.openapi.from_dict(document)
    loaded.validate()  # the OpenAPI 3.0 meta-schema
    assert all(type(result).__name__ == "Ok" for result in loaded.get_all_operations())
    for path, item in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, method)


def test_the_schemas_carry_the_server_bounds(document):
    job = document["components"]["schemas"]["Job"]["properties"]
    app = document["components"]["schemas"]["App"]["properties"]
    assert job["shardingTotalCount"]["maximum"] == limits.MAX_SHARDING_TOTAL_COUNT
    assert job["cpuCount"]["maximum"] == limits.MAX_CPU_COUNT and job["cpuCount"]["minimum"] == 0.001
    assert app["memoryMB"]["maximum"] == limits.MAX_MEMORY_MB
    assert app["eventTraceSamplingCount"]["maximum"] == limits.MAX_EVENT_TRACE_SAMPLING_COUNT
    for field, limit in limits.TEXT_LIMITS.items():
        holder = app if field in app else job if field in job else None
        if holder is not None and field != "cron":  # cron: its bound is described with its format
            assert holder[field]["maxLength"] == limit, field
    assert f"at most {limits.TEXT_LIMITS['cron']} characters" in job["cron"]["description"]
    assert re.fullmatch(job["jobName"]["pattern"], "foo_job") and not re.fullmatch(
        job["jobName"]["pattern"], ".."
    )
    assert document["components"]["schemas"]["JobUpdate"]["required"] == ["jobName"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/app/list", {"GET", "HEAD"}),
        ("/api/app/foo_app", {"GET", "HEAD", "DELETE"}),
        ("/api/job/jobs/disable", {"GET", "HEAD"}),
        ("/api/job/register", {"POST"}),
        ("/api/job/foo_job/disable", {"GET", "HEAD", "POST", "DELETE"}),
    ],
)
@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PATCH", "PUT"])
def test_an_undeclared_method_is_405_with_a_correct_allow_header(api, path, allowed, method):
    if method in allowed:
        return
    response = requests.request(method, api.base_url + path, timeout=10)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    assert response.json()["message"]


def test_an_app_named_list_cannot_be_deleted_through_the_list_route(api):
    assert requests.delete(api.base_url + "/api/app/list", timeout=10).status_code == 405
