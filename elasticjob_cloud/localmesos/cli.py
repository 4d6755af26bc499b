"""``elasticjob-cloud local-mesos``: run a local Mesos master and agents until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import threading
from typing import Any

from .cluster import DEFAULT_RESOURCES, LocalMesosCluster

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "local-mesos",
        help="run a local Mesos master and agents (v1 HTTP API) for development and tests",
        description="A protocol-level Mesos master and agents on this machine (not a real Mesos).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5050, help="master port (default 5050; 0 = any)")
    parser.add_argument("--agents", type=int, default=1, help="number of agents (default 1)")
    parser.add_argument(
        "--resources", default=DEFAULT_RESOURCES, help=f"per agent (default {DEFAULT_RESOURCES})"
    )
    parser.add_argument("--attributes", default=None, help="per agent, e.g. 'rack:r1;zone:a'")
    parser.add_argument("--work-dir", required=True, help="agent work dir: sandboxes under slaves/…")
    parser.add_argument("--zk", default=None, help="register the master in ZooKeeper: zk://host:port/mesos")
    parser.add_argument("--hostname", default=None, help="hostname reported for master and agents")
    parser.add_argument(
        "--simulate-tasks",
        type=float,
        default=None,
        metavar="SECONDS",
        help="SIMULATION: run no processes; tasks go RUNNING then FINISHED after SECONDS",
    )
    parser.add_argument("--allocation-interval", type=float, default=1.0, help="seconds between offer rounds")
    parser.add_argument("--heartbeat-interval", type=float, default=15.0, help="seconds between heartbeats")
    parser.add_argument(
        "--status-update-retry-interval",
        type=float,
        default=10.0,
        help="seconds before an unacked update is resent",
    )
    parser.add_argument("--offer-timeout", type=float, default=None, help="rescind offers after SECONDS")
    parser.add_argument(
        "--executor-shutdown-grace-period", type=float, default=5.0, help="seconds before SIGKILL on shutdown"
    )
    parser.add_argument(
        "--executor-registration-timeout",
        type=float,
        default=60.0,
        help="seconds for an executor to subscribe",
    )
    parser.add_argument(
        "--registry",
        choices=("in_memory", "replicated_log"),
        default="in_memory",
        help="where the master keeps its agents: in_memory (forgotten on restart, the default) or "
        "replicated_log (a file in --work-dir: a restarted master recovers them, as production Mesos)",
    )
    parser.add_argument(
        "--agent-reregister-timeout",
        type=float,
        default=600.0,
        help="seconds a recovered or disconnected agent has to re-register before it is unreachable",
    )
    parser.set_defaults(func=run)
    return parser


def build_cluster(args: argparse.Namespace) -> LocalMesosCluster:
    return LocalMesosCluster(
        agents=args.agents,
        resources=args.resources,
        work_dir=args.work_dir,
        host=args.host,
        port=args.port,
        allocation_interval=args.allocation_interval,
        zk=args.zk,
        simulate_tasks=args.simulate_tasks,
        attributes=args.attributes,
        executor_shutdown_grace_period=args.executor_shutdown_grace_period,
        heartbeat_interval=args.heartbeat_interval,
        status_update_retry_interval=args.status_update_retry_interval,
        offer_timeout=args.offer_timeout,
        executor_registration_timeout=args.executor_registration_timeout,
        hostname=args.hostname,
        registry=args.registry,
        agent_reregister_timeout=args.agent_reregister_timeout,
    )


def run(args: argparse.Namespace) -> int:
    try:
        cluster = build_cluster(args)
    except ValueError as exc:
        logger.error("bad arguments: %s", exc)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        logger.info("signal %s: shutting down", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            cluster.start()
        except OSError as exc:
            logger.error("could not start: %s", exc)
            return 1
        # This process is the local Mesos alone: what exists now (modules, the cluster) lives as long
        # as it does. Out of full collections it stays, those walk only the tasks and calls since,
        # and their pauses (each stalls every call the master is serving) are a fraction as long.
        gc.freeze()
        print(
            f"local Mesos master: http://{cluster.master_url}  (mesos_url={cluster.master_url})", flush=True
        )
        if args.zk:
            print(f"registered in ZooKeeper: {args.zk}", flush=True)
        for agent in cluster.agents:
            print(f"  agent {agent.agent_id} at http://{agent.url}", flush=True)
        if args.simulate_tasks is not None:
            print(f"  SIMULATED TASKS: nothing runs; tasks finish after {args.simulate_tasks}s", flush=True)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        cluster.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
