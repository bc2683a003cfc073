"""`ClockedModel`: an SCPI mock instrument that lives on its lab's clock.

Before a message is executed, whatever is due on the lab clock runs (`LabClock.catch_up`), so
an action scheduled earlier is applied before anything dated after it.  On a virtual clock a
query keeps the instrument busy for ``command_time`` before its reply reaches the client (a LAN
round trip plus parsing), so that the virtual lab time of a run is that of the real set-up.  A
write is not charged: it does not hold the client, so its time would race with the client's
next message to another instrument and make the timeline depend on thread scheduling.
"""

from __future__ import annotations

from dotstack.mocks.physics.clock import LabClock
from dotstack.mocks.scpi import ScpiModel


class ClockedModel(ScpiModel):
    """Subclasses set ``clock`` (and share its lock) in their ``__init__``."""

    clock: LabClock
    #: lab time (s) a query keeps the instrument busy on a virtual clock
    command_time: float = 0.0

    def handle(self, message: bytes) -> bytes | None:
        with self.lock:
            self.clock.catch_up()
            reply = super().handle(message)
        if reply is not None and self.command_time and self.clock.mode == "virtual":
            self.clock.sleep(self.command_time)
        return reply
