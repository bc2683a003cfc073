# mypy: allow-untyped-defs
"""A run's life outside the writer's calls: closed at interpreter exit, heartbeat, dead runs
listed as such, a skipped point hiding nothing, reading errors naming the run and chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from dotstack.store import (
    Axis,
    Quantity,
    RunStoreError,
    RunWriter,
    format_runs,
    list_runs,
    load,
)
from dotstack.store.lifecycle import EXIT_REASON, STALE_FACTOR, shown_status
from dotstack.store.location import read_root_attrs

TIMEOUT = 60.0  # s: generous bound on waits for a child or a heartbeat (never a pass criterion)

CHILD = """
import sys
import numpy as np
from dotstack.store import Axis, Quantity, RunWriter

# 500 of 600 points: a partial chunk, written through zarr's pipeline (its codec threads)
w = RunWriter("child", [Axis("V", "V", "gate", np.arange(600.0))], [Quantity("I", "A")],
              data_dir=sys.argv[1], flush_points=10_000, flush_seconds=600)
for k in range(500):
    w.write_point(k, I=2.0 * k)
if sys.argv[2] == "dropped":  # the last reference goes, the writer never closed
    del w
    import gc
    gc.collect()
if sys.argv[2] == "hold":
    w.flush()
    print("ready", flush=True)
    sys.stdin.read()  # the parent kills us
"""  # "exit": the script ends with the writer never closed


def child(tmp_path: Path, how: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "data"), how],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("how", ["exit", "dropped"])
def test_unclosed_writer_commits_at_interpreter_exit(tmp_path, how):
    proc = child(tmp_path, how)
    _, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0
    [run] = list_runs(tmp_path / "data")
    assert (run.status, run.reason, run.n_valid) == ("aborted", EXIT_REASON, 500)
    assert run.ended
    values = load(run.path).I.values
    np.testing.assert_array_equal(values[:500], 2.0 * np.arange(500))
    assert np.isnan(values[500:]).all()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_writer_is_listed_dead(tmp_path):
    proc = child(tmp_path, "hold")
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        [run] = list_runs(tmp_path / "data")
        assert run.status == "running"  # alive: shown as recorded
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
    finally:
        proc.kill()
        proc.communicate(timeout=TIMEOUT)
    [run] = list_runs(tmp_path / "data")
    assert (run.status, run.recorded_status, run.n_valid) == ("dead", "running", 500)
    table = format_runs([run])
    assert " dead " in table and "running" not in table and run.path in table


def test_stale_heartbeat_and_runs_without_one():
    beat = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    attrs = {"status": "running", "pid": 1, "host": "elsewhere.invalid", "heartbeat_s": 10.0,
             "heartbeat_utc": beat.isoformat(timespec="milliseconds")}
    late = beat + timedelta(seconds=STALE_FACTOR * 10 + 1)
    assert shown_status(attrs, now=beat + timedelta(seconds=5)) == "running"
    assert shown_status(attrs, now=late) == "stale"
    assert shown_status({**attrs, "status": "completed"}, now=late) == "completed"
    assert shown_status({"status": "running"}, now=late) == "running"  # an older store


def test_heartbeat_rewrites_the_root_while_idle(tmp_path):
    with RunWriter("idle", [Axis("V", "V", "", np.arange(4.0))], [Quantity("I", "A")],
                   path=tmp_path / "r.zarr", heartbeat_seconds=0.05) as w:
        first = read_root_attrs(w.path)
        assert first is not None
        assert first["pid"] == os.getpid() and first["host"] and first["heartbeat_s"] == 0.05
        deadline = time.monotonic() + TIMEOUT
        while (attrs := read_root_attrs(w.path)) is not None and \
                attrs["heartbeat_utc"] == first["heartbeat_utc"]:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.02)
        w.write_block(0, I=np.ones(4))


def test_skipped_point_hides_nothing_after_it(tmp_path, axes_2d, current):
    with RunWriter("holes", axes_2d, [current], path=tmp_path / "r.zarr") as w:
        for k in range(35):
            if k not in (3, 20):
                w.write_point(k, I=float(k))
            if k == 10:
                w.flush()
                ds = load(w.path)  # while running: the points after the hole are there
                assert np.isnan(ds.I.values.ravel()[3])
                np.testing.assert_array_equal(ds.I.values.ravel()[4:11], np.arange(4.0, 11))
    ds = load(w.path)
    flat = ds.I.values.ravel()
    want = np.arange(35.0)
    want[[3, 20]] = np.nan
    np.testing.assert_array_equal(flat, want)
    assert ds.attrs["n_valid"] == 3 and ds.attrs["n_written"] == 33
    assert ds.attrs["valid"] == [[0, 3], [4, 20], [21, 35]]


def test_skipped_integer_point_and_append_rows(tmp_path):
    q = Quantity("n", "", dtype="int32")
    with RunWriter("ints", [Axis("k", "", "", np.arange(6))], [q], path=tmp_path / "i.zarr") as w:
        for k in (0, 1, 4, 5):
            w.write_point(k, n=k + 1)
    vals = load(w.path).n.values
    np.testing.assert_array_equal(vals, [1, 2, np.nan, np.nan, 5, 6])
    axes = [Axis("t", "s"), Axis("ch", "", "", np.arange(2))]
    with RunWriter("app", axes, [Quantity("x", "V")], path=tmp_path / "a.zarr") as w:
        for k in (0, 1, 4, 5):
            w.write_point(k, x=float(k), t=k // 2 / 10)
    ds = load(w.path)
    assert ds.sizes["t"] == 3
    np.testing.assert_array_equal(ds.x.values, [[0, 1], [np.nan, np.nan], [4, 5]])


def test_corrupt_chunk_error_names_run_variable_and_chunk(tmp_path):
    rec = np.arange(16, dtype=np.float32)[:, None] * np.ones(70_000, np.float32)
    q = Quantity("trace", "V", "trace", "float32", (70_000,), ("time",))  # chunks of 8 records
    with RunWriter("rec", [Axis("n", "", "record", np.arange(16))], [q],
                   path=tmp_path / "r.zarr", flush_points=8) as w:
        w.write_block(0, trace=rec)
    (tmp_path / "r.zarr" / "trace" / "c" / "1" / "0").write_bytes(b"garbage" * 10)
    ds = load(w.path)
    np.testing.assert_array_equal(ds.trace[:8].values, rec[:8])  # the good chunk still reads
    with pytest.raises(RunStoreError) as err:
        ds.trace.values  # noqa: B018
    msg = str(err.value)
    assert w.path in msg and "'trace'" in msg and "chunk trace/c/1/0" in msg


def test_listing_shows_end_duration_and_path(tmp_path, axes_2d, current):
    with RunWriter("listed", axes_2d, [current], data_dir=tmp_path) as w:
        w.write_block(0, I=np.zeros(35))
    [run] = list_runs(tmp_path)
    table = format_runs([run])
    header, line = table.splitlines()
    for column in ("ended (UTC)", "duration", "path"):
        assert column in header
    assert run.ended[:19].replace("T", " ") in line and line.endswith(w.path)
    assert "completed" in line and "35/35" in line


def test_stores_without_valid_ranges_mask_by_the_prefix(tmp_path, axes_2d, current):
    """Back-compatibility: a store written before ``valid`` existed masks from ``n_valid``."""
    import json

    with RunWriter("old", axes_2d, [current], path=tmp_path / "r.zarr") as w:
        for k in (0, 1, 2, 4):
            w.write_point(k, I=float(k))
    root = tmp_path / "r.zarr" / "zarr.json"
    doc = json.loads(root.read_text())
    for key in ("valid", "n_written", "heartbeat_utc", "heartbeat_s", "pid", "host", "pid_start"):
        del doc["attributes"][key]
    root.write_text(json.dumps(doc))
    flat = load(w.path).I.values.ravel()
    np.testing.assert_array_equal(flat[:3], [0, 1, 2])
    assert np.isnan(flat[3:]).all()


THREAD_CHILD = """
import sys
import threading
import numpy as np
from dotstack.store import Axis, Quantity, RunWriter

w = RunWriter("threaded", [Axis("V", "V", "gate", np.arange(600.0))], [Quantity("I", "A")],
              data_dir=sys.argv[1], flush_points=10_000, flush_seconds=600)

def acquire():
    w.write_point(0, I=0.0)
    sys.stdin.readline()  # the parent answers once the main thread has ended
    for k in range(1, 500):
        w.write_point(k, I=2.0 * k)

threading.Thread(target=acquire).start()
print("main done", flush=True)
"""


def test_unclosed_writer_used_by_a_live_thread_is_closed_after_it(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(THREAD_CHILD))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "main done"
    proc.communicate("go\n", timeout=TIMEOUT)
    assert proc.returncode == 0
    [run] = list_runs(tmp_path / "data")
    assert (run.status, run.reason, run.n_valid) == ("aborted", EXIT_REASON, 500)
