# mypy: allow-untyped-defs
"""SIGKILL the writer at seeded moments of its progress: every store still opens and holds
every commit.

Kill moments are chosen by what the child (``killable_writer.py``) has done, never by wall
time, so every run ends in exactly one SIGKILL at its planned place whatever the machine speed:
after the K-th point (main thread), or at a given file write of a given commit (the store's
creation, a data chunk, the root ``zarr.json`` commit marker), before that file exists or with
its temporary file written but not renamed. A ``hold`` child blocks there until killed (the
store is exactly as it was at that point: ``n_valid`` is known); a ``run`` child reports the
target and carries on, and is killed as soon as the parent reads the report.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
import xarray as xr
from killable_writer import PLAN, min_commits

from dotstack.store import RunStoreError, load

CHILD = Path(__file__).with_name("killable_writer.py")
MODES = ("grid", "append", "records")
TIMEOUT = 60.0  # s: generous bound on every wait for the child (never a pass criterion)
WORKERS = 2  # children run at once: kill moments follow progress, so load does not matter


def plan(rng: random.Random) -> list[tuple[str, str, str]]:
    """(mode, target, how) of every run (see ``killable_writer``): per mode, one kill while the
    store is being created, three after a seeded number of points, three inside a seeded commit
    (at a seeded file write: a data chunk or the root commit marker) and one at the end (inside
    close()'s final root write, or after close())."""
    runs = []
    ends = ("final:open", "final:tmp", "end")
    for m, mode in enumerate(MODES):
        total, _ = PLAN[mode]
        phase = lambda: rng.choice(["open", "tmp"])  # noqa: E731
        runs.append((mode, f"write:0:{rng.randint(1, 12)}:{phase()}", "hold"))
        for how in ("hold", "run", "run"):
            runs.append((mode, f"point:{rng.randint(1, total)}", how))
        for how in ("hold", "hold", "run"):
            step = rng.choice([1, 2, 3, 99])  # 99: the commit's root write
            runs.append((mode, f"write:{rng.randint(1, min_commits(mode))}:{step}:{phase()}", how))
        runs.append((mode, ends[m], "hold"))
    return runs


def run_and_kill(path: Path, mode: str, target: str, how: str) -> list[str]:
    """Start the child, SIGKILL it when it reports its target; return all its stdout lines."""
    err = path.with_suffix(".stderr")
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-u", str(CHILD), str(path), mode, target, how],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                text=True)
    assert proc.stdout is not None and proc.stdin is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line.strip())
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []
    report = f"{'stop' if how == 'hold' else 'go'} {target}"

    def fail(why: str) -> NoReturn:
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        pytest.fail(f"{mode} {target} {how}: {why}; stdout tail {seen[-5:]}, "
                    f"stderr: {err.read_text()[-2000:]}")

    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                fail(f"no target reported within {TIMEOUT:.0f} s (child hung?)")
            if line is None:
                fail(f"child exited (rc {proc.wait(timeout=TIMEOUT)}) before its target")
            seen.append(line)
            if line.startswith(("stop ", "go ")):
                os.kill(proc.pid, signal.SIGKILL)
                break
        if line != report:
            fail(f"reported {line!r}, planned {report!r}")
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            fail(f"child still alive {TIMEOUT:.0f} s after SIGKILL")
        reader.join(timeout=TIMEOUT)
        if reader.is_alive():
            fail("stdout not closed after the child died")
    finally:
        proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL, (mode, target, proc.returncode)
    while (line := lines.get_nowait()) is not None:  # lines printed after the report
        seen.append(line)
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_at_planned_moments(tmp_path):
    runs = plan(random.Random(20240607))
    paths = [tmp_path / f"run{i}.zarr" for i in range(len(runs))]
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    try:
        outputs = pool.map(lambda args: run_and_kill(*args),
                           [(p, *run) for p, run in zip(paths, runs, strict=True)])
        kills = check_runs(runs, paths, outputs)
    finally:
        pool.shutdown(cancel_futures=True)
    assert kills == len(runs) >= 20


def check_runs(runs: list[tuple[str, str, str]], paths: list[Path],
               outputs: Iterable[list[str]]) -> int:
    """Check every killed run's store (as the runs end, in plan order); returns the kills."""
    kills = 0
    for i, ((mode, target, how), path, lines) in enumerate(zip(runs, paths, outputs, strict=True)):
        kills += 1
        where = (i, mode, target, how, lines[-4:])
        roots = [ln.split() for ln in lines if ln.startswith("root ")]
        committed = max([int(ln.split()[1]) for ln in lines if ln.startswith("committed ")]
                        + [int(r[1]) for r in roots], default=0)
        # a held child stopped in a file write: nothing was written after its last root line
        exact = how == "hold" and target.startswith(("write:", "final:"))
        if not roots:  # killed while the store was being created: no run is visible
            assert target.startswith("write:0:"), where
            assert not (path / "zarr.json").exists(), where
            with pytest.raises(RunStoreError):
                load(path)
            continue
        ds = load(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain = xr.open_zarr(str(path))
        n = ds.attrs["n_valid"]
        assert n >= committed, (*where, n, committed)
        assert plain.attrs["n_valid"] == n, where
        if exact:
            assert [str(n), ds.attrs["status"]] == roots[-1][1:], (*where, n)
        if "closed" in lines:
            assert ds.attrs["status"] == "completed", where
        elif how == "hold":  # stopped before close() finished
            assert ds.attrs["status"] == "running", where
        else:  # the kill may land after close() committed but before "closed" was printed
            assert ds.attrs["status"] in ("running", "completed"), where
        if ds.attrs["status"] == "completed":
            assert n == ds.attrs["n_points"] or ds.attrs["n_points"] is None, where
            assert n == PLAN[mode][0], (*where, n)
        if target.startswith("point:"):
            assert n <= int(target.split(":")[1]) or how == "run", (*where, n)
        if mode == "grid":
            assert plain.I.dims == ("P1", "P2")
            flat = ds.I.values.ravel()
            np.testing.assert_array_equal(flat[:n], np.arange(n, dtype=float))
            assert np.isnan(flat[n:]).all()
        elif mode == "records":  # whole chunks written directly
            assert plain.trace.dims == ("n", "time")
            first = ds.trace.values[:, 0]
            np.testing.assert_array_equal(first[:n], np.arange(n, dtype=float))
            assert np.isnan(first[n:]).all()
        else:
            assert plain.trace.dims == ("t", "time")
            assert ds.sizes["t"] == n
            np.testing.assert_array_equal(ds.trace.values[:, 0], np.arange(n, dtype=float))
            np.testing.assert_array_equal(ds.t.values, np.arange(n) / 10)
    return kills
