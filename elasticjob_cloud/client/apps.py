"""``elasticjob-cloud app list|show|register|update|delete|disable|enable``."""

from __future__ import annotations

import argparse
from typing import Any

from .commands import APP_COLUMNS, APP_FLAGS, body_options, command, done, named_body, path_part, show
from .http import Api


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


def app_list(api: Api, args: argparse.Namespace) -> None:
    apps = api.get("/api/app/list")
    if args.names:
        print("\n".join(sorted(app["appName"] for app in apps)))
    else:
        show(args, apps, APP_COLUMNS)


def app_show(api: Api, args: argparse.Namespace) -> None:
    app = api.get(f"/api/app/{path_part(args.name)}")
    app["disabled"] = api.get(f"/api/app/{path_part(args.name)}/disable")
    show(args, app)


def app_register(api: Api, args: argparse.Namespace) -> None:
    body = named_body(args, APP_FLAGS)
    api.request("POST", "/api/app", body)
    done(args, f"app {body.get('appName')} registered")


def app_update(api: Api, args: argparse.Namespace) -> None:
    body = named_body(args, APP_FLAGS, "appName")
    api.request("PUT", "/api/app", body)
    done(args, f"app {body.get('appName')} updated")


def app_delete(api: Api, args: argparse.Namespace) -> None:
    api.request("DELETE", f"/api/app/{path_part(args.name)}")
    done(args, f"app {args.name} deleted")


def app_disable(api: Api, args: argparse.Namespace) -> None:
    api.request("POST", f"/api/app/{path_part(args.name)}/disable")
    done(args, f"app {args.name} disabled")


def app_enable(api: Api, args: argparse.Namespace) -> None:
    api.request("POST", f"/api/app/{path_part(args.name)}/enable")
    done(args, f"app {args.name} enabled")
