"""Settings → the trace database URL: SQLAlchemy URLs as given, the original's JDBC form translated."""

from __future__ import annotations

import pytest

from elasticjob_cloud.exceptions import InvalidConfig
from elasticjob_cloud.trace.database import trace_url


def test_no_url_means_no_trace():
    assert trace_url("", "root", "pw") is None


def test_a_jdbc_url_of_the_original_is_translated_with_its_credentials():
    url = trace_url("jdbc:mysql://db.example:3306/elastic_job_cloud_log", "root", "secret")
    assert url is not None
    assert (url.drivername, url.host, url.port, url.database) == (
        "mysql+pymysql",
        "db.example",
        3306,
        "elastic_job_cloud_log",
    )
    assert (url.username, url.password) == ("root", "secret")
    pg = trace_url("jdbc:postgresql://pg:5432/log?sslmode=require&foo=bar", "ejc", "")
    assert (
        pg is not None and pg.drivername == "postgresql+psycopg" and dict(pg.query) == {"sslmode": "require"}
    )
    assert pg.password is None


def test_a_jdbc_url_without_a_username_leaves_the_trace_off_as_the_original():
    assert trace_url("jdbc:mysql://localhost:3306/log", "", "") is None


def test_a_sqlalchemy_url_is_used_as_given_and_gets_the_username_if_it_has_none():
    assert str(trace_url("sqlite:////var/lib/ejc/trace.db")) == "sqlite:////var/lib/ejc/trace.db"
    url = trace_url("postgresql+psycopg://pg/log", "ejc", "pw")
    assert url is not None and (url.username, url.password) == ("ejc", "pw")


@pytest.mark.parametrize("bad", ["jdbc:h2:mem:log", "not a url at all"])
def test_an_unusable_url_is_a_settings_error_naming_the_key(bad):
    with pytest.raises(InvalidConfig) as caught:
        trace_url(bad, "root", "")
    assert "event_trace_rdb_url" in caught.value.errors
