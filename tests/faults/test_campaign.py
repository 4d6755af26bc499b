"""The short fault campaign (the long one is ``benchmarks/nemesis.py``): at least ten faults, each
kind at least once, against real processes; nothing lost, doubled or overlapping, every API answer
honoured, DAEMON shards back, every cron job running again within seconds of each scheduler fault.

``NEMESIS_SEED`` replays a run (the seed is printed and part of every failure message).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.faults.campaign import Campaign

pytestmark = pytest.mark.slow

FAULTS = 10
# seconds: session timeout 4 s + election + reconciliation (at most 10 s) + a fire; the long run
# saw up to 28.2 s after a leader was killed (R1 in README, "The fault campaign")
RESUME_BOUND = 35.0


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
    context = f"seed {seed}: {json.dumps(report)}\n{json.dumps(details, indent=1, default=str)[:6000]}"
    assert report["faults"] >= FAULTS, context
    # losses and doubles explained by known defects K1 and D1 of other areas (README, "The fault
    # campaign") are reported, not failed on here; benchmarks/nemesis.py fails on them
    lost = report["lost"] - report["lost_known_defect"]
    doubled = report["doubled"] - report["doubled_known_defect"]
    assert (lost, doubled, report["overlapping"]) == (0, 0, 0), context
    assert report["daemon_overlapping"] == 0, context
    assert report["api_violations"] == 0, context
    assert report["resume_seconds_max"] <= RESUME_BOUND, context
