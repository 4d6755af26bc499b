"""Long API fuzz: schemathesis 4 against live standalone stacks, several seeds, stateful phase on.

The CI test ``tests/rest/test_schemathesis.py`` runs one seed at 40 examples per operation without
the stateful phase, so it stays around two minutes. This script runs the same kind of stack (real
HTTP, a private ZooKeeper, the local Mesos with one small agent, a leading scheduler, the SQLite
event trace) for much longer: per seed a fresh stack, every operation of ``/api/openapi.json``,
every check, ``--max-examples`` per operation and phase, phases examples, coverage, fuzzing and
stateful (sequences of calls chained by the links schemathesis infers from the document). With
``--auth`` each seed runs a second time with logins on (HTTP Basic as admin; schemathesis' own
``ignored_auth`` check then also sends requests without or with wrong credentials).

After each run the stack must still be sound, checked through the API:

* ``/health`` answers ``leader``;
* stored state is consistent: every job's ``dependsOn`` names a registered job and every edge of
  ``GET /api/job/dependencies/graph`` joins two of its nodes;
* a hostile batch of issue #17's inputs where the fuzzer rarely goes (numbers at and beyond their
  bounds, ``NaN`` as text, retry objects with extra or missing keys, self, duplicate, huge and nested
  ``dependsOn``, idempotency keys with NUL, lone surrogates or 300 characters, trigger bodies of every
  JSON type, two clients writing an upstream and its downstream at once) gets no 5xx, and then:
* every fuzzed job can be deregistered (``?cascade=true``) and nothing is left;
* the scheduler loop is alive: a job registered afterwards (the example app, a cron every second)
  runs and its execution reaches the event trace.

Usage::

    .venv/bin/python benchmarks/api_fuzz.py                          # 3 seeds, 200 examples each, + auth
    .venv/bin/python benchmarks/api_fuzz.py --seeds 1 --max-examples 30 --no-auth   # a quick look

Exit status 1 when schemathesis reported a failure or a stack was not sound afterwards; the
``st replay`` cassette of each run stays in ``--report-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_fuzz_hooks import SEEDED_APP, SEEDED_JOBS  # noqa: E402
from elasticjob_cloud.bootstrap import start_standalone  # noqa: E402
from elasticjob_cloud.core import paths  # noqa: E402
from elasticjob_cloud.registry import connect  # noqa: E402
from elasticjob_cloud.registry.zkserver import ZooKeeperServer  # noqa: E402
from elasticjob_cloud.settings import Settings  # noqa: E402
from tests.support import wait_until  # noqa: E402

# Small, as in the CI test (tests/rest/test_schemathesis.py says why): at most 50 minimal shards at
# once, a little more than its 20 so that the probe job (0.02 cpus and 32 MB with its executor)
# fits beside what the fuzzer left running.
AGENT_RESOURCES = "cpus:0.05;mem:64;disk:1024;ports:[31000-31010]"
ADMIN, PASSWORD = "admin", "fuzz-admin-password"
PROBE_APP, PROBE_JOB = "fuzz_probe_app", "fuzz_probe_job"


def answered(predicate: Any) -> Any:
    """``predicate`` as a poll: a request that fails (the stack still starting) is a "not yet"."""

    def poll() -> Any:
        try:
            return predicate()
        except requests.RequestException:
            return None

    return poll


class Client(requests.Session):
    """A session that waits out a 429 (``Retry-After``): after a run with logins on, the fuzzer's
    wrong passwords may still block this address for up to a minute."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        deadline = time.monotonic() + 180
        while True:
            answer = super().request(method, url, *args, **kwargs)
            if answer.status_code != 429 or time.monotonic() > deadline:
                return answer
            time.sleep(float(answer.headers.get("Retry-After", "1")))


def pack_app(directory: Path) -> Path:
    out = subprocess.run(
        [str(ROOT / "examples" / "pack.sh"), str(directory)], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def parse_summary(output: str) -> dict[str, Any]:
    """The numbers of schemathesis' summary (operations, test cases, failures, per phase)."""

    def number(pattern: str) -> int | None:  # summed over the passes of one run
        found = re.findall(pattern, output)
        return sum(int(value.replace(",", "")) for value in found) if found else None

    def first(pattern: str) -> int | None:
        found = re.search(pattern, output)
        return int(found.group(1)) if found else None

    links = re.search(r"API Links:\s+([^\n]+)", output)
    return {
        "operations_selected": first(r"Selected: \d+/(\d+)"),
        "operations_tested": first(r"Tested: (\d+)"),
        "test_cases": number(r"([\d,]+) generated"),
        "unique_failures": number(r"([\d,]+) unique failures?") or 0,
        "stateful_scenarios": number(r"Scenarios:\s+([\d,]+)"),
        "links": links.group(1).strip() if links else None,
    }


def stored_edges(zk_servers: str, depends_on: dict[str, set[str]]) -> list[str]:
    """ZooKeeper's dependency state (``/state/dependencies/{job}``) against the jobs' ``dependsOn``:
    no state for a job without upstreams, no edge to a job that is not an upstream."""
    problems = []
    registry, connection = connect(zk_servers)
    try:
        tree = registry.tree
        for job in tree.children(paths.DEPENDENCIES):
            if not depends_on.get(job):
                problems.append(f"{paths.DEPENDENCIES}/{job} stored for a job without dependsOn")
                continue
            stored = tree.get(f"{paths.DEPENDENCIES}/{job}")
            edges = set(json.loads(stored[0]).get("edges", {})) if stored else set()
            if not edges <= depends_on[job]:
                problems.append(f"{job}: stored edges {sorted(edges - depends_on[job])} not in its dependsOn")
    finally:
        connection.stop()
    return problems


def seed_state(url: str, auth: tuple[str, str] | None, app_package: Path) -> None:
    """The app and the small dependency graph the hooks (``api_fuzz_hooks``) point drawn names at."""
    http = Client()
    http.auth = auth
    app = {"appName": SEEDED_APP, "appURL": f"file://{app_package}", "bootstrapScript": "bin/start.sh",
           "cpuCount": 0.01, "memoryMB": 16.0}  # fmt: skip
    answers = [http.post(url + "/api/app", json=app, timeout=30)]
    for name, upstreams in zip(
        SEEDED_JOBS, ([], ["fuzz_a"], ["fuzz_b"], [], ["fuzz_a", "fuzz_d"]), strict=True
    ):
        job = {
            "jobName": name, "appName": SEEDED_APP, "jobClass": "example_jobs.simple.HelloJob",
            "jobType": "SIMPLE", "jobExecutionType": "TRANSIENT", "shardingTotalCount": 2,
            "cpuCount": 0.01, "memoryMB": 8.0,
            **({"dependsOn": upstreams} if upstreams else {"cron": "0 0 3 1 1 ?"}),
        }  # fmt: skip
        answers.append(http.post(url + "/api/job/register", json=job, timeout=30))
    bad = [f"{answer.status_code} {answer.text[:200]}" for answer in answers if answer.status_code != 204]
    if bad:
        raise RuntimeError(f"seeding failed: {bad}")


def hostile_batch(url: str, auth: tuple[str, str] | None) -> tuple[int, list[str]]:
    """Issue #17's inputs where the fuzzer rarely goes, against the live stack: every answer must be a
    4xx naming what is wrong (or a 2xx where the input is valid), never a 5xx. Then an upstream and
    its downstream are written by two clients at once. Returns (requests sent, problems)."""
    http = Client()
    http.auth = auth
    base = {
        "appName": SEEDED_APP, "jobClass": "example_jobs.simple.HelloJob", "jobType": "SIMPLE",
        "jobExecutionType": "TRANSIENT", "shardingTotalCount": 1, "cpuCount": 0.01, "memoryMB": 8.0,
        "cron": "0 0 3 1 1 ?",
    }  # fmt: skip
    numbers = [
        "1e308",
        "-1e308",
        "-0.0",
        "1e999",
        "NaN",
        "Infinity",
        '"NaN"',
        '"1e308"',
        "9" * 400,
        "true",
        "[]",
        "{}",
    ]
    bodies: list[tuple[str, str, bytes]] = []
    for name in ("priority", "timeLimitSeconds", "startingDeadlineSeconds"):
        for number in numbers:
            text = json.dumps({**base, "jobName": "hostile"})[:-1] + f', "{name}": {number}}}'
            bodies.append(("POST", "/api/job/register", text.encode()))
    for retry in ({}, {"maxRetries": 1, "extra": [1]}, {"maxRetries": "NaN"}, {"maxRetries": 1, "initialBackoffSeconds": 1e308},
                  {"maxRetries": 2, "initialBackoffSeconds": 9, "maxBackoffSeconds": 1}, [], "x", None):  # fmt: skip
        bodies.append(
            ("POST", "/api/job/register", json.dumps({**base, "jobName": "hostile", "retry": retry}).encode())
        )
    for upstreams in (["hostile"], ["fuzz_a", "fuzz_a"], [f"j{i}" for i in range(5000)], [["fuzz_a"]], [None], ["\x00"],
                      "fuzz_a", {"a": 1}, ["fuzz_a"] * 101, "[" * 5000 + "]" * 5000):  # fmt: skip
        text = json.dumps({**base, "jobName": "hostile", "dependsOn": upstreams})
        if isinstance(upstreams, str) and upstreams.startswith("["):
            text = text.replace(json.dumps(upstreams), upstreams)
        bodies.append(("POST", "/api/job/register", text.encode()))
    for key in ("", " ", r"\u0000", r"\ud800", "k" * 300, r"\u00fc\ud83c\udf89", "../..", "a/b"):  # JSON text
        bodies.append(
            ("POST", "/api/job/trigger", f'{{"jobName": "fuzz_a", "idempotencyKey": "{key}"}}'.encode())
        )
    for body in ("null", "true", "0", "1e308", '"fuzz_a"', "[]", '["fuzz_a"]', "{}", '{"jobName": null}',
                 '{"jobName": "fuzz_a", "jobParameter": {"a": [1]}}', '{"jobName": "fuzz_a", "shardingItemParameters": "9=x"}',
                 "[" * 100000 + "]" * 100000):  # fmt: skip
        bodies.append(("POST", "/api/job/trigger", body.encode()))
    bodies.append(("POST", "/api/job/trigger", b'{"jobName": "\xff\xfe"}'))  # not UTF-8
    for cascade in ("TRUE", "1", "yes", "\x00"):
        bodies.append(("DELETE", f"/api/job/ghost/deregister?cascade={urllib.parse.quote(cascade)}", b""))
    problems = []
    for method, path, body in bodies:
        answer = http.request(method, url + path, data=body, headers={"Content-Type": "application/json"})
        if answer.status_code >= 500:
            problems.append(f"{method} {path} {body[:80]!r}: {answer.status_code} {answer.text[:200]}")
        if answer.ok and path == "/api/job/register":  # valid after all: the next case starts afresh
            http.delete(url + "/api/job/hostile/deregister?cascade=true")
    sent = len(bodies)

    # Two clients writing an upstream and its downstream at once (the dependency graph must stay whole).
    def upstream() -> None:
        for round_ in range(40):
            if round_ % 3 == 0:
                http.post(url + "/api/job/register", json={**base, "jobName": "race_up"})
            elif round_ % 3 == 1:
                http.delete(url + "/api/job/race_up/deregister")
            else:
                http.delete(url + "/api/job/race_up/deregister?cascade=true")

    def downstream() -> None:
        for round_ in range(40):
            if round_ % 2 == 0:
                body = {**base, "jobName": "race_down", "dependsOn": ["race_up", "fuzz_d"]}
                body.pop("cron")
                http.post(url + "/api/job/register", json=body)
            else:
                http.delete(url + "/api/job/race_down/deregister")

    threads = [threading.Thread(target=work) for work in (upstream, downstream)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return sent + 80, problems


def soundness(url: str, auth: tuple[str, str] | None, app_package: Path, zk_servers: str) -> list[str]:
    """What is wrong with the stack after a fuzz run (empty: nothing)."""
    problems: list[str] = []
    http = Client()
    http.auth = auth
    health = http.get(url + "/health", timeout=10).json()
    if health.get("role") != "leader":
        problems.append(f"/health after the run: {health}")
    jobs = http.get(url + "/api/job/jobs", timeout=30).json()
    names = {job["jobName"] for job in jobs}
    for job in jobs:
        for upstream in job.get("dependsOn") or []:
            if upstream not in names:
                problems.append(f"{job['jobName']} depends on unregistered {upstream!r}")
    graph = http.get(url + "/api/job/dependencies/graph", timeout=30).json()
    nodes = {node["id"] for node in graph["nodes"]}
    for edge in graph["edges"]:
        if not {edge["from"], edge["to"]} <= nodes:
            problems.append(f"graph edge {edge} joins a missing node")
    problems += stored_edges(zk_servers, {job["jobName"]: set(job.get("dependsOn") or []) for job in jobs})
    for name in sorted(names):
        answer = http.delete(
            f"{url}/api/job/{requests.utils.quote(name, safe='')}/deregister?cascade=true", timeout=30
        )
        if answer.status_code not in (204, 404):
            problems.append(f"deregister {name!r} (cascade): {answer.status_code} {answer.text[:200]}")
    left = http.get(url + "/api/job/jobs", timeout=30).json()
    if left:
        problems.append(
            f"{len(left)} jobs left after deregistering every job: {[j['jobName'] for j in left][:5]}"
        )
    problems += stored_edges(zk_servers, {})
    # The scheduler loop is alive: a job registered now runs (its execution reaches the trace).
    app = {
        "appName": PROBE_APP, "appURL": f"file://{app_package}", "bootstrapScript": "bin/start.sh",
        "cpuCount": 0.01, "memoryMB": 16.0, "appCacheEnable": True,
    }  # fmt: skip
    job = {
        "jobName": PROBE_JOB, "appName": PROBE_APP, "jobClass": "example_jobs.simple.HelloJob",
        "jobType": "SIMPLE", "jobExecutionType": "TRANSIENT", "cron": "* * * * * ?",
        "shardingTotalCount": 1, "cpuCount": 0.01, "memoryMB": 16.0,
    }  # fmt: skip
    for path, body in (("/api/app", app), ("/api/job/register", job)):
        answer = http.post(url + path, json=body, timeout=30)
        if answer.status_code != 204:
            problems.append(f"POST {path} after the run: {answer.status_code} {answer.text[:200]}")
            return problems

    def ran() -> bool:
        rows = http.get(
            url + "/api/job/events/executions", params={"jobName": PROBE_JOB, "isSuccess": "true"}, timeout=10
        ).json()
        return rows["total"] > 0

    try:
        wait_until(answered(ran), 90, 0.2, "a job registered after the fuzz run succeeds once")
    except AssertionError as error:
        problems.append(str(error))
    return problems


def schemathesis(
    url: str, seed: int, options: tuple[str, ...], auth: tuple[str, str] | None, report: Path, cwd: Path
) -> tuple[str, int]:
    """One ``st run`` (every check of the CI configuration, one worker); its output and exit status."""
    command = [
        str(Path(sys.executable).with_name("st")),
        f"--config-file={ROOT / 'tests' / 'rest' / 'schemathesis.toml'}",
        "run",
        f"{url}/api/openapi.json",
        f"--seed={seed}",
        *options,
        "--workers=1",
        "--request-timeout=30",
        "--suppress-health-check=all",
        "--report=vcr",
        f"--report-dir={report}",
        *([f"--auth={auth[0]}:{auth[1]}"] if auth else []),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "benchmarks.api_fuzz_hooks",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    return result.stdout + result.stderr, result.returncode


def fuzz(seed: int, args: argparse.Namespace, auth: bool, work: Path, app_package: Path) -> dict[str, Any]:
    label = f"seed {seed}{' auth' if auth else ''}"
    slug = label.replace(" ", "-")
    run_dir = work / label.replace(" ", "-")
    run_dir.mkdir()
    extra: dict[str, str] = {}
    if auth:
        extra = {"auth_enabled": "true", "auth_username": ADMIN, "auth_password": PASSWORD}
    zookeeper = ZooKeeperServer(data_dir=str(run_dir / "zk")).start()
    settings = Settings(
        zk_servers=zookeeper.hosts,
        http_port=0,
        hostname="127.0.0.1",
        event_trace_rdb_url=f"sqlite:///{run_dir / 'trace.db'}",
        **extra,
    )
    try:
        stack = start_standalone(
            settings, agents=1, work_dir=str(run_dir / "mesos"), resources=AGENT_RESOURCES
        )
    except BaseException:
        zookeeper.stop()
        raise
    url = f"http://127.0.0.1:{stack.rest.port}"
    credentials = (ADMIN, PASSWORD) if auth else None
    try:
        leading = answered(lambda: requests.get(url + "/health", timeout=5).json().get("role") == "leader")
        wait_until(leading, 60, 0.2, "a leader")
        seed_state(url, credentials, app_package)
        passes = [(f"--max-examples={args.max_examples}", f"--phases={args.phases}")]
        if auth:
            # Wrong passwords lock this address out for a minute (429), which would leave most of
            # the run untested: the long pass sends the right password only (no ``ignored_auth``);
            # a short pass with every check then tries requests without or with wrong credentials.
            passes = [
                (*passes[0], "--exclude-checks=ignored_auth"),
                ("--max-examples=10", "--phases=coverage,fuzzing"),
            ]
        started = time.monotonic()
        output, returncode = "", 0
        for number, options in enumerate(passes):
            text, code = schemathesis(
                url, seed, options, credentials, Path(args.report_dir) / f"{slug}-{number}", run_dir
            )
            output += text
            returncode = returncode or code
        seconds = time.monotonic() - started
        (Path(args.report_dir) / f"{slug}.log").write_text(output)
        summary = parse_summary(output)
        hostile_sent, problems = hostile_batch(url, credentials)
        problems += soundness(url, credentials, app_package, stack.settings.zk_servers)
        return {
            "run": label,
            "seconds": round(seconds),
            "exit": returncode,
            **summary,
            "hostile_requests": hostile_sent,
            "problems_after": problems,
            "tail": output[-3000:] if returncode else "",
        }
    finally:
        stack.stop()
        zookeeper.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (from --first-seed on)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--max-examples", type=int, default=200, help="per operation and phase")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--no-auth", action="store_true", help="skip the runs with logins on")
    parser.add_argument("--auth-only", action="store_true", help="only the runs with logins on")
    parser.add_argument("--report-dir", default=None, help="cassettes and logs (default: a temp dir)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="api-fuzz-"))
    args.report_dir = args.report_dir or str(work / "report")
    Path(args.report_dir).mkdir(parents=True, exist_ok=True)
    app_package = pack_app(work / "app")
    modes = [True] if args.auth_only else [False] if args.no_auth else [False, True]
    results = []
    started = time.monotonic()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for auth in modes:
            result = fuzz(seed, args, auth, work, app_package)
            results.append(result)
            print(
                f"{result['run']:>12}: {result['seconds']:>5} s, operations {result['operations_tested']}/"
                f"{result['operations_selected']}, test cases {result['test_cases']}, "
                f"failures {result['unique_failures']}, stateful scenarios {result['stateful_scenarios']}, "
                f"links {result['links']}, exit {result['exit']}, "
                f"after: {'sound' if not result['problems_after'] else result['problems_after']}",
                flush=True,
            )
            if result["tail"]:
                print(result["tail"], flush=True)
    total_cases = sum(r["test_cases"] or 0 for r in results)
    bad = [r for r in results if r["exit"] or r["problems_after"]]
    print(
        f"total: {len(results)} runs, {total_cases} test cases, "
        f"{sum(r['unique_failures'] for r in results)} failures, {len(bad)} runs not clean, "
        f"{time.monotonic() - started:.0f} s; logs and cassettes in {args.report_dir}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
