"""Ctrl-C (a real SIGINT) ends endless video mode cleanly: AWG stopped, DC gates back, the run
``aborted`` with every frame it took.  Driven by the child's progress (frames), not wall time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from childproc import expect, follow

import dotstack
from dotstack.store import load_meta

CHILD = Path(__file__).with_name("video_abort_child.py")
WAIT = 180.0  # s: generous bound on every wait (a hang fails the test)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_endless_video_mode_cleanly(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = follow(proc.stdout)
    follow(proc.stderr)  # drained, so the child never blocks on a full pipe
    seen: list[str] = []
    try:
        expect(out, "frame 4", seen, WAIT)
        proc.send_signal(signal.SIGINT)
        path = expect(out, "aborted ", seen, WAIT).split(" ", 1)[1]
        awg = expect(out, "awg ", seen, WAIT).split()[1]
        gates = expect(out, "P1 ", seen, WAIT).split()
        assert proc.wait(WAIT) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert awg == "stopped"
    assert float(gates[1]) == pytest.approx(0.0, abs=1e-6)  # DC levels back where they were
    assert float(gates[3]) == pytest.approx(0.0, abs=1e-6)
    ds = dotstack.load(path)
    frames = sum(1 for line in seen if line.startswith("frame "))
    assert ds.attrs["status"] == "aborted"
    assert ds.sizes["frame"] >= frames >= 5  # every frame reported was stored
    assert load_meta(path)["final_gate_values"]["P2"] == pytest.approx(0.0, abs=1e-6)
