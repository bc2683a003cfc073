"""`QDac2Model`: the QDAC-II mock assembled from its command groups."""

from __future__ import annotations

from dotstack.mocks.instruments.qdac2.dc import DcOutputCommands
from dotstack.mocks.instruments.qdac2.generator import GeneratorCommands
from dotstack.mocks.instruments.qdac2.lists import ListCommands
from dotstack.mocks.instruments.qdac2.sensors import SensorCommands
from dotstack.mocks.instruments.qdac2.triggers import TriggerCommands
from dotstack.mocks.scpi import Call, command


class QDac2Model(
    DcOutputCommands, GeneratorCommands, ListCommands, TriggerCommands, SensorCommands
):
    """SCPI model of a QDevil QDAC-II; ``lab=None`` keeps state only (own monotonic clock)."""

    @command("SYSTem:COMMunicate:LAN:MAC?")
    def _mac_q(self, call: Call) -> str:
        return '"049162C0' + f"{int(self.idn[2]) & 0xFFFF:04X}" + '"'
