"""The OpenAPI document with logins on says what ``rest.auth`` does (found by a schemathesis run with
authentication on, ``benchmarks/api_fuzz.py --auth-only``): the open routes need no credentials,
and a route that checks a password may answer 429 after too many failures from the address."""

from __future__ import annotations

import pytest

from elasticjob_cloud.lifecycle import Lifecycle
from elasticjob_cloud.registry import Registry
from elasticjob_cloud.rest.app import Services, create_app
from elasticjob_cloud.rest.credentials import Account, Accounts, Authenticator, Role

ADMIN = ("admin", "s3cret-admin")
OPEN = {("/health", "get"), ("/api/login", "post"), ("/api/auth/session", "post")}


def client(auth: Authenticator | None):
    return create_app(Services(Lifecycle(Registry.in_memory()), auth=auth)).test_client()


@pytest.fixture
def secured():
    return client(Authenticator(Accounts([Account(*ADMIN, Role.ADMIN)])))


def operations(document):
    return {(path, method): op for path, item in document["paths"].items() for method, op in item.items()}


def test_the_open_routes_declare_no_security_and_answer_without_credentials(secured):
    document = secured.get("/api/openapi.json", auth=ADMIN).get_json()
    assert document["security"]  # every other operation inherits the login requirement
    declared_open = {key for key, op in operations(document).items() if op.get("security") == []}
    assert declared_open == OPEN
    assert secured.get("/health").status_code == 200
    assert secured.get("/api/job/jobs").status_code == 401


def test_every_route_that_checks_a_password_documents_the_429_it_answers(secured):
    document = secured.get("/api/openapi.json", auth=ADMIN).get_json()
    for (path, method), op in operations(document).items():
        assert ("429" in op["responses"]) == (path != "/health"), (path, method)
    for _ in range(5):
        assert secured.get("/api/job/jobs", auth=(ADMIN[0], "wrong")).status_code == 401
    throttled = secured.get("/api/job/jobs", auth=ADMIN)  # the right password, from a blocked address
    assert throttled.status_code == 429 and throttled.headers["Retry-After"]


def test_without_logins_the_document_declares_neither(secured):
    document = client(None).get("/api/openapi.json").get_json()
    assert "security" not in document
    assert not any("security" in op for op in operations(document).values())
