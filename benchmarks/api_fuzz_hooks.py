"""Schemathesis hooks of the long API fuzz (``benchmarks/api_fuzz.py``): the CI test's formats, plus
names that exist.

Drawn names almost never name a stored app or job, so nearly every register, update, trigger and
dependency call would stop at its 404. ``api_fuzz.py`` seeds an app and a small dependency graph
first (``SEEDED_APP``, ``SEEDED_JOBS``); these hooks swap a drawn *valid* name for a seeded one in
about half of the cases: ``appName``, ``jobName`` and the entries of ``dependsOn`` in bodies, and
the ``jobName``/``appName`` path parameters. A valid name is only ever replaced by another valid name
(distinct entries stay distinct, repeated ones stay repeated), so a case keeps the validity the
fuzzer gave it and every check still holds: a positive case stays positive, a negative one negative.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

import tests.rest.schemathesis_hooks  # noqa: F401  (the CI run's formats: cron, time zone, ...)
from elasticjob_cloud.core.names import name_problem

SEEDED_APP = "fuzz_app"
# fuzz_a ← fuzz_b ← fuzz_c (a chain), fuzz_d and fuzz_e alone: enough for cycles, cascades, fan-in.
SEEDED_JOBS = ("fuzz_a", "fuzz_b", "fuzz_c", "fuzz_d", "fuzz_e")


def _valid(value: Any, field: str) -> bool:
    return isinstance(value, str) and name_problem(value, field) is None


def _rename(data: dict[str, Any], key: str, field: str, pick: int, choices: tuple[str, ...]) -> None:
    if _valid(data.get(key), field):
        data[key] = choices[pick % len(choices)]


def _swap_names(data: Any, swap: bool, pick: int) -> Any:
    """A copy of ``data`` whose valid ``appName``/``jobName`` name the seeded app and a seeded job."""
    if not swap or not isinstance(data, dict):
        return data
    data = dict(data)
    _rename(data, "appName", "appName", 0, (SEEDED_APP,))
    _rename(data, "jobName", "jobName", pick, SEEDED_JOBS)
    return data


def _swap(body: Any, swap: bool, pick: int) -> Any:
    body = _swap_names(body, swap, pick)
    if not swap or not isinstance(body, dict):
        return body
    upstreams = body.get("dependsOn")
    if isinstance(upstreams, list) and upstreams and all(_valid(name, "jobName") for name in upstreams):
        distinct = list(dict.fromkeys(upstreams))
        if len(distinct) <= len(SEEDED_JOBS):
            seeded = {name: SEEDED_JOBS[(pick + i) % len(SEEDED_JOBS)] for i, name in enumerate(distinct)}
            body["dependsOn"] = [seeded[name] for name in upstreams]
    return body


# Whether to swap (half of the cases) and which seeded job to take.
_CHOICE = st.tuples(st.booleans(), st.integers(0, len(SEEDED_JOBS) - 1))


@schemathesis.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    return _CHOICE.map(lambda c: _swap(body, *c))


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, parameters: Any) -> Any:
    return _CHOICE.map(lambda c: _swap_names(parameters, *c))
