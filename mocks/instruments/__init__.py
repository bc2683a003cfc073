"""Mock instrument models speaking their real SCPI command sets, wired to a `VirtualLab`."""

from dotstack.mocks.instruments.qdac2 import QDac2Model

__all__ = ["QDac2Model"]
