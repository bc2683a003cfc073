"""A run's life outside its writer's calls: heartbeat, closing at interpreter exit, liveness.

- **Heartbeat.** The root ``zarr.json`` records the writer's ``pid``, ``host``, ``pid_start``
  (Linux: the process' start time, against pid reuse) and ``heartbeat_utc``, rewritten by every
  commit and, while no commit happens, by a background thread every ``heartbeat_s`` seconds.
- **Interpreter exit.** A writer that is never closed is closed by an exit hook: every point
  written is committed and the run is marked ``aborted`` with reason ``"not closed
  (interpreter exit)"``, once the main thread has ended and before Python stops its thread
  pools (``threading``'s exit hooks; plain ``atexit`` as a fallback); a writer last used from
  another non-daemon thread still alive is closed once that thread ends.  Open writers are
  held here until closed, so one the caller dropped without closing is not collected with its
  uncommitted points: it too is closed at exit.  (A process killed by a signal commits nothing
  more: its listing shows it dead or stale.)
- **Liveness.** ``shown_status(attrs)`` is the status a listing shows: a ``running`` run whose
  process is gone on this host is ``dead``; one whose heartbeat is older than ``STALE_FACTOR``
  heartbeats is ``stale`` (its writer may be on another host, or hung).
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dotstack.store.committer import Committer
    from dotstack.store.writer import RunWriter

EXIT_REASON = "not closed (interpreter exit)"
STALE_FACTOR = 3.0
"""A running run whose heartbeat is older than this many ``heartbeat_s`` is shown ``stale``."""

#: open writers, held until closed (a dropped writer must not take its points with it)
_OPEN: set[RunWriter] = set()
_registered = False


def proc_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, Linux), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def process_attrs(heartbeat_s: float) -> dict[str, Any]:
    """The root attributes identifying the writing process."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "pid_start": proc_start(os.getpid()),
            "heartbeat_s": heartbeat_s}


def track(writer: RunWriter) -> None:
    """Close ``writer`` at interpreter exit unless it is closed (or collected) before."""
    global _registered
    if not _registered:
        # threading's exit hooks run (last registered first) before Python stops its thread
        # pools (concurrent.futures registers there at import) and before ``atexit`` hooks:
        # the storage thread, zarr's codec threads and event loop all still work
        register = getattr(threading, "_register_atexit", atexit.register)
        try:
            register(_close_open_writers)
        except RuntimeError:  # already shutting down
            atexit.register(_close_open_writers)
        _registered = True
    _OPEN.add(writer)


def untrack(writer: RunWriter) -> None:
    _OPEN.discard(writer)


def _close_open_writers() -> None:
    me = threading.get_ident()
    for writer in list(_OPEN):
        # still writing from another non-daemon thread: let that thread end first
        user = next((t for t in threading.enumerate() if t.ident == writer.user_thread), None)
        if user is not None and user.ident != me and not user.daemon:
            user.join()
        try:
            writer.close("aborted", EXIT_REASON)
        except Exception as e:  # report and go on with the others
            import sys

            print(f"dotstack: could not close run {writer.path!r} at exit: {e}", file=sys.stderr)


class Heartbeat:
    """Touches the run's root every ``interval`` s in which nothing else rewrote it."""

    def __init__(self, store: Committer, pool: ThreadPoolExecutor, interval: float) -> None:
        self._store, self._pool, self._interval = store, pool, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dotstack-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        pending: Future[None] | None = None
        while not self._stop.wait(self._interval / 4):
            if time.monotonic() - self._store.last_root < self._interval:
                continue
            if pending is not None and not pending.done():
                continue
            try:
                pending = self._pool.submit(self._store.touch)
            except RuntimeError:  # the pool is shut down: the run is ending
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def submit(pool: ThreadPoolExecutor, fn: Callable[..., None], *args: Any) -> Future[None]:
    """``pool.submit``, or run ``fn`` in this thread once Python has stopped its thread pools
    (interpreter exit, before our ``atexit`` hook: the pools' threads have finished)."""
    try:
        return pool.submit(fn, *args)
    except RuntimeError:
        done: Future[None] = Future()
        try:
            fn(*args)
        except Exception as e:
            done.set_exception(e)
        else:
            done.set_result(None)
        return done


def _pid_gone(pid: int, start: Any) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        pass
    now = proc_start(pid)
    if now is not None and start is not None and now != str(start):
        return True  # the pid was reused
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rfind(")") + 2 :].startswith("Z")  # killed, not yet reaped
    except OSError:
        return False


def shown_status(attrs: Mapping[str, Any], now: datetime | None = None) -> str:
    """The status a listing shows: the recorded one, or ``dead``/``stale`` for a ``running``
    run whose writer is gone (see the module doc). Runs without a heartbeat: as recorded."""
    status = str(attrs.get("status", ""))
    if status != "running":
        return status
    pid, host = attrs.get("pid"), attrs.get("host")
    if isinstance(pid, int) and host == socket.gethostname() and _pid_gone(pid, attrs.get(
            "pid_start")):
        return "dead"
    beat, every = attrs.get("heartbeat_utc"), attrs.get("heartbeat_s")
    if isinstance(beat, str) and isinstance(every, int | float):
        try:
            age = ((now or datetime.now(UTC)) - datetime.fromisoformat(beat)).total_seconds()
        except ValueError:
            return status
        if age > STALE_FACTOR * float(every):
            return "stale"
    return status
