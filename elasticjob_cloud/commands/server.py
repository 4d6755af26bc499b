"""``elasticjob-cloud scheduler`` and ``elasticjob-cloud standalone``."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import secrets
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any

from .. import logsetup
from ..bootstrap import Stack, start_api, start_standalone
from ..rest.credentials import Role, auth_switch, build_authenticator, configured_accounts, hash_password
from ..settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


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
    scheduler.add_argument(
        "--host",
        default="0.0.0.0",
        help="address the REST API listens on (default 0.0.0.0: every interface, for clients, agents' "
        "users and the other schedulers' redirects)",
    )
    _add_setting_flags(scheduler)
    scheduler.set_defaults(func=run_scheduler)

    standalone = subparsers.add_parser(
        "standalone", help="everything on one machine: private ZooKeeper, local Mesos, scheduler, REST API"
    )
    standalone.add_argument("--http-port", dest="http_port", default="8899", help="REST port (default 8899)")
    standalone.add_argument("--zk-servers", dest="zk_servers", default="", help="use this ZooKeeper instead")
    standalone.add_argument("--agents", type=int, default=2, help="local Mesos agents (default 2)")
    standalone.add_argument("--work-dir", default=None, help="local Mesos work directory (default ./work)")
    standalone.add_argument(
        "--host",
        default=None,
        help="address the REST API listens on (default 127.0.0.1, or 0.0.0.0 with --auth); "
        "without --auth anyone who reaches it may run any script",
    )
    standalone.add_argument(
        "--auth",
        action="store_true",
        help="require logins (auth_username/auth_password; a random admin password if none is set)",
    )
    _add_setting_flags(standalone, skip=("http_port", "zk_servers"))
    standalone.set_defaults(func=run_standalone)

    hasher = subparsers.add_parser(
        "hash-password", help="print an argon2 hash of a password, for auth_password in the settings"
    )
    hasher.set_defaults(func=run_hash_password)


def _settings(args: argparse.Namespace, **forced: Any) -> Settings:
    overrides = {item.name: getattr(args, item.name, None) for item in fields(Settings)}
    overrides.update(forced)
    settings = load_settings(args.conf, os.environ, overrides)
    logsetup.configure(settings, getattr(args, "log_level", "INFO"))
    return settings


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
    try:
        auth = build_authenticator(settings, default_on=True)
    except SettingsError as exc:
        print(f"elasticjob-cloud: refusing to start: {exc}", file=sys.stderr)
        return 2
    if auth is None:
        log.warning(
            "authentication is disabled (auth_enabled=false): anyone who reaches port %s may change"
            " every app and job",
            settings.http_port,
        )
    stack = start_api(settings, host=args.host, auth_default=True)
    print(
        f"elasticjob-cloud scheduler: REST API on {stack.api_url}/api (listening on {stack.rest.listening})",
        flush=True,
    )
    print(
        f"  console: {stack.api_url}/  authentication: {_auth_summary(settings, auth is not None)}",
        flush=True,
    )
    return _serve_until_signalled(stack)


def _auth_summary(settings: Settings, enabled: bool) -> str:
    if not enabled:
        return "OFF (anyone who reaches this port may change anything)"
    roles = {account.role: account.username for account in configured_accounts(settings)}
    viewer = f", viewer {roles[Role.VIEWER]!r}" if Role.VIEWER in roles else ""
    return f"on (admin {roles[Role.ADMIN]!r}{viewer})"


def _standalone_auth(settings: Settings, wanted: bool) -> tuple[Settings, bool, str]:
    """Settings with an admin account when ``--auth`` has none configured; on?; a generated password."""
    enabled = auth_switch(settings)
    enabled = wanted if enabled is None else enabled or wanted
    if not enabled:
        return settings, False, ""
    settings = settings.replace(auth_enabled="true")
    if any(account.role is Role.ADMIN for account in configured_accounts(settings)):
        return settings, True, ""
    password = secrets.token_urlsafe(12)
    return settings.replace(auth_username="admin", auth_password=password), True, password


def run_standalone(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args, zk_servers=args.zk_servers, hostname=args.hostname or "127.0.0.1")
    except SettingsError as exc:
        print(f"elasticjob-cloud: {exc}", file=sys.stderr)
        return 2
    try:
        settings, auth_on, generated = _standalone_auth(settings, args.auth)
        build_authenticator(settings, default_on=False)
    except SettingsError as exc:
        print(f"elasticjob-cloud: {exc}", file=sys.stderr)
        return 2
    work_dir = Path(args.work_dir or "work").resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    if not settings.event_trace_rdb_url:  # the embedded event trace: a SQLite file in the work dir
        settings = settings.replace(
            event_trace_rdb_url=f"sqlite:///{work_dir / 'event-trace.db'}",
            event_trace_journal=settings.event_trace_journal or str(work_dir / "event-trace.journal"),
        )
    stack = start_standalone(
        settings,
        zk_data_dir=str(work_dir / "zookeeper") if not args.zk_servers else None,
        agents=args.agents,
        work_dir=str(work_dir / "mesos"),
        host=args.host or ("0.0.0.0" if auth_on else "127.0.0.1"),
    )
    listening = stack.rest.listening
    print(
        f"elasticjob-cloud standalone: REST API on {stack.api_url}/api (listening on {listening})", flush=True
    )
    if auth_on:
        print(f"  console: {stack.api_url}/  authentication: {_auth_summary(settings, True)}", flush=True)
        if generated:
            print(f"  generated admin password (this run only): {generated}", flush=True)
    else:
        loopback = stack.rest.host.startswith("127.") or stack.rest.host == "::1"
        reach = (
            f"{listening} only" if loopback else f"{listening}: OPEN TO THE NETWORK, anyone may run scripts"
        )
        print(
            f"  console: {stack.api_url}/  authentication: OFF, listening on {reach} (--auth turns it on)",
            flush=True,
        )
        if not loopback:
            log.warning("standalone without authentication listens on %s", listening)
    print(f"  ZooKeeper: {stack.settings.zk_servers}  namespace: {stack.settings.zk_namespace}", flush=True)
    print(f"  local Mesos master: http://{stack.settings.mesos_url} ({args.agents} agents)", flush=True)
    print(f"  sandboxes under {work_dir / 'mesos'}", flush=True)
    print("  Ctrl-C stops everything.", flush=True)
    return _serve_until_signalled(stack)


def run_hash_password(args: argparse.Namespace) -> int:
    """Reads the password from stdin when piped, else asks for it twice without echo."""
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("elasticjob-cloud: the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("elasticjob-cloud: empty password", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
