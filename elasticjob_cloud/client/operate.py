"""``elasticjob-cloud operate reconcile|sandbox|health``: the leader's operations (a standby's 307
is followed to the leader by ``http.Api``)."""

from __future__ import annotations

import argparse
from typing import Any

from .commands import command, done, show
from .http import Api

SANDBOX_COLUMNS = [("HOST", lambda s: s.get("hostname")), ("PATH", lambda s: s.get("path"))]


def add_operate_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("operate", help="operations: reconcile, sandbox, health")
    group = parser.add_subparsers(dest="operate_command", required=True, metavar="ACTION")
    reconcile = command(group, "reconcile", operate_reconcile, common, "ask Mesos for every task's state")
    reconcile.add_argument("--implicit", action="store_true", help="implicit reconciliation (all tasks)")
    command(group, "sandbox", operate_sandbox, common, "an app's executor sandboxes").add_argument("app")
    command(group, "health", operate_health, common, "this instance's role, leader, ZooKeeper, Mesos")


def operate_reconcile(api: Api, args: argparse.Namespace) -> None:
    kind = "implicit" if args.implicit else "explicit"
    api.request("POST", f"/api/operate/reconcile/{kind}")
    done(args, f"{kind} reconciliation requested")


def operate_sandbox(api: Api, args: argparse.Namespace) -> None:
    show(args, api.get("/api/operate/sandbox", appName=args.app), SANDBOX_COLUMNS)


def operate_health(api: Api, args: argparse.Namespace) -> None:
    show(args, api.get("/health"))
