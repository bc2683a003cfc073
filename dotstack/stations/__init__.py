"""Example station configurations shipped with dotstack (`mock.yaml`, `real-template.yaml`)."""

from pathlib import Path

STATIONS = Path(__file__).parent
MOCK = STATIONS / "mock.yaml"
REAL_TEMPLATE = STATIONS / "real-template.yaml"
