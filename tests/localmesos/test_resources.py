"""``Resources.from_mesos``: the sum and the rejections of the pairwise ``+`` it replaced."""

from __future__ import annotations

from typing import Any

import pytest

from elasticjob_cloud.localmesos.resources import Resources


def _scalar(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def _ranges(name: str, *pairs: tuple[int, int]) -> dict[str, Any]:
    return {"name": name, "type": "RANGES", "ranges": {"range": [{"begin": b, "end": e} for b, e in pairs]}}


def _pairwise(items: list[dict[str, Any]]) -> Resources:
    """The definition: one ``Resources`` per item (value rounded), added up with ``+``."""
    total = Resources()
    for item in items:
        if item.get("type", "SCALAR") == "SCALAR":
            one = Resources.parse(f"{item['name']}:{float(item['scalar']['value'])!r}")
        else:
            one = Resources({}, {item["name"]: Resources.from_mesos([item]).ranges[item["name"]]})
        total = total + one
    return total


@pytest.mark.parametrize(
    "items",
    [
        [],
        [_scalar("cpus", 0.1), _scalar("mem", 32)],
        [{"name": "cpus", "scalar": {"value": 0.1}}],  # type defaults to SCALAR
        [_scalar("cpus", 0.1), _scalar("cpus", 0.2), _scalar("cpus", 0.0004), _scalar("cpus", 0.0006)],
        [_scalar("mem", 1.23456789), _scalar("mem", 2.0005), _scalar("disk", 0)],
        [_ranges("ports", (31000, 31005), (31003, 31010)), _ranges("ports", (31011, 31011), (100, 90 + 10))],
        [_ranges("ports"), _scalar("cpus", "0.5")],
    ],
)
def test_from_mesos_sums_like_pairwise_addition(items: list[dict[str, Any]]) -> None:
    got = Resources.from_mesos(items)
    assert got == _pairwise(items)
    assert list(got.scalars) == list(_pairwise(items).scalars)


def test_from_mesos_rounds_each_value_and_the_running_sum() -> None:
    got = Resources.from_mesos([_scalar("cpus", 0.1), _scalar("cpus", 0.2), _scalar("cpus", 0.0004)])
    assert got.scalars == {"cpus": 0.3}
    assert Resources.from_mesos([_scalar("cpus", 0.0004)] * 3).scalars == {"cpus": 0.0}
    assert Resources.from_mesos([_ranges("ports", (5, 6)), _ranges("ports", (7, 9))]).ranges == {
        "ports": ((5, 9),)
    }


@pytest.mark.parametrize(
    ("items", "error", "message"),
    [
        ({"name": "cpus"}, ValueError, "resources must be a list"),
        (["cpus"], ValueError, "bad resource 'cpus'"),
        ([{"type": "SCALAR"}], ValueError, "bad resource {'type': 'SCALAR'}"),
        ([{"name": 1}], ValueError, "bad resource {'name': 1}"),
        ([_scalar("cpus", -1)], ValueError, "negative scalar resource cpus"),
        ([_scalar("cpus", 1), _scalar("mem", -0.5)], ValueError, "negative scalar resource mem"),
        ([{"name": "gpus", "type": "SET"}], ValueError, "unsupported resource type 'SET' for gpus"),
        ([_ranges("ports", (9, 5))], ValueError, "range begin 9 is greater than end 5"),
        ([_scalar("cpus", "many")], ValueError, "could not convert string to float: 'many'"),
        ([{"name": "cpus", "type": "SCALAR"}], KeyError, "'scalar'"),
        ([{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 1}]}}], KeyError, "'end'"),
        ([{"name": "cpus", "scalar": None}], TypeError, "not subscriptable"),
    ],
)
def test_from_mesos_rejects_malformed_input(items: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        Resources.from_mesos(items)
    assert message in str(caught.value)
