"""``elasticjob-cloud scheduler`` and ``elasticjob-cloud standalone``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..bootstrap import Stack, start_api, start_standalone
from ..settings import Settings, SettingsError, load_settings


def _add_setting_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One flag per settings key (``zk_servers`` → ``--zk-servers``), except keys in ``skip``."""
    parser.add_argument(
        "--conf", help="properties file (default conf/elastic-job-cloud-scheduler.properties)"
    )
    for item in fields(Settings):
        if item.name in skip:
            continue
        flag = "--" + item.name.replace("_", "-")
        parser.add_argument(
            flag, dest=item.name, default=None, metavar=item.name.upper(), help=f"overrides {item.name}"
        )


def add_parser(subparsers: Any) -> None:
    scheduler = subparsers.add_parser("scheduler", help="run a scheduler instance (REST API on http_port)")
    _add_setting_flags(scheduler)
    scheduler.set_defaults(func=run_scheduler)

    standalone = subparsers.add_parser(
        "standalone", help="everything on one machine: private ZooKeeper, local Mesos, scheduler, REST API"
    )
    standalone.add_argument("--http-port", dest="http_port", default="8899", help="REST port (default 8899)")
    standalone.add_argument("--zk-servers", dest="zk_servers", default="", help="use this ZooKeeper instead")
    standalone.add_argument("--agents", type=int, default=2, help="local Mesos agents (default 2)")
    standalone.add_argument("--work-dir", default=None, help="local Mesos work directory (default ./work)")
    _add_setting_flags(standalone, skip=("http_port", "zk_servers"))
    standalone.set_defaults(func=run_standalone)


def _settings(args: argparse.Namespace, **forced: Any) -> Settings:
    overrides = {item.name: getattr(args, item.name, None) for item in fields(Settings)}
    overrides.update(forced)
    return load_settings(args.conf, os.environ, overrides)


def _serve_until_signalled(stack: Stack) -> int:
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not done.wait(1):
            pass
    finally:
        stack.stop()
    return 0


def run_scheduler(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"elasticjob-cloud: {exc}", file=sys.stderr)
        return 2
    stack = start_api(settings)
    print(f"elasticjob-cloud scheduler: REST API on {stack.api_url}/api", flush=True)
    return _serve_until_signalled(stack)


def run_standalone(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args, zk_servers=args.zk_servers, hostname=args.hostname or "127.0.0.1")
    except SettingsError as exc:
        print(f"elasticjob-cloud: {exc}", file=sys.stderr)
        return 2
    work_dir = Path(args.work_dir or "work").resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    stack = start_standalone(
        settings,
        zk_data_dir=str(work_dir / "zookeeper") if not args.zk_servers else None,
        agents=args.agents,
        work_dir=str(work_dir / "mesos"),
    )
    print(f"elasticjob-cloud standalone: REST API on {stack.api_url}/api", flush=True)
    print(f"  ZooKeeper: {stack.settings.zk_servers}  namespace: {stack.settings.zk_namespace}", flush=True)
    print(f"  local Mesos master: http://{stack.settings.mesos_url} ({args.agents} agents)", flush=True)
    print(f"  sandboxes under {work_dir / 'mesos'}", flush=True)
    print("  Ctrl-C stops everything.", flush=True)
    return _serve_until_signalled(stack)
