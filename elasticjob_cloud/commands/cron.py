"""``elasticjob-cloud cron "EXPR"``: print the next fire times, one ISO-8601 per line."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ..exceptions import InvalidConfig
from ..lifecycle import parse_after, parse_count, preview_fire_times
from ..settings import machine_time_zone


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("cron", help="preview the next fire times of a cron expression")
    parser.add_argument("expression", help='Quartz ("0/5 * * * * ?") or Unix ("*/5 * * * *") cron')
    parser.add_argument("--count", default="10", help="how many fire times (default 10, at most 1000)")
    parser.add_argument("--after", default=None, help="ISO-8601 start (default now)")
    parser.add_argument("--time-zone", default=None, help="IANA zone (default this machine's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = preview_fire_times(
            args.expression,
            args.time_zone or machine_time_zone(),
            parse_after(args.after, datetime.now(UTC)),
            parse_count(args.count),
        )
    except InvalidConfig as exc:
        print(f"elasticjob-cloud cron: {exc.message}", file=sys.stderr)
        return 2
    print("\n".join(result["next"]))
    return 0
