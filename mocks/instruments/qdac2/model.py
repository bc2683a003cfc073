"""`QDac2Model`: the QDAC-II mock assembled from its command groups."""

from __future__ import annotations

from dotstack.mocks.instruments.qdac2.dc import DcOutputCommands
from dotstack.mocks.instruments.qdac2.generator import GeneratorCommands
from dotstack.mocks.instruments.qdac2.lists import ListCommands
from dotstack.mocks.instruments.qdac2.sensors import SensorCommands
from dotstack.mocks.instruments.qdac2.system import SystemCommands
from dotstack.mocks.instruments.qdac2.traces import TraceCommands
from dotstack.mocks.instruments.qdac2.triggers import TriggerCommands
from dotstack.mocks.instruments.qdac2.waveforms import WaveformCommands


class QDac2Model(
    DcOutputCommands,
    GeneratorCommands,
    ListCommands,
    TriggerCommands,
    SensorCommands,
    WaveformCommands,
    TraceCommands,
    SystemCommands,
):
    """SCPI model of a QDevil QDAC-II; ``lab=None`` keeps state only (own virtual clock)."""
