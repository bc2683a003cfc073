"""`Keysight34465AModel`: the 34465A mock assembled from its command groups."""

from __future__ import annotations

from dotstack.mocks.instruments.keysight34465a.readings import ReadingCommands
from dotstack.mocks.instruments.keysight34465a.sense import SenseCommands
from dotstack.mocks.instruments.keysight34465a.system import SystemCommands
from dotstack.mocks.instruments.keysight34465a.trigger import TriggerCommands


class Keysight34465AModel(ReadingCommands, SenseCommands, TriggerCommands, SystemCommands):
    """SCPI model of a Keysight 34465A (firmware A.03) whose DC-volt input reads a TIA.

    Constructor arguments: see `DmmBase`.
    """
