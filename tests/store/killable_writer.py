"""Child process for the SIGKILL test: writes a run and reports each commit on stdout.

Usage: python killable_writer.py PATH MODE   (MODE: grid | append | records)
Point k of the grid holds I = k; append record k holds trace = k (all samples), t = k / 10;
record k of ``records`` (280 kB each, chunks of 8: flushed as whole chunks) holds trace = k.
Prints "created" once the store exists, then "committed N" after each explicit flush.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dotstack.store import Axis, Quantity, RunWriter


def main(path: str, mode: str) -> None:
    print("start", flush=True)
    if mode == "grid":
        axes = [Axis("P1", "V", "plunger 1", np.arange(60.0)),
                Axis("P2", "V", "plunger 2", np.arange(50.0))]
        w = RunWriter("grid", axes, [Quantity("I", "A", "current")], path=path,
                      flush_points=40, meta={"station": {"x": list(range(1000))}})
        print("created", flush=True)
        for k in range(3000):
            w.write_point(k, I=float(k))
            if k % 97 == 96:
                w.flush()
                print(f"committed {w.n_valid}", flush=True)
    elif mode == "records":
        q = Quantity("trace", "V", "trace", "float32", (70_000,), ("time",))
        w = RunWriter("records", [Axis("n", "", "record", np.arange(160))], [q], path=path,
                      flush_points=8, flush_seconds=600)
        print("created", flush=True)
        for k in range(160):
            w.write_point(k, trace=np.full(70_000, k, np.float32))
            time.sleep(0.002)
            if k % 24 == 23:
                w.flush()
                print(f"committed {w.n_valid}", flush=True)
    else:
        q = Quantity("trace", "V", "trace", "float32", (2000,), ("time",))
        w = RunWriter("append", [Axis("t", "s", "time", None)], [q], path=path,
                      flush_points=10, point_axes=[Axis("time", "s", "", np.arange(2000.0))])
        print("created", flush=True)
        for k in range(1500):
            w.append(t=k / 10, trace=np.full(2000, k, np.float32))
            if k % 23 == 22:
                w.flush()
                print(f"committed {w.n_valid}", flush=True)
    w.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
