"""LAUNCH → TASK_RUNNING and LAUNCH → TASK_FINISHED for a no-op SIMPLE job, cold and warm.

Everything is real: the local Mesos (master + agent), a pymesos scheduler driver, the
``elasticjob-cloud-executor`` subprocess, the example app packed by ``examples/pack.sh`` and served
by a loopback ``http.server``.

* cold: a new app (new executor ID → the agent starts a new executor process) and a new URL
  (cache miss → download + extract) for every task;
* warm: one executor already running, app cached and extracted; tasks launched one at a time.

The clock starts right before ``launchTasks`` and stops when the scheduler's ``statusUpdate``
callback sees the state. Usage::

    .venv/bin/python benchmarks/executor_start.py [--warm 50] [--cold 10]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pymesos

from elasticjob_cloud.core.taskdata import (
    AppData,
    JobConfigContext,
    ShardingContexts,
    TaskData,
    encode_app_data,
    encode_task_data,
)
from elasticjob_cloud.localmesos import LocalMesosCluster

ROOT = Path(__file__).resolve().parents[1]
EXECUTOR_COMMAND = f"{sys.executable} -m elasticjob_cloud.executor.main"


class Timings(pymesos.Scheduler):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offers: list[dict[str, Any]] = []
        self.seen: dict[tuple[str, str], float] = {}

    def resourceOffers(self, driver: Any, offers: Any) -> None:
        with self.lock:
            self.offers.extend(offers)

    def statusUpdate(self, driver: Any, update: Any) -> None:
        now = time.perf_counter()
        with self.lock:
            self.seen.setdefault((update["task_id"]["value"], update["state"]), now)
            if update["state"] not in ("TASK_RUNNING", "TASK_FINISHED"):
                logging.warning("unexpected update %s", update)

    def wait(self, what: Any, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                value = what()
            if value:
                return value
            time.sleep(0.001)
        raise TimeoutError("benchmark step timed out")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def scalar(name: str, value: float) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def run_one(sched: Timings, driver: Any, app: str, url: str, n: int) -> tuple[float, float]:
    offers = sched.wait(lambda: [sched.offers.pop() for _ in range(len(sched.offers))])
    offer = offers[0]
    agent = offer["agent_id"]["value"]
    task_id = f"noop@-@0@-@READY@-@{agent}@-@{app}-{n}"
    data = TaskData(
        ShardingContexts(task_id, "noop", 1, "", {0: ""}),
        JobConfigContext("noop", "SIMPLE", job_class="example_jobs.simple.NoopJob"),
    )
    task = {
        "name": "noop",
        "task_id": {"value": task_id},
        "agent_id": offer["agent_id"],
        "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
        "data": encode_task_data(data),
        "executor": {
            "executor_id": {"value": f"{app}@-@{agent}"},
            "name": app,
            "command": {"value": EXECUTOR_COMMAND, "shell": True},
            "resources": [scalar("cpus", 0.1), scalar("mem", 64)],
            "data": encode_app_data(AppData(app, url, "bin/start.sh", True, 0, 0.0)),
        },
    }
    start = time.perf_counter()
    driver.launchTasks([o["id"] for o in offers], [task], {"refuse_seconds": 0.01})
    try:
        finished = sched.wait(lambda: sched.seen.get((task_id, "TASK_FINISHED")), 20)
    except TimeoutError:
        raise SystemExit(
            f"{task_id} did not finish: {sorted(k for k in sched.seen if k[0] == task_id)}"
        ) from None
    running = sched.seen[(task_id, "TASK_RUNNING")]
    return (running - start) * 1000, (finished - start) * 1000


def summary(label: str, samples: list[tuple[float, float]]) -> str:
    def stats(values: list[float]) -> str:
        values = sorted(values)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        return f"p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  max {values[-1]:6.1f} ms"

    return (
        f"{label:5} n={len(samples):3}  LAUNCH→RUNNING  {stats([r for r, _ in samples])}\n"
        f"{'':5} {'':5}  LAUNCH→FINISHED {stats([f for _, f in samples])}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ej-bench-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [str(ROOT / "examples" / "pack.sh"), str(work / "www")], check=True, capture_output=True
        )
        handler = functools.partial(QuietHandler, directory=str(work / "www"))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}/example-app.tar.gz"
        cluster = LocalMesosCluster(agents=1, work_dir=str(work / "mesos"), allocation_interval=0.05).start()
        sched = Timings()
        framework = {"user": "", "name": "executor-bench", "failover_timeout": 60.0}
        driver = pymesos.MesosSchedulerDriver(sched, framework, cluster.master_url, timeout=10)
        driver.start()
        try:
            cold = [run_one(sched, driver, f"cold{n}", f"{base}?cold={n}", n) for n in range(args.cold)]
            run_one(sched, driver, "warm", base, -1)  # start the executor, fill the cache
            warm = [run_one(sched, driver, "warm", base, n) for n in range(args.warm)]
        finally:
            driver.stop(failover=True)
            driver.join()
            cluster.stop()
            httpd.shutdown()
    print(summary("cold", cold))
    print(summary("warm", warm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
