"""Child process for the SIGKILL test: writes a run, reports its progress, and stops at a target.

Usage: python killable_writer.py PATH MODE TARGET HOW
  MODE    grid | append | records
  TARGET  point:K        in the main thread, once K points have been written (1 <= K <= total)
          write:C:S:P    in the thread writing a file: the S-th file write of commit C (C = 0:
                         the store's creation; C >= 1: the C-th commit, which ends with its
                         root ``zarr.json`` write; S beyond the commit's data writes means its
                         root write), at phase P: ``open`` (nothing of that file written yet) or
                         ``tmp`` (its temporary file written, not yet renamed into place)
          final:P        at phase P of close()'s last write: the root ``zarr.json`` that marks
                         the run completed (close() has committed every point before it)
          end            after close() returned (the run is complete)
  HOW     hold           print "stop TARGET" and block there (the parent kills the process)
          run            print "go TARGET" and carry on (the parent kills it as soon as it reads
                         the line: the kill lands somewhere after the target)
Either way the child never exits on its own: after close() it prints "closed" and blocks
("stop end"); a blocked child exits when its stdin reaches EOF (the parent is gone).

Data: point k of the grid holds I = k; append record k holds trace = k (all samples), t = k / 10;
record k of ``records`` (280 kB each, chunks of 8: flushed as whole chunks) holds trace = k.
Lines: "created" once the writer exists, "committed N" after each explicit flush, "root N
STATUS" each time a root ``zarr.json`` has been renamed into place (N = its ``n_valid``).
Every file write of a local zarr store goes through ``zarr.storage._local._put`` (and its
``_atomic_write``: temporary file, then rename): the hooks below wrap those two functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import zarr.storage._local as zlocal

from dotstack.store import Axis, Quantity, RunWriter

# total points, and points between explicit flushes, per mode: every explicit flush commits the
# points written since the previous one, so a run makes at least ceil(total / every) commits
PLAN = {"grid": (3000, 97), "append": (1500, 23), "records": (160, 24)}


def min_commits(mode: str) -> int:
    total, every = PLAN[mode]
    return -(-total // every)


class Checkpoints:
    """Counts file writes per commit and points written; stops (or reports) at the target."""

    def __init__(self, root: str, target: str, how: str) -> None:
        self.root_doc = os.path.abspath(os.path.join(root, "zarr.json"))
        self.target, self.hold = target, how == "hold"
        kind, *args = target.split(":")
        self.point = int(args[0]) if kind == "point" else None
        self.write = (int(args[0]), int(args[1]), args[2]) if kind == "write" else None
        self.final = args[0] if kind == "final" else None
        phase = self.write[2] if self.write else self.final
        if not (self.point or kind == "end" or phase in ("open", "tmp")):
            raise SystemExit(f"bad target {target!r}")
        self.lock = threading.Lock()  # emit, counters, and at most one thread reaching the target
        self.reached = False
        self.commit, self.writes = 0, 0  # root writes done (= current commit), writes in it
        self.local = threading.local()

    def emit(self, line: str) -> None:
        with self.lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def _reach(self) -> None:
        with self.lock:
            if self.reached:
                return
            self.reached = True
        if self.hold:
            self.stop(self.target)
        self.emit(f"go {self.target}")

    def stop(self, where: str) -> None:
        """Report ``where`` and block: only the parent's SIGKILL ends the process."""
        self.emit(f"stop {where}")
        sys.stdin.buffer.read()  # the parent never writes: EOF only once it is gone
        os._exit(3)

    def points(self, k: int) -> None:
        if k == self.point:
            self._reach()

    # ---- file-write hooks -------------------------------------------------------------
    def install(self) -> None:
        put, atomic_write = zlocal._put, zlocal._atomic_write

        def hooked_put(path: Path, value: Any, exclusive: bool = False) -> int:
            is_root = os.path.abspath(path) == self.root_doc
            attrs = json.loads(value.to_bytes())["attributes"] if is_root else {}
            with self.lock:
                self.writes += 1
                self.local.step = (self.commit, self.writes, is_root,
                                   attrs.get("status", "running") != "running")
            try:
                self._at("open")
                n = put(path, value, exclusive=exclusive)
            finally:
                self.local.step = None  # a write outside _put would fail loudly in _at
            if is_root:
                with self.lock:
                    self.commit += 1
                    self.writes = 0
                self.emit(f"root {attrs['n_valid']} {attrs['status']}")
            return n

        @contextlib.contextmanager
        def hooked_atomic_write(path: Path, mode: Any, exclusive: bool = False) -> Iterator[Any]:
            with atomic_write(path, mode, exclusive=exclusive) as f:
                yield f
                self._at("tmp")

        zlocal._put = hooked_put
        zlocal._atomic_write = hooked_atomic_write

    def _at(self, phase: str) -> None:
        commit, step, is_root, is_final = self.local.step
        if self.final is not None:
            if is_final and phase == self.final:
                self._reach()
        elif self.write is not None:
            c, s, p = self.write
            if commit == c and p == phase and (step == s or (is_root and step < s)):
                self._reach()


def main(path: str, mode: str, target: str, how: str) -> None:
    for name in ("_put", "_atomic_write"):
        if not callable(getattr(zlocal, name, None)):
            raise SystemExit(f"zarr {zlocal.__name__}.{name} is gone: update the write hooks")
    cp = Checkpoints(path, target, how)
    cp.install()
    total, every = PLAN[mode]
    if mode == "grid":
        axes = [Axis("P1", "V", "plunger 1", np.arange(60.0)),
                Axis("P2", "V", "plunger 2", np.arange(50.0))]
        w = RunWriter("grid", axes, [Quantity("I", "A", "current")], path=path,
                      flush_points=40, meta={"station": {"x": list(range(1000))}})
    elif mode == "records":
        q = Quantity("trace", "V", "trace", "float32", (70_000,), ("time",))
        w = RunWriter("records", [Axis("n", "", "record", np.arange(total))], [q], path=path,
                      flush_points=8, flush_seconds=600)
    else:
        q = Quantity("trace", "V", "trace", "float32", (2000,), ("time",))
        w = RunWriter("append", [Axis("t", "s", "time", None)], [q], path=path,
                      flush_points=10, point_axes=[Axis("time", "s", "", np.arange(2000.0))])
    cp.emit("created")
    for k in range(total):
        if mode == "grid":
            w.write_point(k, I=float(k))
        elif mode == "records":
            w.write_point(k, trace=np.full(70_000, k, np.float32))
            time.sleep(0.002)  # acquisition pace: storage overlaps writing
        else:
            w.append(t=k / 10, trace=np.full(2000, k, np.float32))
        cp.points(k + 1)
        if k % every == every - 1:
            w.flush()
            cp.emit(f"committed {w.n_valid}")
    w.close()
    cp.emit("closed")
    cp.stop("end")


if __name__ == "__main__":
    main(*sys.argv[1:5])
