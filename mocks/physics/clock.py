"""The lab clock: one timeline that every mock instrument of a lab shares.

Instruments *schedule* what they do at lab times (a QDAC-II list step, a marker pulse, the end of
a DMM integration) and *wait* in lab time; nothing runs ahead of the clock.  Two modes:

- `VirtualClock`: lab time advances only when an instrument has to wait (an integration, a
  ramp, a list, a trigger wait); nothing sleeps.  Scheduled actions run in time order (ties in
  the order they were scheduled), so the same commands give the same timeline, bit for bit.
  Before it advances, the clock lets every other instrument connection finish the messages it
  has already received (`register_activity`), so that messages a client sent to several
  instruments are all executed at the lab time they arrived, whichever server thread runs first.
- `RealtimeClock`: lab time is the wall clock (`time.monotonic` since creation).  A waiting
  instrument really waits; a dispatcher thread runs scheduled actions at their times, and
  `catch_up` runs the overdue ones before any instrument handles a message, so an action is
  always applied before anything dated after it.

Every action receives the lab time it was scheduled for and must date its effects with it
(never with `now()`), so that the physics sees each change at its lab time in both modes.

The clock's ``lock`` is the lab's lock: the mock instruments of one lab share it, and a wait
releases it while it blocks.
"""

from __future__ import annotations

import builtins
import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

log = logging.getLogger(__name__)

Action = Callable[[float], None]
#: Returns the thread idents of instrument connections that have work pending.
ActivityProbe = Callable[[], set[int]]
Interrupt = Callable[[], bool]


class ClockDeadlock(RuntimeError):
    """A virtual-clock wait that nothing scheduled (and no other client) can ever satisfy."""


@dataclass(order=True)
class Event:
    """One scheduled action (``cancel()`` it to drop it)."""

    t: float
    seq: int
    action: Action = field(compare=False)
    name: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


def _finite(t: float, what: str) -> float:
    t = float(t)
    if not math.isfinite(t):
        raise ValueError(f"{what} must be a finite time in s, got {t}")
    return t


class LabClock:
    """Base of the two clock modes: the event queue, the lab lock and the waits."""

    mode: ClassVar[str] = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._queue: list[Event] = []
        self._seq = itertools.count()
        self._probes: list[ActivityProbe] = []
        self._waiting: set[int] = set()
        self._running_events = False

    # -- time --------------------------------------------------------------------------
    def now(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self) -> float:
        return self.now()

    # -- scheduling --------------------------------------------------------------------
    def schedule(self, t: float, action: Action, name: str = "") -> Event:
        """Run ``action(t)`` at lab time ``t`` (a time already past runs at the next catch-up)."""
        ev = Event(_finite(t, "schedule: t"), next(self._seq), action, name)
        with self._cond:
            heapq.heappush(self._queue, ev)
            self._cond.notify_all()
        self._scheduled()
        return ev

    def _scheduled(self) -> None:
        """Hook: a new event was queued (the realtime clock wakes its dispatcher)."""

    def next_event_time(self) -> float:
        """Lab time of the earliest pending action (inf if none)."""
        with self.lock:
            self._drop_cancelled()
            return self._queue[0].t if self._queue else math.inf

    @property
    def pending(self) -> int:
        """Number of scheduled actions not yet run (cancelled ones excluded)."""
        with self.lock:
            return sum(not ev.cancelled for ev in self._queue)

    def _drop_cancelled(self) -> None:
        q = self._queue
        while q and q[0].cancelled:
            heapq.heappop(q)

    def _run_until(self, t: float) -> None:
        """Run every pending action dated <= ``t`` in time order (lock held)."""
        q = self._queue
        while q and q[0].t <= t:
            ev = heapq.heappop(q)
            if ev.cancelled:
                continue
            self._at_event(ev.t)
            try:
                ev.action(ev.t)
            except Exception:  # an instrument's bug must not stop the lab's timeline
                log.exception("lab clock: action %r at t=%.9g s failed", ev.name or ev.action, ev.t)
            self._cond.notify_all()

    def _at_event(self, t: float) -> None:
        """Hook: the clock is about to run an action dated ``t``."""

    def catch_up(self) -> None:
        """Run the actions that are due (realtime: overdue; virtual: none are left behind)."""
        with self.lock:
            self._run_until(self.now())

    # -- activity of other instrument connections (virtual clock) ----------------------
    def register_activity(self, probe: ActivityProbe) -> None:
        """Add a probe that names the threads with work pending (e.g. a served instrument)."""
        with self.lock:
            self._probes.append(probe)

    def unregister_activity(self, probe: ActivityProbe) -> None:
        with self.lock:
            if probe in self._probes:
                self._probes.remove(probe)

    def settle(self) -> None:
        """Let other connections finish what they have received before this one goes on."""

    # -- waiting -----------------------------------------------------------------------
    def sleep(self, dt: float, interrupt: Interrupt | None = None) -> bool:
        """Wait ``dt`` >= 0 s of lab time; False if ``interrupt()`` became true first."""
        dt = float(dt)
        if not dt >= 0 or math.isinf(dt):
            raise ValueError(f"sleep: dt must be finite and >= 0 s, got {dt}")
        return self.wait_until(self.now() + dt, interrupt)

    def advance(self, dt: float) -> float:
        """Wait ``dt`` s of lab time and return the new lab time."""
        self.sleep(dt)
        return self.now()

    def wait_until(self, t: float, interrupt: Interrupt | None = None) -> bool:
        """Wait until lab time ``t`` (actions on the way run at their times)."""
        t = _finite(t, "wait_until: t")
        return self.wait_for(lambda: False, deadline=t, interrupt=interrupt) or self.now() >= t

    def wait_for(self, predicate: Callable[[], bool], deadline: float = math.inf,
                 interrupt: Interrupt | None = None) -> bool:  # pragma: no cover - abstract
        """Wait in lab time until ``predicate()`` holds (True) or ``deadline`` passes (False)."""
        raise NotImplementedError


class VirtualClock(LabClock):
    """Lab time that moves only when an instrument waits (deterministic; nothing sleeps).

    ``idle_grace`` (wall s) is how long a wait that nothing scheduled can satisfy lets other
    clients act (e.g. a second thread sending the trigger) before it gives up; ``settle_timeout``
    bounds the wait for other connections to go idle.
    """

    mode: ClassVar[str] = "virtual"

    def __init__(self, t: float = 0.0, *, idle_grace: float = 0.5,
                 settle_timeout: float = 10.0) -> None:
        super().__init__()
        self._t = _finite(t, "VirtualClock: t")
        self.idle_grace = float(idle_grace)
        self.settle_timeout = float(settle_timeout)

    def now(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        """Move to lab time ``t`` (not backwards), running the actions on the way."""
        t = _finite(t, "VirtualClock.set: t")
        if t < self._t:
            raise ValueError(f"VirtualClock.set: cannot go back from {self._t} s to {t} s")
        self.wait_until(t)

    def _at_event(self, t: float) -> None:
        if t > self._t:
            self._t = t

    def settle(self) -> None:
        if not self._probes:
            return
        me = threading.get_ident()
        with self._cond:
            self._waiting.add(me)
            try:
                self._settle_locked(me)
            finally:
                self._waiting.discard(me)

    def _busy(self, me: int) -> builtins.set[int]:
        busy: builtins.set[int] = builtins.set()
        for probe in self._probes:
            busy |= probe()
        return busy - self._waiting - {me}

    def _settle_locked(self, me: int) -> None:
        if not self._probes:
            return
        give_up = time.monotonic() + self.settle_timeout
        while self._busy(me):
            if time.monotonic() > give_up:
                log.warning("virtual clock: connections %s stayed busy for %.1f s; going on",
                            sorted(self._busy(me)), self.settle_timeout)
                return
            self._cond.wait(0.0002)  # releases the lab lock: the busy handlers can run

    def wait_for(self, predicate: Callable[[], bool], deadline: float = math.inf,
                 interrupt: Interrupt | None = None) -> bool:
        me = threading.get_ident()
        with self._cond:
            self._waiting.add(me)
            try:
                self._settle_locked(me)
                while True:
                    if predicate():
                        return True
                    if interrupt is not None and interrupt():
                        return False
                    self._drop_cancelled()
                    if self._queue and self._queue[0].t <= deadline:
                        self._run_until(self._queue[0].t)
                        continue
                    if math.isfinite(deadline):
                        self._t = max(self._t, deadline)
                        self._cond.notify_all()
                        return predicate()
                    # nothing scheduled can satisfy the wait: give other clients a moment
                    stamp = (len(self._queue), self._t)
                    self._cond.wait(self.idle_grace)
                    if (len(self._queue), self._t) == stamp and not predicate():
                        raise ClockDeadlock("waiting for an event that nothing has scheduled")
            finally:
                self._waiting.discard(me)


#: Tests and scripts that drive lab time by hand (``clock.advance(dt)``).
ManualClock = VirtualClock


class RealtimeClock(LabClock):
    """Lab time is the wall clock (seconds of `time.monotonic` since creation)."""

    mode: ClassVar[str] = "realtime"

    #: How often a wait with an ``interrupt`` looks at it (s).
    poll: ClassVar[float] = 0.02

    def __init__(self) -> None:
        super().__init__()
        self._origin = time.monotonic()
        self._dispatcher: threading.Thread | None = None
        self._closed = False

    def now(self) -> float:
        return time.monotonic() - self._origin

    def _scheduled(self) -> None:
        if self._dispatcher is None and not self._closed:
            with self.lock:
                if self._dispatcher is None:
                    self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                                        name="lab-clock")
                    self._dispatcher.start()

    def _dispatch(self) -> None:
        with self._cond:
            while not self._closed:
                self._run_until(self.now())
                self._drop_cancelled()
                head = self._queue[0].t if self._queue else math.inf
                self._cond.wait(min(max(head - self.now(), 0.0), 1.0))

    def close(self) -> None:
        """Stop the dispatcher thread (pending actions are dropped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], deadline: float = math.inf,
                 interrupt: Interrupt | None = None) -> bool:
        with self._cond:
            while True:
                self._run_until(self.now())
                if predicate():
                    return True
                now = self.now()
                if now >= deadline:
                    return False
                if interrupt is not None and interrupt():
                    return False
                self._drop_cancelled()
                head = self._queue[0].t if self._queue else math.inf
                timeout = min(deadline, head) - now
                if interrupt is not None:
                    timeout = min(timeout, self.poll)
                self._cond.wait(min(max(timeout, 0.0), 1.0))


#: Kept for code that wants a plain wall clock.
MonotonicClock = RealtimeClock


def make_clock(mode: str) -> LabClock:
    """A new clock of ``mode`` ("virtual" or "realtime")."""
    if mode == "virtual":
        return VirtualClock()
    if mode == "realtime":
        return RealtimeClock()
    raise ValueError(f"clock mode must be 'virtual' or 'realtime', got {mode!r}")
