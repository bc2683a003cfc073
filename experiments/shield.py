"""Ctrl-C during a run: the first aborts it, the next ones never leave gates half-way.

`InterruptGuard` is installed for a whole run.  The first Ctrl-C raises `KeyboardInterrupt` as
usual (the run ends ``aborted``) and, in the same handler, puts the guard into *restoring* mode,
so no later press can fall between the abort and the restoring of the gates.  While restoring,
a second Ctrl-C is acknowledged and deferred; a third prints where every gate is and then lets
the interrupt through: a user can always get out, but never without being told which gates
were left where.  Outside the main thread (no signal handlers) the guard does nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TextIO

#: Ctrl-C presses (counting the one that aborted the run) before the exit is forced.
FORCE_AT = 3


class InterruptGuard:
    """SIGINT handling for one run; use as a context manager around the run and its cleanup."""

    def __init__(self, where: Callable[[], str], *, stream: TextIO | None = None) -> None:
        self.where = where
        self.stream = stream
        self.presses = 0
        self.restoring = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _say(self, text: str) -> None:
        print(text, file=self.stream if self.stream is not None else sys.stderr, flush=True)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        if not self.restoring:  # the run itself: abort it, and guard what follows
            self.restoring = True
            raise KeyboardInterrupt
        if self.presses < FORCE_AT:
            self._say("\nCtrl-C: making the gates safe first (press again to force exit)")
            return
        self._say(f"\nCtrl-C again: exiting with the gates as they are: {self.where()}")
        raise KeyboardInterrupt
