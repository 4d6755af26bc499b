"""``appURL`` is a URL the executor's fetch (urllib) can read, and the document's pattern says exactly
which (found by the long API fuzz, ``benchmarks/api_fuzz.py``): the pattern let ``http://[AbCe]/``
through, a bracketed host that is no IPv6 address, which urllib refuses with a ValueError (the fuzzer
itself crashed reading it back from ``GET /api/app/list``), a user holding ``[`` or ``]``, a
``file://host`` that urllib reads as a bad IPv6 host, and a final line break (Python's ``$``)."""

from __future__ import annotations

import urllib.parse

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elasticjob_cloud.core.schemas import APP_URL_PATTERN, load_stored_app
from tests.support import FOO_APP

REFUSED = [
    "http://[AbCe]/a.tar.gz",
    "http://[1:2]/a.tar.gz",
    "http://[::ffff:1.2.3.4]/a.tar.gz",
    "http://[x@h/a.tar.gz",
    "http://u]x@h/a.tar.gz",
    "file://h]x/a.tar.gz",
    "http://h/a.tar.gz\n",
]
ACCEPTED = [
    "http://[::1]:8080/a.tar.gz",
    "http://[2001:db8::7]/a.tar.gz",
    "https://user:p%40ss@h.example/a.tar.gz",
    "file:///opt/apps/a.tar.gz",
    "file://localhost/opt/apps/a.tar.gz",
]


def test_a_url_urllib_cannot_read_is_a_400_naming_appurl_and_stores_nothing(api):
    for url in REFUSED:
        answer = requests.post(api.base_url + "/api/app", json={**FOO_APP, "appURL": url}, timeout=10)
        assert answer.status_code == 400, (url, answer.text)
        assert list(answer.json()["errors"]) == ["appURL"]
    assert requests.get(api.base_url + "/api/app/list", timeout=10).json() == []
    for number, url in enumerate(ACCEPTED):
        app = {**FOO_APP, "appName": f"app{number}", "appURL": url}
        assert requests.post(api.base_url + "/api/app", json=app, timeout=10).status_code == 204, url
    document = requests.get(api.base_url + "/api/openapi.json", timeout=10).json()
    assert document["components"]["schemas"]["App"]["properties"]["appURL"]["pattern"] == APP_URL_PATTERN


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(APP_URL_PATTERN, fullmatch=True))
def test_every_url_the_document_allows_is_one_urllib_reads(url):
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme in ("http", "https", "file")
    assert parts.port is None or 0 <= parts.port <= 65535


def test_an_app_stored_under_the_former_rule_still_loads():
    stored = {**FOO_APP, "appURL": "file://h]x/a.tar.gz"}
    assert load_stored_app(stored).app_url == "file://h]x/a.tar.gz"
