"""`AWG5208Model`: the AWG5208 mock assembled from its command groups."""

from __future__ import annotations

from dotstack.mocks.instruments.awg5208.channels import ChannelCommands
from dotstack.mocks.instruments.awg5208.lists import ListCommands
from dotstack.mocks.instruments.awg5208.system import SystemCommands


class AWG5208Model(ListCommands, ChannelCommands, SystemCommands):
    """SCPI model of a Tektronix AWG5208 on the lab clock; ``lab=None``: its own virtual clock."""
