"""Fault runs: one experiment on a fresh mock station with one injected fault, and its verdict.

Shared by ``tests/faults`` and ``benchmarks/fault_campaign.py``.  `run_case` builds a station
(QDAC-II + 34465A on a virtual clock, the DMM's VISA timeout 1 s), injects the fault, runs the
experiment in a worker thread under a watchdog, then heals the lab and checks what a lab would:
the error names the faulty instrument and a command, the run is ``failed`` in its store with
every point it wrote readable, and every gate is back at its start value (or the error says
which is where).
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import dotstack
from dotstack.experiments.dc import charge_stability, pinch_off, sensor_scan
from dotstack.experiments.shield import GatesNotRestored
from dotstack.experiments.sweep import RunFailed, SweepAxis, gate_sweep
from dotstack.mocks.scpi import Fault, FaultPlan
from dotstack.station import LabStation
from dotstack.store import RunWriter

STATION = """
instruments:
  qdac: {type: dotstack.drivers.qdac2.QDac2}
  dmm: {type: qcodes.instrument_drivers.Keysight.Keysight34465A, init: {timeout: 1.0}}
dotstack:
  mock: {seed: 7, clock: virtual}
  gates:
    P1:  {instrument: qdac, channel: 1, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}
    P2:  {instrument: qdac, channel: 2, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}
    S:   {instrument: qdac, channel: 6, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}
    SB1: {instrument: qdac, channel: 7, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}
    SB2: {instrument: qdac, channel: 8, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2, sees: [S, SB1, SB2, P1, P2]}
  triggers:
    qdac.trig1: dmm.ext
"""

Experiment = Callable[[LabStation, Path], Any]


def _sweep(mode: str) -> Experiment:
    def run(station: LabStation, out: Path) -> Any:
        axes = [SweepAxis.linspace("P2", -0.06, 0.06, 4), SweepAxis.linspace("P1", -0.05, 0.05, 7)]
        return gate_sweep(station, f"sweep_{mode}", axes, mode=mode, data_dir=out, progress=False,
                          set_gates={"SB1": 0.1})
    return run


#: the experiments of the campaign, on small grids
EXPERIMENTS: dict[str, Experiment] = {
    "gate_sweep_software": _sweep("software"),
    "gate_sweep_hardware": _sweep("hardware"),
    "pinch_off": lambda st, out: pinch_off(st, "SB1", points=20, data_dir=out, plot=False,
                                           progress=False),
    "sensor_scan": lambda st, out: sensor_scan(st, points=20, park=False, data_dir=out,
                                               plot=False, progress=False),
    "charge_stability": lambda st, out: charge_stability(
        st, p1=(-0.05, 0.05, 7), p2=(-0.05, 0.05, 4), data_dir=out, plot=False, progress=False),
}

#: instruments a fault is put on (the station's names are the mock lab's)
INSTRUMENTS = ("qdac", "dmm")
START = {"P1": 0.02, "P2": -0.03, "S": 0.01, "SB1": 0.05, "SB2": 0.04}  # gates before each run
WATCHDOG_S = 120.0


@dataclass
class Verdict:
    """What one faulty run did."""

    fault: Fault
    experiment: str
    fired: bool = False
    hang: bool = False
    completed: bool = False
    error: str = ""
    names_instrument_and_command: bool = False
    failed_in_store: bool = False
    data_readable: bool = False
    written: int = 0
    lost: int = 0
    gates_restored: bool = False
    gates_reported: bool = False  # not restored, and the error lists every gate's position
    gates_in_limits: bool = False
    before_run: bool = False  # the fault ended the experiment before its run was created
    cause: BaseException | None = None  # the error that ended the run
    lab_elapsed: float = 0.0  # lab time (s) the experiment took
    after_data: bool = False  # the fault fired after the run's last point (in the restore)
    notes: list[str] = field(default_factory=list)

    @property
    def gates_safe(self) -> bool:
        return self.gates_in_limits and (self.gates_restored or self.gates_reported)


class _Spy:
    """Counts `RunWriter.write_point` calls (the points a run handed to its store)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.points = 0
        self.last_t = -math.inf  # lab time of the last point
        self._clock = clock
        self._original = RunWriter.write_point

    def __enter__(self) -> _Spy:
        spy, original = self, self._original

        def write_point(writer: RunWriter, index: Any, /, **values: Any) -> None:
            original(writer, index, **values)
            spy.points += 1
            spy.last_t = spy._clock()

        RunWriter.write_point = write_point  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        RunWriter.write_point = self._original  # type: ignore[method-assign]


def station() -> LabStation:
    lab = LabStation.from_yaml(STATION)
    for name, volts in START.items():
        lab.gate(name).set(volts)
    return lab


def traffic(experiment: str, out: Path) -> dict[str, tuple[int, int]]:
    """Messages and queries each instrument gets in a fault-free run of ``experiment``."""
    with station() as lab, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.mock_lab.inject(FaultPlan())
        EXPERIMENTS[experiment](lab, out)
        return {n: (lab.mock_lab.models[n].faults.messages, lab.mock_lab.models[n].faults.queries)
                for n in INSTRUMENTS}


def run_case(fault: Fault, experiment: str, out: Path, *, watchdog: float = WATCHDOG_S) -> Verdict:
    """Run ``experiment`` with ``fault`` injected and judge the outcome."""
    v = Verdict(fault, experiment)
    lab = station()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcome["result"] = EXPERIMENTS[experiment](lab, out)
        except BaseException as exc:  # judged below
            outcome["error"] = exc

    with _Spy(lab.mock_lab.clock.now) as spy:
        lab.mock_lab.inject(fault)
        t0 = lab.time()
        worker = threading.Thread(target=target, name=f"fault-{experiment}", daemon=True)
        worker.start()
        worker.join(watchdog)
        v.written = spy.points
        v.lab_elapsed = lab.mock_lab.clock.now() - t0
    fired = lab.mock_lab.fired_faults()
    v.fired = bool(fired)
    v.after_data = bool(fired) and fired[0].lab_time is not None and fired[0].lab_time > spy.last_t
    if worker.is_alive():  # abandoned: its station is left as it is
        v.hang = True
        return v
    try:
        _judge(v, lab, outcome)
    finally:
        lab.mock_lab.inject(None)
        with contextlib.suppress(Exception):
            lab.close()
    return v


def _judge(v: Verdict, lab: LabStation, outcome: dict[str, Any]) -> None:
    error = outcome.get("error")
    if error is None:
        v.completed = True
        result = outcome["result"]
        path = result.path
    else:
        v.error = str(error)
        cause = error.cause if isinstance(error, RunFailed) else error
        v.cause = cause
        v.before_run = not isinstance(error, RunFailed) and v.written == 0
        path = error.path if isinstance(error, RunFailed) else None
        name = v.fault.instrument
        v.names_instrument_and_command = re.search(rf"\b{name}: '[^']+' -> ", str(cause)) is not None
        if path is None and not v.before_run:
            v.notes.append(f"not a RunFailed: {type(error).__name__}: {error}")
    if path is not None:
        try:
            ds = dotstack.load(path)
            n_valid = int(ds.attrs["n_valid"])
            finite = int(np.isfinite(ds["current"].values).sum())
            v.data_readable = True
            v.failed_in_store = ds.attrs["status"] == "failed"
            v.lost = max(0, v.written - min(n_valid, finite))
        except Exception as exc:
            v.notes.append(f"store: {type(exc).__name__}: {exc}")
    lab.mock_lab.inject(None)  # healed: where are the gates really?
    with contextlib.suppress(Exception):
        lab.instruments["qdac"].reconnect()
    values = lab.gate_values()
    v.gates_in_limits = all(lab.gate(g).limits.min_v <= x <= lab.gate(g).limits.max_v
                            for g, x in values.items())
    v.gates_restored = all(math.isclose(values[g], START[g], abs_tol=1e-5) for g in START)
    if not v.gates_restored and error is not None:
        cause = error.cause if isinstance(error, RunFailed) else error
        v.gates_reported = isinstance(cause, GatesNotRestored) and all(
            g in str(cause) for g, x in values.items()
            if not math.isclose(x, START[g], abs_tol=1e-5))
