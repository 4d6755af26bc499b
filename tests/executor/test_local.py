"""``elasticjob-cloud run-local``: one shard without Mesos, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from elasticjob_cloud.executor.local import parse_item_parameters


def run_local(kit: Any, *args: str) -> subprocess.CompletedProcess[str]:
    app = kit.examples / "app"
    return subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "run-local", "--app", str(app), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_simple_job_runs_the_requested_shard(kit, records: Path) -> None:
    done = run_local(
        kit,
        "--job-name", "local", "--job-type", "SIMPLE", "--job-class", "example_jobs.simple.HelloJob",
        "--sharding-item", "1", "--sharding-total-count", "3", "--sharding-item-parameters", "0=a,1=b",
        "--job-parameter", "jp",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [(kind, _, payload)] = kit.read_records(records)
    assert kind == "simple"
    assert payload["taskId"] == "local@-@1@-@READY@-@foo_slave_id@-@foo_uuid"
    assert (payload["shardingItem"], payload["shardingParameter"], payload["jobParameter"]) == (1, "b", "jp")


def test_failures_and_bad_arguments_give_non_zero_exit_codes(kit, records: Path) -> None:
    failing = run_local(
        kit, "--job-name", "f", "--job-type", "SIMPLE", "--job-class", "example_jobs.simple:HelloJob",
        "--sharding-item-parameters", "0=fail",
    )  # fmt: skip
    assert failing.returncode == 1 and "told to fail" in failing.stderr
    missing = run_local(
        kit, "--job-name", "m", "--job-type", "SIMPLE", "--job-class", "example_jobs.nope.Job"
    )
    assert missing.returncode == 2 and "cannot import" in missing.stderr
    out_of_range = run_local(kit, "--job-name", "o", "--job-type", "SIMPLE", "--sharding-item", "3")
    assert out_of_range.returncode == 2


def test_dataflow_bean_and_script(kit, records: Path) -> None:
    assert run_local(
        kit, "--job-name", "df", "--job-type", "DATAFLOW", "--job-class", "example_jobs.dataflow.CountdownJob",
        "--streaming-process",
    ).returncode == 0  # fmt: skip
    assert run_local(
        kit, "--job-name", "bean", "--job-type", "SIMPLE", "--bean-name", "hello_bean",
        "--application-context", "example_jobs.simple",
    ).returncode == 0  # fmt: skip
    script = run_local(
        kit, "--job-name", "sc", "--job-type", "SCRIPT", "--script-command-line", "bin/demo.sh",
        "--sharding-item-parameters", '0=it\'s "quoted"',
    )  # fmt: skip
    assert script.returncode == 0, script.stderr
    kinds = [(k, p["jobName"]) for k, _, p in kit.read_records(records)]
    assert kinds == [("dataflow", "df")] * 3 + [("simple", "bean"), ("script", "sc")]
    last = json.loads(script.stdout.split("demo.sh got: ", 1)[1])
    assert last["shardingParameter"] == 'it\'s "quoted"'


def test_parse_item_parameters() -> None:
    assert parse_item_parameters(" 0=a , 1 = b ,") == {0: "a", 1: "b"}
    assert parse_item_parameters("") == {}
    with pytest.raises(ValueError, match="format"):
        parse_item_parameters("0")
    with pytest.raises(ValueError, match="integer"):
        parse_item_parameters("x=1")
