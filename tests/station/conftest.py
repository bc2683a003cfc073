"""`dotstack mock-lab serve` as a lab runs it: a separate process, torn down after the test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from qcodes.instrument import Instrument

from dotstack.mocks.lab import INSTRUMENTS


@contextlib.contextmanager
def serve_lab(cwd: Path, *, clock: str, seed: int, base_port: int = 0) -> Iterator[dict[str, str]]:
    """Run the served mock lab; yields {instrument name: VISA address} as it printed them."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dotstack.cli", "mock-lab", "serve", "--base-port", str(base_port),
         "--seed", str(seed), "--clock", clock],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=cwd,  # not the source tree: its ./dotstack lacks the folder mapping
    )
    assert proc.stdout is not None
    try:
        yield dict(proc.stdout.readline().split() for _ in INSTRUMENTS)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        Instrument.close_all()


@pytest.fixture(scope="session")
def serve() -> Callable[..., contextlib.AbstractContextManager[dict[str, str]]]:
    """`serve_lab`, for tests: ``with serve(cwd, clock=..., seed=...) as addresses``."""
    return serve_lab
