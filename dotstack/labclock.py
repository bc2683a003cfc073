"""The station's view of lab time: how a lab script waits, on hardware or on the mock lab.

On hardware, lab time is the wall clock.  On the mock lab it is the lab's own clock: with a
*virtual* clock a script's ``time.sleep`` would let no lab time pass, so everything that waits
(settling times, our drivers' ramp polling) goes through `LabTime.sleep` instead, which asks the
lab to let that much lab time pass.  `LocalLab` wraps an in-process `MockLab`; `RemoteLab` talks
to the control channel of a served one (``dotstack mock-lab serve``) over PyVISA.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Protocol


class LabTime(Protocol):
    """Lab time as a lab script sees it."""

    mode: str  # "wall" (hardware), "virtual" or "realtime" (mock lab)

    def now(self) -> float: ...

    def sleep(self, dt: float) -> None: ...

    def ground_truth(self) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


def _check_dt(dt: float) -> float:
    dt = float(dt)
    if not (dt >= 0 and math.isfinite(dt)):
        raise ValueError(f"sleep: dt must be finite and >= 0 s, got {dt}")
    return dt


class WallTime:
    """Hardware: the wall clock, `time.sleep`, no ground truth."""

    mode = "wall"

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin

    def sleep(self, dt: float) -> None:
        time.sleep(_check_dt(dt))

    def ground_truth(self) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass


class LocalLab:
    """An in-process mock lab (anything with ``.lab`` a `VirtualLab` and ``ground_truth()``)."""

    def __init__(self, mock_lab: Any) -> None:
        self.mock_lab = mock_lab
        self.mode: str = mock_lab.lab.clock.mode

    def now(self) -> float:
        return float(self.mock_lab.lab.time())

    def sleep(self, dt: float) -> None:
        self.mock_lab.lab.clock.sleep(_check_dt(dt))

    def ground_truth(self) -> dict[str, Any] | None:
        return dict(self.mock_lab.ground_truth())

    def close(self) -> None:
        self.mock_lab.close()


class RemoteLab:
    """The control channel of a served mock lab (``LAB:TIME?``, ``LAB:WAIT?``, ``LAB:TRUTh?``)."""

    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        from dotstack.drivers.transport import VisaTransport

        self.address = address
        self._visa = VisaTransport(address, name="mock lab", timeout=timeout)
        idn = self._visa.query("*IDN?").strip()
        if not idn.startswith("dotstack,MockLab"):
            self.close()
            raise ConnectionError(f"{address} is not a dotstack mock lab (*IDN? said {idn!r})")
        self.mode = self._visa.query("LAB:CLOC?").strip()

    def now(self) -> float:
        return float(self._visa.query("LAB:TIME?"))

    def sleep(self, dt: float) -> None:
        dt = _check_dt(dt)
        if self.mode == "realtime":  # the served lab's clock is the wall clock too
            time.sleep(dt)
            return
        self._visa.query(f"LAB:WAIT? {dt!r}")

    def ground_truth(self) -> dict[str, Any] | None:
        return dict(json.loads(self._visa.query_block("LAB:TRUT?")))

    def close(self) -> None:
        self._visa.close()
