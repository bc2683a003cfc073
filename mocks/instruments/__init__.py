"""Mock instrument models speaking their real SCPI command sets, wired to a `VirtualLab`."""

from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.instruments.qdac2 import QDac2Model

__all__ = ["Keysight34465AModel", "QDac2Model"]
