"""Every audit action the code records has a translatable label for the activity page."""

import re
from pathlib import Path

from portal.audit import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
RECORDED = re.compile(r'audit\.record\(\s*"([a-z0-9_.]+)"')


def test_every_recorded_action_has_a_label():
    used = set()
    for path in ROOT.glob("*/**/*.py"):
        if {".venv", "tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        used |= set(RECORDED.findall(path.read_text()))
    assert used, "the scan found no audit.record call"
    assert not used - ACTIONS.keys(), f"actions without a label in portal/audit.py: {sorted(used - ACTIONS.keys())}"
