"""Lab clocks: callables returning lab time in seconds."""

from __future__ import annotations

import math
import threading
import time


class MonotonicClock:
    """Seconds of `time.monotonic` since the clock was created."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self._origin


class ManualClock:
    """A clock that moves only when told to: deterministic lab time for tests."""

    def __init__(self, t: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._t = self._check(t)

    @staticmethod
    def _check(t: float) -> float:
        if not math.isfinite(t):
            raise ValueError(f"ManualClock: time must be finite, got {t}")
        return float(t)

    def __call__(self) -> float:
        with self._lock:
            return self._t

    def advance(self, dt: float) -> float:
        """Move forward by ``dt`` >= 0 seconds; returns the new time."""
        if not dt >= 0:
            raise ValueError(f"ManualClock.advance: dt must be >= 0 s, got {dt}")
        with self._lock:
            self._t = self._check(self._t + dt)
            return self._t

    def set(self, t: float) -> None:
        """Jump to lab time ``t`` (s)."""
        with self._lock:
            self._t = self._check(t)
