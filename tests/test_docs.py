"""The docs keep up with the code: every setting is in the configuration reference, described."""

import subprocess
import sys
from pathlib import Path

from wagtail_kollus.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_reference_lists_and_describes_every_setting():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name in DEFAULTS:
        rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
        assert rows, f"{name} is missing from docs/configuration.md (run scripts/settings_reference.py)"
        assert not rows[0].rstrip().endswith("|  |"), f"{name} has no description in conf.py"


def test_configuration_reference_is_up_to_date(tmp_path):
    doc = ROOT / "docs" / "configuration.md"
    before = doc.read_text()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_reference.py")], check=True)
    after = doc.read_text()
    doc.write_text(before)
    assert after == before, "docs/configuration.md is stale: run scripts/settings_reference.py"
