"""Fixtures of the fault campaign: the example app packed once (its URL is the jobs' ``appURL``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def campaign_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("campaign-app")
    out = subprocess.run([str(EXAMPLES / "pack.sh"), str(dest)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())
