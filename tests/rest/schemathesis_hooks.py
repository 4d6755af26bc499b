"""Strategies for the formats of ours in the OpenAPI document (``rest/openapi.py``), loaded by
schemathesis through ``SCHEMATHESIS_HOOKS``: JSON Schema cannot state a valid cron expression, an
IANA zone or sharding parameters, so valid values are drawn from these."""

import zoneinfo

import schemathesis
from hypothesis import strategies as st

from elasticjob_cloud.core.cron import validate_time_zone
from elasticjob_cloud.exceptions import InvalidConfig


def _loadable(name: str) -> bool:
    try:
        validate_time_zone(name)
    except InvalidConfig:
        return False
    return True


ZONES = sorted(name for name in zoneinfo.available_timezones() if _loadable(name))

CRON = st.one_of(
    st.builds(
        "{} {} {} {} {} ?".format,
        st.sampled_from(["0", "*", "0/5", "30", "*/10"]),
        st.sampled_from(["0", "*", "15", "0-30", "5,10"]),
        st.sampled_from(["*", "0", "12", "9-17"]),
        st.sampled_from(["*", "1", "15", "L"]),
        st.sampled_from(["*", "1", "6", "JAN-MAR"]),
    ),
    st.builds(
        "{} {} {} ? * {}".format,
        st.sampled_from(["0", "*/15"]),
        st.sampled_from(["0", "30"]),
        st.sampled_from(["*", "8"]),
        st.sampled_from(["MON-FRI", "SUN", "2", "6L", "2#1"]),
    ),
    st.sampled_from(["*/5 * * * *", "0 12 * * 1-5", "30 4 1,15 * 5"]),
)
SHARDING_ITEM_PARAMETERS = st.sampled_from(["", "0=a", "0=first"])


def _number(value: object, default: float | None) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else default
    except ValueError:
        return None


@schemathesis.hook
def filter_body(ctx, body):
    """Drop a ``retry`` whose ``maxBackoffSeconds`` (360 when not given) is below its
    ``initialBackoffSeconds`` (10 when not given): a rule between two numbers, which JSON Schema
    cannot state (the document says it in the fields' descriptions); the server refuses it with a 400
    naming ``retry.maxBackoffSeconds``."""
    retry = body.get("retry") if isinstance(body, dict) else None
    if not isinstance(retry, dict):
        return True
    most = _number(retry.get("maxBackoffSeconds"), 360.0)
    initial = _number(retry.get("initialBackoffSeconds"), 10.0)
    return most is None or initial is None or most >= initial


schemathesis.openapi.format("quartz-cron", CRON)
schemathesis.openapi.format("iana-time-zone", st.sampled_from(ZONES))
schemathesis.openapi.format("sharding-item-parameters", SHARDING_ITEM_PARAMETERS)
