"""examples/lab_ci, a lab's own project, passes its tests with the plugin (and only with it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lab_ci"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=EXAMPLE, capture_output=True, text=True, timeout=600)


def test_the_lab_ci_example_passes() -> None:
    result = _pytest()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_its_fixtures_come_from_the_plugin_entry_point() -> None:
    result = _pytest("-p", "no:dotstack")
    assert result.returncode != 0
    assert "fixture 'mock_station' not found" in result.stdout
