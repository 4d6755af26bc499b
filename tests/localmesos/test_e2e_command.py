"""Command tasks (the built-in command executor), the fetcher, and simulated mode, end to end."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
from lmhelpers import executor_info, task_info, wait_until

from elasticjob_cloud.localmesos.fetcher import Fetcher, FetchError


def _sandbox(cluster, framework_id, task_id):
    runs = Path(
        cluster.work_dir,
        "slaves",
        cluster.agents[0].agent_id,
        "frameworks",
        framework_id,
        "executors",
        task_id,
        "runs",
    )
    return runs / "latest"


def test_command_tasks_finish_fail_and_are_killed(cluster, drivers):
    driver, rec = drivers(cluster.master_url, framework={"capabilities": [{"type": "TASK_KILLING_STATE"}]})
    offer = rec.take_offer()
    tasks = [
        task_info("ok", offer, command={"value": "echo hello-$MESOS_EXECUTOR_ID"}, cpus=0.1, mem=16),
        task_info("bad", offer, command={"value": "exit 3"}, cpus=0.1, mem=16),
        task_info("long", offer, command={"value": "sleep 30"}, cpus=0.1, mem=16),
        task_info(
            "argv",
            offer,
            command={"shell": False, "value": "/bin/echo", "arguments": ["echo", "a b"]},
            cpus=0.1,
            mem=16,
        ),
    ]
    driver.launchTasks(offer.id, tasks)
    wait_until(lambda: rec.states("ok") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"])
    wait_until(lambda: rec.states("bad") == ["TASK_STARTING", "TASK_RUNNING", "TASK_FAILED"])
    wait_until(lambda: rec.states("argv")[-1:] == ["TASK_FINISHED"])
    assert rec.last("bad").message == "Command exited with status 3"
    assert rec.last("ok").executor_id.value == "ok" and rec.last("ok").source == "SOURCE_EXECUTOR"
    assert (_sandbox(cluster, rec.framework_id, "ok") / "stdout").read_text() == "hello-ok\n"
    assert (_sandbox(cluster, rec.framework_id, "argv") / "stdout").read_text() == "a b\n"
    wait_until(lambda: rec.states("long") == ["TASK_STARTING", "TASK_RUNNING"])
    driver.killTask({"value": "long"})
    wait_until(lambda: rec.states("long") == ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED"])
    assert not rec.of("executor_lost")  # the master never hears of command executors


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _Quiet(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> None:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tf.addfile(info, io.BytesIO(data))


def test_command_task_fetches_and_extracts_its_app(cluster, drivers, http_dir):
    root, base = http_dir
    _tar(root / "app.tar.gz", {"app/run.sh": b"#!/bin/sh\necho from-app\n"})
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    uris = [{"value": f"{base}/app.tar.gz", "cache": True}]
    driver.launchTasks(
        offer.id,
        [task_info("fetch", offer, command={"value": "./app/run.sh", "uris": uris}, cpus=0.1, mem=16)],
    )
    wait_until(lambda: rec.states("fetch")[-1:] == ["TASK_FINISHED"])
    assert (_sandbox(cluster, rec.framework_id, "fetch") / "stdout").read_text() == "from-app\n"


def test_fetch_failure_fails_the_task(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    uris = [{"value": "file:///nonexistent/app.tar.gz"}]
    driver.launchTasks(
        offer.id, [task_info("nofetch", offer, command={"value": "true", "uris": uris}, cpus=0.1, mem=16)]
    )
    wait_until(lambda: rec.states("nofetch") == ["TASK_FAILED"])
    assert rec.last("nofetch").reason == "REASON_CONTAINER_LAUNCH_FAILED"


def test_custom_executor_launch_failure_fails_its_tasks(cluster, drivers):
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    broken = executor_info("broken")
    broken["command"]["uris"] = [{"value": "ftp://example.invalid/x.tgz"}]
    driver.launchTasks(offer.id, [task_info("t", offer, executor=broken)])
    wait_until(lambda: rec.states("t") == ["TASK_FAILED"])
    assert rec.last("t").reason == "REASON_CONTAINER_LAUNCH_FAILED"


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"])
def test_fetcher_extracts_every_archive_kind(tmp_path, suffix):
    archive = tmp_path / f"pkg{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("pkg/hello.txt", "hi")
    else:
        mode = {".tar": "w", ".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.bz2": "w:bz2", ".tar.xz": "w:xz"}[
            suffix
        ]
        _tar(archive, {"pkg/hello.txt": b"hi"}, mode)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    Fetcher(tmp_path / "cache").fetch({"value": archive.as_uri()}, sandbox)
    assert (sandbox / "pkg" / "hello.txt").read_text() == "hi"
    assert (sandbox / archive.name).exists()


def test_fetcher_executable_cache_and_unsafe_archives(tmp_path, http_dir):
    root, base = http_dir
    (root / "tool").write_text("#!/bin/sh\n")
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    fetcher = Fetcher(tmp_path / "cache")
    target = fetcher.fetch({"value": f"{base}/tool", "executable": True, "cache": True}, sandbox)
    assert target.stat().st_mode & 0o111
    (root / "tool").unlink()  # cached: a second fetch does not need the server
    second = tmp_path / "sandbox2"
    second.mkdir()
    assert fetcher.fetch({"value": f"{base}/tool", "cache": True}, second).read_text() == "#!/bin/sh\n"
    with pytest.raises(FetchError):
        fetcher.fetch({"value": f"{base}/tool"}, second)  # not cached, gone from the server
    _tar(tmp_path / "evil.tar.gz", {"../escape.txt": b"x"})
    with pytest.raises(FetchError):
        fetcher.fetch({"value": str(tmp_path / "evil.tar.gz")}, second)
    assert not (tmp_path / "escape.txt").exists()
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(FetchError):
        fetcher.fetch({"value": str(tmp_path / "evil.zip")}, second)
    with pytest.raises(FetchError):
        fetcher.fetch({"value": "hdfs://nn/app.tgz"}, second)


def test_simulated_mode_runs_no_processes(make_cluster, drivers):
    cluster = make_cluster(simulate_tasks=0.2)
    driver, rec = drivers(cluster.master_url)
    offer = rec.take_offer()
    tasks = [
        task_info("sim-exec", offer, executor=executor_info("e"), cpus=0.1, mem=16),
        task_info("sim-cmd", offer, command={"value": "exit 1"}, cpus=0.1, mem=16),
        task_info("sim-kill", offer, executor=executor_info("e"), cpus=0.1, mem=16),
    ]
    driver.launchTasks(offer.id, tasks)
    driver.killTask({"value": "sim-kill"})
    wait_until(lambda: rec.states("sim-exec") == ["TASK_RUNNING", "TASK_FINISHED"])
    wait_until(lambda: rec.states("sim-cmd") == ["TASK_RUNNING", "TASK_FINISHED"])
    wait_until(lambda: rec.states("sim-kill")[-1:] == ["TASK_KILLED"])
    assert cluster.spawned_pids == set()
