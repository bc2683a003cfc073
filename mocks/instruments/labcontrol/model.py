"""`LabControlModel`: SCPI access to a `VirtualLab`'s clock and ground truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from dotstack.ieee488 import format_block
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.scpi import Call, ScpiError, ScpiModel, command, format_float

_MAX_WAIT = 86_400.0  # s: one wait may let at most a day of lab time pass


class LabControlModel(ScpiModel):
    """``LAB:TIME?``, ``LAB:WAIT? <s>``, ``LAB:CLOCk?``, ``LAB:SEED?``, ``LAB:TRUTh?``.

    Waiting is a query only: the client blocks until lab time has passed, so that on a virtual
    clock nothing it sends afterwards can race with the wait."""

    idn = ("dotstack", "MockLab", "0", "1.0")

    def __init__(self, lab: VirtualLab,
                 truth: Callable[[], dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.lab = lab
        self.lock = lab.lock
        #: what ``LAB:TRUTh?`` reports (default the lab's own; the mock lab adds its time domain)
        self.truth = truth if truth is not None else lab.ground_truth

    def _wait(self, call: Call) -> None:
        call.require(1)
        call.allow(1)
        dt = call.float(0, min=0.0, max=_MAX_WAIT, unit="S")
        interrupted = getattr(self, "interrupted", None)
        if not self.lab.clock.sleep(dt, interrupted):
            raise ScpiError(-410, "Query INTERRUPTED")

    @command("LAB:TIME?")
    def _time_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self.lab.time())

    @command("LAB:WAIT?")
    def _wait_q(self, call: Call) -> str:
        """Let ``dt`` s of lab time pass (virtual: at once; realtime: really), then the time."""
        self._wait(call)
        return format_float(self.lab.time())

    @command("LAB:CLOCk?")
    def _clock_q(self, call: Call) -> str:
        call.allow(0)
        return self.lab.clock.mode

    @command("LAB:SEED?")
    def _seed_q(self, call: Call) -> str:
        call.allow(0)
        return str(self.lab.seed)

    @command("LAB:TRUTh?")
    def _truth_q(self, call: Call) -> bytes:
        """The ground truth at the present gate voltages, as JSON in a definite block."""
        call.allow(0)
        return format_block(json.dumps(self.truth(), default=_plain).encode())


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in the ground truth as JSON numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"ground truth: {type(value).__name__} is not JSON-able")
