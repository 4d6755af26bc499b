"""``elasticjob-cloud standalone`` as a user runs it: a real process, curl-able, Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from elasticjob_cloud.registry.zkserver import free_port
from tests.support import FOO_APP, wait_until


def _zookeeper_pids_under(path):
    out = subprocess.run(
        ["pgrep", "-f", f"ZooKeeperServerMain {path}"], capture_output=True, text=True
    ).stdout
    return [int(pid) for pid in out.split()]


def _listening_addresses(port):
    """Local IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp, state 0A)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def _start_standalone(tmp_path, *extra):
    """Start ``elasticjob-cloud standalone`` as a user would; wait for its API and its leader.

    Its crons run in UTC, not the machine's zone: in a zone's repeated hour (a DST fall-back) a
    ``0/5 * * * * ?`` job fires only in the first pass (the DST policy), so on such a machine the
    tests that wait for its runs would wait an hour."""
    port = free_port()
    work = tmp_path / "work"
    command = [sys.executable, "-m", "elasticjob_cloud.cli", "standalone", "--http-port", str(port), *extra]
    process = subprocess.Popen(
        [*command, "--work-dir", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "time_zone": "UTC"},
    )
    url = f"http://127.0.0.1:{port}"

    def up():  # the API answers and the scheduler behind it leads (elected, service started)
        try:
            return requests.get(url + "/health", timeout=2).json().get("role") == "leader"
        except (requests.ConnectionError, ValueError):
            return False

    try:
        wait_until(up, 60, 0.2, "the standalone API with its scheduler leading")
    except AssertionError:
        process.kill()
        raise
    return process, port, work, url


def test_standalone_serves_the_api_and_stops_everything(tmp_path):
    process, port, work, url = _start_standalone(tmp_path)
    try:
        assert requests.post(url + "/api/app", json=FOO_APP, timeout=10).status_code == 204
        assert requests.get(url + "/api/app/foo_app", timeout=10).json()["appName"] == "foo_app"
        assert _zookeeper_pids_under(work)
        assert _listening_addresses(port) == {"127.0.0.1"}  # not the network: no authentication
        # the embedded event trace: a SQLite file in the work dir, searchable at once
        assert requests.get(url + "/api/job/events/executions", timeout=10).json() == {"total": 0, "rows": []}
        assert (work / "event-trace.db").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, output
    assert f"REST API on http://127.0.0.1:{port}/api (listening on 127.0.0.1:{port})" in output
    assert _zookeeper_pids_under(work) == []


def test_standalone_host_flag_binds_where_asked_and_says_so(tmp_path):
    process, port, _, _ = _start_standalone(tmp_path, "--host", "0.0.0.0")
    try:
        assert _listening_addresses(port) == {"0.0.0.0"}
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert f"(listening on 0.0.0.0:{port})" in output
    assert "OPEN TO THE NETWORK" in output


def test_cli_rejects_bad_settings_with_exit_2(tmp_path):
    env = {**os.environ, "http_port": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "elasticjob_cloud.cli", "scheduler"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 2
    assert "http_port must be an integer" in result.stderr


def test_killed_standalone_leaves_no_zookeeper_behind(tmp_path):
    process, _, work, _ = _start_standalone(tmp_path)
    assert _zookeeper_pids_under(work)
    process.kill()
    process.communicate(timeout=30)
    wait_until(lambda: _zookeeper_pids_under(work) == [], 20, message="the private ZooKeeper to exit")


def _processes_in(path):
    """PIDs of processes whose Mesos sandbox is under ``path`` (executors and their job processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            continue
        if any(v.startswith(b"MESOS_SANDBOX=" + str(path).encode()) for v in environ):
            found.append(int(entry))
    return found


def _example_app(directory):
    """The example app packed into ``directory`` by ``examples/pack.sh``: its body, named ``app``."""
    packed = subprocess.run(
        [os.path.join(os.path.dirname(__file__), "..", "examples", "pack.sh"), str(directory)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "appName": "app",
        "appURL": f"file://{packed}",
        "bootstrapScript": "bin/start.sh",
        "cpuCount": 0.1,
        "memoryMB": 64,
    }


def test_executors_of_a_killed_standalone_exit_after_the_recovery_timeout(tmp_path):
    from elasticjob_cloud.bootstrap import STANDALONE_RECOVERY_TIMEOUT

    process, _, work, url = _start_standalone(tmp_path)
    try:
        app = _example_app(tmp_path)
        job = {
            "jobName": "daemon",
            "appName": "app",
            "jobClass": "example_jobs.simple.HelloJob",
            "jobType": "SIMPLE",
            "jobExecutionType": "DAEMON",
            "cron": "0/2 * * * * ?",
            "shardingTotalCount": 2,
            "cpuCount": 0.1,
            "memoryMB": 32,
        }
        assert requests.post(url + "/api/app", json=app, timeout=10).status_code == 204
        assert requests.post(url + "/api/job/register", json=job, timeout=10).status_code == 204
        wait_until(lambda: len(_processes_in(work)) >= 2, 60, 0.2, "the daemon's executors and job processes")
    finally:
        process.kill()
        process.communicate(timeout=30)
    try:
        wait_until(
            lambda: _processes_in(work) == [], STANDALONE_RECOVERY_TIMEOUT + 20, 0.2, "orphans to exit"
        )
    except AssertionError:
        left = {
            pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in _processes_in(work)
        }
        raise AssertionError(f"left running: {left}") from None
