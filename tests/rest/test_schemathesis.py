"""schemathesis 4 against a live standalone stack (real HTTP, ZooKeeper, local Mesos, a leading
scheduler, an SQLite event trace): every operation of ``/api/openapi.json``, every check, bounded.

The run must end with 0 server errors and 0 contract violations: a request valid by the document is
accepted (or 404/409 for what does not exist or conflicts), an invalid one refused with a 4xx, every
answer matches its documented status, content type and schema, and an undeclared method is a 405
with ``Allow``. Valid values of the formats JSON Schema cannot state (cron, time zone, app URL,
sharding parameters) come from ``tests/rest/schemathesis_hooks.py``. Reproduce a failure with the
``st replay`` line it prints (the run keeps its cassette under the test's temporary directory).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from elasticjob_cloud.bootstrap import start_standalone
from elasticjob_cloud.settings import Settings
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 40  # per operation and phase; the whole run stays around two minutes on CI
SEED = 20261206
# The fuzzer registers jobs of up to 10,000 shards of 0.001 cpus and 1 MB (valid sizes) with crons
# that fire only at some hours or days (``2#1``: the first Monday). Whenever a run of the test meets
# such a fire, the agent starts every shard that fits as a real process: on the full default agent
# that was 924 at once, which starved the machine and ZooKeeper's session (a 30 s timeout, then 503).
# An agent this small runs at most 20 of them, so the outcome does not depend on the date.
AGENT_RESOURCES = "cpus:0.02;mem:32;disk:1024;ports:[31000-31010]"


@pytest.fixture
def standalone(zk_hosts, tmp_path):
    settings = Settings(
        zk_servers=zk_hosts,
        http_port=0,
        hostname="127.0.0.1",
        event_trace_rdb_url=f"sqlite:///{tmp_path / 'trace.db'}",
    )
    stack = start_standalone(settings, agents=1, work_dir=str(tmp_path / "mesos"), resources=AGENT_RESOURCES)
    url = f"http://127.0.0.1:{stack.rest.port}"
    try:
        wait_until(lambda: requests.get(url + "/health", timeout=5).json().get("role") == "leader", 60)
        yield url
    finally:
        stack.stop()


@pytest.mark.timeout(420)
def test_schemathesis_finds_no_server_error_and_no_contract_violation(standalone, tmp_path):
    command = [
        str(Path(sys.executable).with_name("st")),
        f"--config-file={Path(__file__).with_name('schemathesis.toml')}",
        "run",
        f"{standalone}/api/openapi.json",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--phases=examples,coverage,fuzzing",
        "--workers=1",
        "--request-timeout=30",
        "--suppress-health-check=all",
        "--report=vcr",
        f"--report-dir={tmp_path / 'report'}",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.rest.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=400)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected and tested, output[-5000:]
    assert int(selected.group(1)) == int(selected.group(2)) == int(tested.group(1)) > 40  # every operation
