"""``elasticjob-cloud``: one entry point, one subcommand per job.

Subcommands that live with their subsystem expose ``add_parser(subparsers)``, which registers a
parser whose ``func`` default takes the parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

SUBCOMMAND_MODULES = (
    "elasticjob_cloud.commands.server",
    "elasticjob_cloud.commands.cron",
    "elasticjob_cloud.localmesos.cli",
    "elasticjob_cloud.executor.local",
    "elasticjob_cloud.client.cli",
    "elasticjob_cloud.commands.backup",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="elasticjob-cloud", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .logsetup import configure

    configure(None, args.log_level, unless_configured=True)  # the scheduler then applies its settings
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
