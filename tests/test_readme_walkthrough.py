"""README.rst's "A first session with curl", run line by line against a real standalone stack.

The block is read from the README itself, so the documentation cannot drift from what works: the
example app is packed, published and run on its cron on the local Mesos, its shards greet with their
own parameters, and every later command answers what the README says.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import wait_until
from tests.test_cli_standalone import _processes_in, _start_standalone

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GREETING = "hello from hello item 1 of 3, parameter 'Shanghai'"


def walkthrough_commands() -> list[str]:
    text = (ROOT / "README.rst").read_text()
    section = text[text.index("A first session with curl") :]
    block = section[section.index(".. code-block:: sh") :].split("\n\n", 2)[1]
    commands, current = [], ""
    for line in block.splitlines():
        if not line.startswith("   "):
            break
        current += line[3:].rstrip("\\").rstrip() + " " if line.endswith("\\") else line[3:]
        if not line.endswith("\\"):
            commands.append(current.strip())
            current = ""
    return [c for c in commands if c and not c.startswith("#")]


def run(command: str, cwd: Path, api: str) -> subprocess.CompletedProcess[str]:
    command = re.sub(r"\s{2,}# .*$", "", command)  # a trailing comment (aligned, after 2+ spaces)
    if command.lstrip().startswith("curl"):
        command += " -s -o /dev/stderr -w '%{http_code}'"
    env = {**os.environ, "API": api, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_readme_session_runs_the_example_job_on_its_cron(tmp_path):
    commands = walkthrough_commands()
    assert commands[0].startswith("API=http://127.0.0.1:8899")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    process, _, work, api = _start_standalone(tmp_path)
    codes = []
    try:
        for command in commands[1:]:
            if command.startswith("find work/mesos"):
                wait_until(lambda: _greeted(work), 60, 0.2, "every shard greeting with its parameter")
            result = run(command, tmp_path, api)
            assert result.returncode == 0, (command, result.stderr)
            if command.startswith("curl"):
                codes.append(int(result.stdout[-3:]))
            elif command.startswith("find"):
                assert GREETING in result.stdout, result.stdout
            elif command.startswith("examples/pack.sh"):
                assert result.stdout.strip() == str(tmp_path / "work" / "example-app.tar.gz")
        assert codes == [204, 204, 200, 200, 204, 204, 204, 204, 204, 204, 200, 400]
        # the app is gone: its executors got STOP and left
        wait_until(lambda: _processes_in(work) == [], 30, 0.2, "the app's executors to stop")
    finally:
        process.kill()
        process.communicate(timeout=30)


def _greeted(work: Path) -> bool:
    found = set()
    for log in (work / "mesos").rglob("tasks/*/std*"):
        found.update(
            re.findall(r"hello from hello item (\d) of 3, parameter '(\w+)'", log.read_text(errors="replace"))
        )
    return {("0", "Beijing"), ("1", "Shanghai"), ("2", "Guangzhou")} <= found
