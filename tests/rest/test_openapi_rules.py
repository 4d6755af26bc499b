"""The document's cross-field rules refuse what the server refuses (found by the long API fuzz,
``benchmarks/api_fuzz.py``): a DAEMON job with ``concurrencyPolicy: ALLOW`` was valid by the document
and a 400 from the server, so a client generated from the document could not know."""

from __future__ import annotations

import jsonschema_rs
import requests

from tests.support import FOO_APP, FOO_JOB


def valid(schema, body) -> bool:
    return all(jsonschema_rs.is_valid(rule, body) for rule in schema["allOf"])


def test_a_daemon_job_that_allows_overlapping_runs_is_invalid_by_the_document_and_the_server(api):
    assert requests.post(api.base_url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
    schemas = requests.get(api.base_url + "/api/openapi.json", timeout=10).json()["components"]["schemas"]
    daemon = {**FOO_JOB, "jobExecutionType": "DAEMON", "concurrencyPolicy": "ALLOW"}
    assert not valid(schemas["Job"], daemon)
    answer = requests.post(api.base_url + "/api/job/register", json=daemon, timeout=10)
    assert answer.status_code == 400 and "concurrencyPolicy" in answer.json()["errors"]
    for body in ({**daemon, "concurrencyPolicy": "FORBID"}, {**daemon, "jobExecutionType": "TRANSIENT"}):
        assert valid(schemas["Job"], body)
        assert requests.post(api.base_url + "/api/job/register", json=body, timeout=10).status_code in (
            204,
            409,
        )
    update = {"jobName": FOO_JOB["jobName"], "jobExecutionType": "DAEMON", "concurrencyPolicy": "ALLOW"}
    assert not valid(schemas["JobUpdate"], update)
    assert valid(schemas["JobUpdate"], {"jobName": FOO_JOB["jobName"], "concurrencyPolicy": "ALLOW"})


def test_a_triggers_sharding_item_parameters_carry_their_format(api):
    """The long fuzz sent ``"shardingItemParameters": "0¨*"`` as valid (the field was plain text in
    the trigger's document, while the server checks item=value): it now has the job's format."""
    document = requests.get(api.base_url + "/api/openapi.json", timeout=10).json()
    body = document["paths"]["/api/job/trigger"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    parameterised = body["oneOf"][-1]["properties"]["shardingItemParameters"]
    job = document["components"]["schemas"]["Job"]["properties"]["shardingItemParameters"]
    assert parameterised["format"] == job["format"] == "sharding-item-parameters"
