"""The run-policy flags of ``job register`` / ``job update`` (issue #17, ``core.policies``).

Each flag is one JSON key (``POLICY_FLAGS``, merged into ``commands.JOB_FLAGS``), so the body is
built as every other named flag's. A value that cannot be one (``--retry x``, ``--time-limit 1.5``)
is refused by argparse before any request, with the flag's name; the bounds and the rules that join
fields (DAEMON with ALLOW, unknown upstreams, cycles) stay the server's 400/404/409.

``--retry MAX[:INITIAL[:MAXBACKOFF]]`` is one flag because ``retry`` is one object that an update
replaces whole: separate flags would read as if ``--retry-max 5`` alone kept the stored backoffs,
when it would reset them. ``--clear POLICY`` (update, repeatable) sends ``null``, the API's "back
to the default"; it names the flag it undoes, and giving both is refused as contradictory.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from .bodies import BodyError

POLICY_FLAGS = {
    "priority": "priority",
    "starting_deadline": "startingDeadlineSeconds",
    "time_limit": "timeLimitSeconds",
    "concurrency": "concurrencyPolicy",
    "retry": "retry",
    "depends_on": "dependsOn",
    "dependency_policy": "dependencyPolicy",
}
CLEARABLE = [attr.replace("_", "-") for attr in POLICY_FLAGS]  # --clear's values: the flags' names
CONCURRENCY = ["FORBID", "REPLACE", "ALLOW"]
DEPENDENCY_POLICIES = ["ALL_SUCCEEDED", "ALL_DONE"]
_NUMBER = re.compile(r"\d+(\.\d+)?")


def integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an integer") from None


def seconds(text: str) -> int:
    """A positive whole number of seconds."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number of seconds (1 or more)")
    return value


def retry_spec(text: str) -> dict[str, Any]:
    """``MAX[:INITIAL[:MAXBACKOFF]]`` → ``{maxRetries, initialBackoffSeconds, maxBackoffSeconds}``
    (the backoffs the API's defaults when left out: 10 and 360 seconds)."""
    parts = text.strip().split(":")
    if len(parts) > 3 or not parts[0].isdigit() or not all(_NUMBER.fullmatch(p) for p in parts[1:]):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r}: expected MAX[:INITIAL[:MAXBACKOFF]], e.g. 3 or 3:10:360 (retries, seconds)"
        )
    spec: dict[str, Any] = {"maxRetries": int(parts[0])}
    for key, part in zip(("initialBackoffSeconds", "maxBackoffSeconds"), parts[1:], strict=False):
        spec[key] = float(part) if "." in part else int(part)
    return spec


def job_names(text: str) -> list[str]:
    """``a,b`` → ``["a", "b"]``; the names themselves are the server's to check."""
    names = [name.strip() for name in text.split(",")]
    if not any(names) or not all(names):
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r}: expected job names separated by commas (to remove them all: --clear depends-on)"
        )
    return names


def add_policy_options(parser: argparse.ArgumentParser, clearable: bool) -> None:
    policy = parser.add_argument_group("run policies (issue #17; README 'Run policies')")
    policy.add_argument("--priority", type=integer, metavar="N", help="priority: higher launches first")
    policy.add_argument(
        "--starting-deadline",
        type=seconds,
        metavar="SECONDS",
        help="startingDeadlineSeconds: drop a queued run not started within this time",
    )
    policy.add_argument(
        "--time-limit",
        type=seconds,
        metavar="SECONDS",
        help="timeLimitSeconds: kill a shard running longer (TRANSIENT)",
    )
    policy.add_argument("--concurrency", choices=CONCURRENCY, help="concurrencyPolicy (default FORBID)")
    policy.add_argument(
        "--retry",
        type=retry_spec,
        metavar="MAX[:INITIAL[:MAXBACKOFF]]",
        help="retry: a failed shard runs again up to MAX times, after INITIAL seconds (default 10) "
        "doubling up to MAXBACKOFF (default 360)",
    )
    policy.add_argument(
        "--depends-on", type=job_names, metavar="JOB[,JOB…]", help="dependsOn: the upstream jobs"
    )
    policy.add_argument(
        "--dependency-policy",
        choices=DEPENDENCY_POLICIES,
        help="dependencyPolicy: what upstream runs must have done (default ALL_SUCCEEDED)",
    )
    if clearable:
        policy.add_argument(
            "--clear",
            action="append",
            choices=CLEARABLE,
            metavar="POLICY",
            help=f"back to the default (sends null; repeatable): {', '.join(CLEARABLE)}",
        )


def cleared_keys(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    """The JSON keys ``--clear`` names; ``BodyError`` when a policy is both set and cleared."""
    keys = []
    for name in dict.fromkeys(getattr(args, "clear", None) or []):
        attr = name.replace("-", "_")
        if getattr(args, attr, None) is not None:
            raise BodyError(f"--clear {name} contradicts --{name}: give one of them")
        keys.append(flags[attr])
    return keys
