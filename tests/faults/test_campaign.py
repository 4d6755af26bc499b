"""The short fault campaign (the long one is ``benchmarks/nemesis.py``): at least ten faults, each
kind at least once, against real processes; nothing lost, doubled or overlapping (jobs with
``concurrencyPolicy`` ALLOW: their runs overlap, each run's shards once), every API answer
honoured, DAEMON shards back, every cron job running again within seconds of each scheduler fault.

``NEMESIS_SEED`` replays a run (the seed is printed and part of every failure message).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.faults.campaign import Campaign
from tests.faults.jobs import AGENT_REREGISTER, GRACE

pytestmark = pytest.mark.slow

FAULTS = 10
# seconds from a fault's end: the rest of the 4 s session timeout + election and subscription
# (~0.3 s) + reconciliation (answers in ms, at most RECONCILE_WAIT 3 s) + the next cron instant (3 s)
RESUME_BOUND = 12.0
# a job whose task was on the agent that never came back waits for the master to give up on it
# (AGENT_REREGISTER) and the unreachable grace period, then its next instant
MASTER_RESUME_BOUND = AGENT_REREGISTER + GRACE + 3.0 + 4.0


@pytest.mark.timeout(420)
def test_short_campaign(tmp_path, campaign_app):
    seed = int(os.environ.get("NEMESIS_SEED") or time.time_ns() % 1_000_000)
    print(f"nemesis seed {seed}")
    campaign = Campaign(seed, FAULTS, tmp_path / "campaign", campaign_app)
    try:
        campaign.start()
        campaign.observe()
        time.sleep(4.0)
        campaign.run(gap=(2.0, 4.0))
        campaign.settle()
        stopped = campaign.quiesce()
        campaign.daemons_back()
        report, details = campaign.verdict(stopped)
    finally:
        campaign.stop()
    print(json.dumps(report, indent=1))
    # the whole evidence next to the executions log and the schedulers' logs (a failure message
    # carries only the first part of the details)
    (tmp_path / "campaign" / "verdict.json").write_text(
        json.dumps({"report": report, "details": details}, indent=1, default=str)
    )
    context = f"seed {seed} (evidence in {tmp_path / 'campaign'}): {json.dumps(report)}\n{json.dumps(details, indent=1, default=str)[:6000]}"
    assert report["faults"] >= FAULTS, context
    # an agent that dies under two overlapping runs' tasks of one shard (ALLOW) re-runs both: the
    # second's failover entry is queued beside the first's, none is folded into it
    assert (report["lost"], report["doubled"], report["overlapping"]) == (0, 0, 0), context
    assert report["lost_to_one_entry_per_shard"] == 0, context
    assert report["daemon_overlapping"] == 0, context
    # the jobs whose runs may overlap: each execution in a run the scheduler recorded, none left
    # recorded as running at the end, and their runs did overlap
    assert (report["unrecorded"], report["allow_records_left"]) == (0, []), context
    assert report["allow_runs_overlapping"] > 0, context
    assert report["api_violations"] == 0, context
    assert report["resume_seconds_max"] <= RESUME_BOUND, context
    assert report["resume_after_master_restart_max"] <= MASTER_RESUME_BOUND, context
