"""Fixtures for the executor tests: the packed example app and a counting HTTP server."""

from __future__ import annotations

import collections
import http.server
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from elasticjob_cloud.core.taskdata import (
    AppData,
    JobConfigContext,
    ShardingContexts,
    TaskData,
    encode_app_data,
    encode_task_data,
)
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def packed_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app packed by ``examples/pack.sh`` (the README's way), as a .tar.gz."""
    dest = tmp_path_factory.mktemp("packed")
    out = subprocess.run([str(EXAMPLES / "pack.sh"), str(dest)], check=True, capture_output=True, text=True)
    path = Path(out.stdout.strip())
    assert path.is_file() and path.name == "example-app.tar.gz"
    subprocess.run([str(EXAMPLES / "pack.sh"), str(dest), "zip"], check=True, capture_output=True)
    return path


class CountingServer:
    """``http.server`` on loopback serving one directory, counting GETs per path."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.hits: collections.Counter[str] = collections.Counter()
        self.delay = threading.Event()  # set: responses stall (for timeout tests)
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] += 1
                if server.delay.is_set():
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    threading.Event().wait(5)
                    return
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(directory))
        )
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def app_server(packed_app: Path) -> Iterator[CountingServer]:
    server = CountingServer(packed_app.parent)
    yield server
    server.close()


# -- helpers shared by the service and end-to-end tests -------------------------------------------


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """``tests.support.wait_until`` under the name these tests use."""
    return wait_until(predicate, timeout, message=what)


def task_data(
    job: str,
    item: int = 0,
    *,
    total: int = 1,
    params: dict[int, str] | None = None,
    job_parameter: str = "",
    job_type: str = "SIMPLE",
    job_class: str = "example_jobs.simple.HelloJob",
    daemon: bool = False,
    cron: str = "",
    misfire: bool = True,
    sampling: int = 0,
    streaming: bool = False,
    script: str = "",
    agent: str = "agent",
    **config: Any,
) -> tuple[str, str]:
    """``(task_id, TaskInfo.data)`` for one shard, as the scheduler builds them."""
    task_id = f"{job}@-@{item}@-@READY@-@{agent}@-@{time.monotonic_ns()}"
    params = params if params is not None else {}
    data = TaskData(
        ShardingContexts(task_id, job, total, job_parameter, {item: params.get(item, "")}, sampling),
        JobConfigContext(
            job_name=job,
            job_type=job_type,
            job_execution_type="DAEMON" if daemon else "TRANSIENT",
            job_class=job_class if job_type != "SCRIPT" else "",
            cron=cron,
            misfire=misfire,
            streaming_process=streaming,
            script_command_line=script,
            **config,
        ),
    )
    return task_id, encode_task_data(data)


def app_data(
    url: str, *, cache: bool = True, sampling: int = 0, idle: float = 0.0, name: str = "demo"
) -> str:
    return encode_app_data(AppData(name, url, "bin/start.sh", cache, sampling, idle))


def read_records(directory: Path) -> list[tuple[str, int, dict[str, Any]]]:
    path = directory / "records.txt"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        kind, pid, payload = line.split(" ", 2)
        records.append((kind, int(pid), json.loads(payload)))
    return records


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory the example jobs append their executions to (inherited through the env)."""
    directory = tmp_path / "records"
    directory.mkdir()
    monkeypatch.setenv("ELASTICJOB_EXAMPLE_RECORD_DIR", str(directory))
    return directory


@pytest.fixture(scope="session")
def kit() -> Any:
    """The helpers above, for test modules (``--import-mode=importlib`` cannot import conftest)."""
    import types

    return types.SimpleNamespace(
        wait_for=wait_for,
        task_data=task_data,
        app_data=app_data,
        read_records=read_records,
        pid_alive=pid_alive,
        examples=EXAMPLES,
    )
