"""`QDacBase`: the QDAC-II mock's state, lab clock, channel addressing and output drive."""

from __future__ import annotations

import math
from collections import deque

from dotstack.mocks.instruments.clocked import ClockedModel
from dotstack.mocks.instruments.qdac2.limits import N_EXTERNAL_OUTPUTS, RANGES
from dotstack.mocks.instruments.qdac2.state import Channel, OutputTrigger
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.physics.clock import LabClock, VirtualClock
from dotstack.mocks.scpi import Call, ScpiError


class QDacBase(ClockedModel):
    """State and plumbing shared by every part of the QDAC-II model (no SCPI commands)."""

    idn = ("QDevil", "QDAC-II", "00042", "13-1.57")
    max_message_bytes = 2 << 20  # lists of 65536 points: 256 KiB as float32, ~1.2 MB as text

    def __init__(
        self, lab: VirtualLab | None = None, *, name: str = "qdac", channels: int = 24
    ) -> None:
        super().__init__()
        self.lab = lab
        self.name = name
        self.n_channels = channels
        self.log: deque[str] = deque(maxlen=1000)  # the last messages received
        #: the lab's clock (its own virtual clock without a lab); the lab's lock is ours
        self.clock: LabClock = lab.clock if lab is not None else VirtualClock()
        self.lock = self.clock.lock
        #: lab time one message keeps the instrument busy on a virtual clock (s)
        self.command_time = 0.0
        self.ch: dict[int, Channel] = {}
        self.out_triggers: dict[int, OutputTrigger] = {}
        self._init_state()

    def _init_state(self) -> None:
        self.ch = {n: Channel(n) for n in range(1, self.n_channels + 1)}
        self.out_triggers = {n: OutputTrigger() for n in range(1, N_EXTERNAL_OUTPUTS + 1)}

    def now(self) -> float:
        """Lab time (s)."""
        return self.clock.now()

    def reset(self) -> None:
        """*RST: every channel back to its defaults; moved outputs step to 0 V."""
        with self.lock:
            t = self.now()
            moved = [c for c in self.ch.values() if c.output(t) != 0.0]
            self._init_state()
            for c in self.ch.values():
                c.t0 = t
            for c in moved:
                self._drive(self.ch[c.n], 0.0, t, math.inf)
            super().reset()

    def _drive(self, c: Channel, volts: float, t: float, slew: float) -> None:
        """Move ``c`` from its present output to ``volts`` at ``slew`` and tell the lab."""
        c.v0, c.t0, c.v1, c.rate = c.output(t), t, volts, slew
        if self.lab is not None:
            self.lab.set_output(self.name, c.n, volts, slew=slew, t=t)

    def _chan(self, call: Call, i: int = 0) -> Channel:
        """The channel the header's numeric suffix ``i`` names (-114 if none)."""
        return self.ch[call.suffix(i, min=1, max=self.n_channels)]

    def _targets(self, call: Call, arg: int) -> list[Channel]:
        """Channels a command addresses: an explicit channel list argument, else the suffix."""
        if call.nargs > arg and isinstance(call.args[arg], str) and "(@" in str(call.args[arg]):
            chans = call.channels(arg)
            bad = [n for n in chans if n not in self.ch]
            if bad:
                raise ScpiError(-222, "Data out of range", f"channel(s) {bad}")
            return [self.ch[n] for n in chans]
        return [self._chan(call)]

    def _volts(self, call: Call, i: int, c: Channel) -> float:
        """Parameter ``i`` as volts within the range of ``c`` (-222 outside)."""
        lim = RANGES[c.range]
        return call.float(i, min=-lim, max=lim, unit="V")
