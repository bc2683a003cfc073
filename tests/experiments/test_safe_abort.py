"""A second Ctrl-C while gates are being restored is acknowledged and deferred, never obeyed."""

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

CHILD = Path(__file__).with_name("abort_child.py")
WAIT = 120.0  # s: generous bound on every wait (a hang fails the test)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_second_ctrl_c_during_restore_is_deferred(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out, err = follow(proc.stdout), follow(proc.stderr)
    seen_out: list[str] = []
    seen_err: list[str] = []
    try:
        for _ in range(150):  # P1 has stepped to 0.15 V: its way back takes 3 s at 0.05 V/s
            expect(out, "tick", seen_out, WAIT)
        proc.send_signal(signal.SIGINT)  # ends the sweep
        expect(err, "run ", seen_err, WAIT)  # "... ramping P1 back": the restore has begun
        proc.send_signal(signal.SIGINT)  # a second Ctrl-C, during the restore
        expect(err, "Ctrl-C: making the gates safe first", seen_err, WAIT)
        path = expect(out, "aborted ", seen_out, WAIT).split(" ", 1)[1]
        p1 = float(expect(out, "P1 ", seen_out, WAIT).split()[1])
        assert proc.wait(WAIT) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert p1 == pytest.approx(0.0, abs=1e-4)  # restored in full despite the second Ctrl-C
    attrs = dotstack.load(path).attrs
    assert attrs["status"] == "aborted" and attrs["n_valid"] >= 149  # every point read
    assert load_meta(path)["final_gate_values"]["P1"] == pytest.approx(0.0, abs=1e-4)
