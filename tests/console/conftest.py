"""A live standalone stack with authentication on, and a headless Chromium (Debian's) through Selenium.

Screenshots go to ``test-artifacts/console/`` (git-ignored), one per page, for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.console.chromium import CHROMEDRIVER, CHROMIUM, new_chromium
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
ADMIN = ("admin", "console-admin-pw")
VIEWER = ("viewer", "console-viewer-pw")


def script_job(name: str, app: str, command: str = "true", **fields: object) -> dict[str, object]:
    """A one-shard TRANSIENT SCRIPT job that only runs when triggered (0.1 cpu, 16 MB unless given)."""
    return {
        "jobName": name,
        "appName": app,
        "jobType": "SCRIPT",
        "jobExecutionType": "TRANSIENT",
        "cron": "0 0 0 1 1 ? 2099",
        "shardingTotalCount": 1,
        "cpuCount": 0.1,
        "memoryMB": 16,
        "scriptCommandLine": command,
        **fields,
    }


@dataclass
class Stack:
    url: str
    process: subprocess.Popen[str]
    work: Path

    def call(self, method: str, path: str, auth=ADMIN, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, auth=auth, timeout=10, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("console-stack")
    port = _free_port()
    env = {
        **os.environ,
        "auth_username": ADMIN[0],
        "auth_password": ADMIN[1],
        "auth_viewer_username": VIEWER[0],
        "auth_viewer_password": VIEWER[1],
        "time_zone": "UTC",
    }
    log = open(work / "standalone.log", "w")  # noqa: SIM115 - kept for the process
    command = [sys.executable, "-m", "elasticjob_cloud.cli", "standalone", "--auth", "--http-port", str(port)]
    command += ["--work-dir", str(work / "work")]
    process = subprocess.Popen(
        command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"

    def leading() -> bool:
        try:
            return requests.get(url + "/health", timeout=2).json().get("role") == "leader"
        except (requests.RequestException, ValueError):
            return process.poll() is not None and pytest.fail((work / "standalone.log").read_text())

    try:
        wait_until(leading, 60, 0.2, "the standalone stack leading")
        subprocess.run([str(ROOT / "examples" / "pack.sh"), str(work)], check=True, capture_output=True)
        yield Stack(url, process, work)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are not installed: run scripts/install.sh")
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    driver = new_chromium(profile, "--lang=en-US")
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
