"""``elasticjob-cloud app list|show|register|update|delete|disable|enable``."""

from __future__ import annotations

import argparse
from typing import Any

from .commands import APP_COLUMNS, APP_FLAGS, action, body_options, command, lister, sender, shower


def add_app_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("app", help="apps: list, show, register, update, delete, disable, enable")
    group = parser.add_subparsers(dest="app_command", required=True, metavar="ACTION")
    command(group, "list", app_list, common, "list the apps").add_argument(
        "--names", action="store_true", help="only the names, one per line"
    )
    command(group, "show", app_show, common, "one app, with its disabled flag").add_argument("name")
    for name, handler, help_text in (
        ("register", app_register, "publish an app (from -f FILE and/or flags)"),
        ("update", app_update, "change the fields given of an app"),
    ):
        sub = command(group, name, handler, common, help_text)
        body_options(sub, "app" if name == "update" else None)
        sub.add_argument("--name", help="appName")
        sub.add_argument("--url", help="appURL (http, https or file)")
        sub.add_argument("--bootstrap-script", help="bootstrapScript")
        sub.add_argument("--cpu", type=float, help="cpuCount of the app's executor")
        sub.add_argument("--memory", type=float, help="memoryMB of the app's executor")
        sub.add_argument(
            "--cache", action=argparse.BooleanOptionalAction, default=None, help="appCacheEnable"
        )
        sub.add_argument("--event-trace-sampling-count", type=int)
    for name, handler, help_text in (
        ("delete", app_delete, "delete an app and deregister its jobs"),
        ("disable", app_disable, "disable an app (its jobs stop being scheduled)"),
        ("enable", app_enable, "enable an app"),
    ):
        command(group, name, handler, common, help_text).add_argument("name")


app_list = lister("/api/app/list", "appName", APP_COLUMNS)
app_show = shower("/api/app/{}", "/api/app/{}/disable")
app_register = sender("POST", "/api/app", APP_FLAGS, "appName", "app {} registered")
app_update = sender("PUT", "/api/app", APP_FLAGS, "appName", "app {} updated", positional=True)
app_delete = action("DELETE", "/api/app/{}", "app {} deleted")
app_disable = action("POST", "/api/app/{}/disable", "app {} disabled")
app_enable = action("POST", "/api/app/{}/enable", "app {} enabled")
