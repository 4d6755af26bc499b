"""The client's subcommands on the ``elasticjob-cloud`` entry point (see ``elasticjob_cloud.cli``)."""

from __future__ import annotations

import argparse
from typing import Any

from .apps import add_app_commands
from .commands import common_options
from .completion import bash_script
from .history import add_history_commands, add_task_commands
from .jobs import add_job_commands
from .operate import add_operate_commands


def add_parser(subparsers: Any) -> None:
    common = common_options()
    add_app_commands(subparsers, common)
    add_job_commands(subparsers, common)
    add_task_commands(subparsers, common)
    add_history_commands(subparsers, common)
    add_operate_commands(subparsers, common)
    parser = subparsers.add_parser("completion", help="print a shell completion script (bash)")
    parser.add_argument("shell", choices=["bash"])
    parser.set_defaults(func=lambda args: _completion(subparsers))


def _completion(subparsers: argparse._SubParsersAction) -> int:
    print(bash_script(dict(subparsers.choices), ["--log-level", "--help"]), end="")
    return 0
