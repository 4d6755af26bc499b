"""The long fault campaign: at least 100 faults against real processes, then the checker's verdict.

Same harness as the short campaign of the test suite (``tests/faults/campaign.py``): a private
ZooKeeper, two scheduler processes, the local Mesos with three agents and real executors; a seeded
nemesis (SIGKILL / SIGSTOP of the leader, ZooKeeper paused 15 s or restarted, an agent removed, an
executor killed, the Mesos master restarted with an agent that never comes back) and a writer issuing
API writes during the faults. Prints one JSON report (faults,
executions checked, lost, doubled, overlapping, API answers and violations, the longest time a job
took to run again after a scheduler fault, how often the ALLOW jobs' runs overlapped) and writes
the details next to the run's files.

    .venv/bin/python benchmarks/nemesis.py [--faults 100] [--seed N] [--work DIR]

Replay a run with its printed ``--seed`` (the order and kinds of faults and API writes repeat; the
moments they hit depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.campaign import Campaign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--work", type=Path, default=None, help="where the run's files go (default: a temp dir)"
    )
    parser.add_argument("--gap", type=float, nargs=2, default=(2.0, 5.0), help="seconds between faults")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kazoo").setLevel(logging.ERROR)
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000
    work = args.work or Path(tempfile.mkdtemp(prefix="nemesis-"))
    print(f"nemesis seed {seed}, files in {work}", file=sys.stderr)
    packed = subprocess.run(
        [str(ROOT / "examples" / "pack.sh"), str(work / "app")], check=True, capture_output=True, text=True
    )
    campaign = Campaign(seed, args.faults, work / "campaign", Path(packed.stdout.strip()))
    started = time.time()
    try:
        campaign.start()
        campaign.observe()
        time.sleep(4.0)
        campaign.run(gap=tuple(args.gap))
        campaign.settle()
        stopped = campaign.quiesce()
        campaign.daemons_back()
        report, details = campaign.verdict(stopped)
    finally:
        campaign.stop()
    report["seconds"] = round(time.time() - started)
    (work / "details.json").write_text(json.dumps(details, indent=1, default=str))
    print(json.dumps(report, indent=1))
    found = (
        report["lost"],
        report["doubled"],
        report["overlapping"],
        report["api_violations"],
        report["unrecorded"],
    )
    clean = found == (0, 0, 0, 0, 0) and not report["allow_records_left"]
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
