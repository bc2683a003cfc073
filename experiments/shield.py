"""Ctrl-C while gates are being made safe: acknowledged and deferred, never half-done.

`interrupt_shield` wraps the restoring of gates after a run ends (however it ends).  Inside it a
first Ctrl-C is acknowledged and deferred; a second one prints where every gate is (as last
set) and then lets the interrupt through, so a user can always get out, but never without being
told which gates were left where.  Outside the main thread (no signal handlers) it does nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

#: Ctrl-C presses inside a shield before the interrupt is let through.
FORCE_AFTER = 2


@contextmanager
def interrupt_shield(where: Callable[[], str], *,
                     stream: TextIO | None = None) -> Iterator[list[int]]:
    """Defer Ctrl-C while the block runs; yields a list holding the number of presses seen.

    ``where()`` describes the gates (called only if the user forces the exit).
    """
    presses = [0]
    if threading.current_thread() is not threading.main_thread():
        yield presses
        return
    out = stream if stream is not None else sys.stderr

    def handler(signum: int, frame: FrameType | None) -> None:
        presses[0] += 1
        if presses[0] < FORCE_AFTER:
            print("\nCtrl-C: making the gates safe first (press again to force exit)",
                  file=out, flush=True)
            return
        print(f"\nCtrl-C again: exiting with the gates as they are: {where()}",
              file=out, flush=True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield presses
    finally:
        signal.signal(signal.SIGINT, previous)
