"""Sweep overhead: µs per point that logging adds to a 1-D software sweep, ours vs QCoDeS.

Same mock instruments, in-process tier (no sockets): gate P1 is QDAC-II channel 1 reached by our
`QDac2` driver through an `InProcessTransport`; the readout is `InProcessDmm` below, a tiny
`ScpiInstrument` whose qcodes parameter ``current`` sends ``READ?`` to the mock 34465A model
(in-process) and divides by the amplifier gain.  The station (mock mode, from a YAML string)
builds both and hands the DMM an in-process transport, as it does for every `ScpiInstrument`.
Every contender does the same instrument work per point: ``gate.set(v)`` through the QDAC's
safe path (limit check, read-back, step, read-back) and one ``current.get()``.

Contenders (interleaved in the same run; each timed against the mean of the bare loops run
just before and just after it; median over the repeats):
  bare     the loop alone, no logging (the reference)
  ours     `dotstack.experiments.sweep.gate_sweep` (progress bar off) on the station, streaming
           to a zarr run store: includes creating the run (snapshot, metadata), closing it and
           moving P1 back
  qcodes   `qcodes.dataset.Measurement` on a temporary SQLite db: register P1 and the current,
           ``datasaver.add_result`` per point (P1 set through the same ``gate.set``)
Overhead per point = (t_contender - t_bare) / N.  Goal: ours <= 15 µs/point (QCoDeS ~42).
The same contenders at N=10 give the per-run cost, hence the split "ms per run + µs per point".
A last line runs both frameworks on instruments that cost nothing (a free gate and readout, and
QCoDeS parameters with trivial get/set): the framework's own overhead, with nothing to interleave.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dotstack.drivers.scpi_base import ScpiInstrument
from dotstack.experiments.sweep import SweepAxis, gate_sweep
from dotstack.station import Gate, LabStation

GOAL_US = 15.0
QCODES_REF_US = 42.0
SMALL_N = 10
Times = np.ndarray  # [wall s, CPU s of the whole process]
Contender = Callable[[np.ndarray, str], Times]


class InProcessDmm(ScpiInstrument):
    """DC readout: a 34465A's DC volts (``READ?``) over an amplifier of ``gain`` V/A, in A.

    Fills the `Readout` role (``unit``, ``read``, ``read_many``); ``current`` is the qcodes
    parameter every contender reads.
    """

    def __init__(self, name: str, address: str | None = None, *, gain: float = 1e8,
                 nplc: float = 0.02, **kwargs: Any) -> None:
        super().__init__(name, address, **kwargs)
        self.gain = float(gain)
        self.unit = "A"
        self.write(f"CONF:VOLT:DC 10;:VOLT:DC:NPLC {nplc};:TRIG:SOUR IMM;:SAMP:COUN 1")
        self.check_errors()
        self.current = self.add_parameter(
            "current", label="sensor current", unit="A",
            get_cmd="READ?", get_parser=self._to_amperes, set_cmd=False,
        )  # fmt: skip

    def _to_amperes(self, reply: str) -> float:
        return float(reply) / self.gain

    def read(self) -> float:
        return float(self.current.get())

    def read_many(self, n: int) -> np.ndarray:
        return np.array([self.read() for _ in range(n)])


def station_yaml() -> str:
    """A mock-mode station whose readout is `InProcessDmm`: both instruments in-process."""
    return f"""
instruments:
  qdac:
    type: dotstack.drivers.qdac2.QDac2
  dmm:
    type: {__name__}.InProcessDmm
    init: {{gain: 1.0e+8, nplc: 0.02}}
dotstack:
  mock: {{seed: 7}}
  gates:
    P1: {{instrument: qdac, channel: 1, limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}}
  readout:
    sensor: {{instrument: dmm}}
"""


def clock() -> Times:
    """Wall time and CPU time of the whole process (every thread), in s."""
    return np.array([time.perf_counter(), time.process_time()])


def bare(gate: Gate, meter: InProcessDmm, values: np.ndarray) -> Times:
    out = np.empty(len(values))
    t0 = clock()
    for i, v in enumerate(values):
        gate.set(float(v))
        out[i] = meter.current.get()
    return clock() - t0


def ours(station: LabStation, values: np.ndarray, data_dir: str) -> Times:
    t0 = clock()
    result = gate_sweep(station, "overhead", [SweepAxis("P1", values)], data_dir=data_dir,
                        progress=False)
    elapsed = clock() - t0
    assert result.status == "completed", result
    stored = result.load()["current"]
    assert int(stored.count()) == len(values), f"{result.path}: {int(stored.count())} points stored"
    return elapsed


def qcodes_measurement(gate: Gate, meter: InProcessDmm, values: np.ndarray, db: str) -> Times:
    from qcodes.dataset import (
        Measurement,
        initialise_or_create_database_at,
        load_or_create_experiment,
    )

    initialise_or_create_database_at(db)
    exp = load_or_create_experiment("overhead", sample_name="mock")
    p1 = gate.dac.ch01.voltage  # the QDAC channel parameter (registered, not set)
    t0 = clock()
    meas = Measurement(exp=exp, name="overhead")
    meas.register_parameter(p1)
    meas.register_parameter(meter.current, setpoints=(p1,))
    with contextlib.redirect_stdout(io.StringIO()), meas.run() as saver:  # quiet "Starting run"
        for v in values:
            volts = float(v)
            gate.set(volts)
            saver.add_result((p1, volts), (meter.current, meter.current.get()))
    elapsed = clock() - t0
    assert saver.dataset.number_of_results == len(values), saver.dataset.number_of_results
    return elapsed


def measure(contenders: dict[str, Contender], gate: Gate, values: np.ndarray, repeats: int,
            tag: str) -> dict[str, Times]:
    """Median over ``repeats`` of t_contender - mean(bare just before, bare just after), in s."""
    extra: dict[str, list[Times]] = {name: [] for name in contenders if name != "bare"}
    t_bare = [contenders["bare"](values, "")]
    for rep in range(repeats):
        for name in extra:
            gate.set(0.0)
            t = contenders[name](values, f"{tag}-{name}-{rep}")
            gate.set(0.0)
            t_bare.append(contenders["bare"](values, ""))
            extra[name].append(t - (t_bare[-2] + t_bare[-1]) / 2)
    out = {name: np.median(v, axis=0) for name, v in extra.items()}
    out["bare"] = np.median(t_bare, axis=0)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--points", type=int, default=5000, help="N of the sweep")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.points
    base = tempfile.mkdtemp(prefix="dotstack-sweep-bench-", dir=os.environ.get("BENCH_DIR"))
    load0 = os.getloadavg()[0]
    station = LabStation.from_yaml(station_yaml())
    try:
        gate = station.gate("P1")
        meter = station.readout("sensor")
        assert isinstance(meter, InProcessDmm)
        contenders: dict[str, Contender] = {
            "bare": lambda v, tag: bare(gate, meter, v),
            "ours": lambda v, tag: ours(station, v, os.path.join(base, tag)),
            "qcodes": lambda v, tag: qcodes_measurement(gate, meter, v,
                                                        os.path.join(base, tag + ".db")),
        }
        # a small sweep around 0 V: every step, and the move back to 0 V, is within max_step
        sweep = np.linspace(-0.009, 0.009, n)
        small = np.linspace(-0.009, 0.009, SMALL_N)
        measure(contenders, gate, small, 1, "warmup")  # imports, caches: not kept
        big = measure(contenders, gate, sweep, args.repeats, "big")
        per_run = measure(contenders, gate, small, 5, "small")
    finally:
        station.close()
        shutil.rmtree(base, ignore_errors=True)
    report(big, per_run, n, args.repeats, (load0, os.getloadavg()[0]))


def report(big: dict[str, Times], per_run: dict[str, Times], n: int, repeats: int,
           load: tuple[float, float]) -> None:
    names = ("ours", "qcodes")
    over = {k: big[k] / n * 1e6 for k in names}  # [wall, CPU] µs per point
    fixed_ms = {k: per_run[k][0] * 1e3 for k in names}
    marginal = {k: (big[k][0] - per_run[k][0]) / (n - SMALL_N) * 1e6 for k in names}
    wall = {k: float(over[k][0]) for k in names}
    ratio = wall["ours"] / wall["qcodes"] if wall["qcodes"] > 0 else float("nan")
    met = "met" if wall["ours"] <= GOAL_US else "NOT met"
    print(f"sweep N={n} (in-process mock QDAC-II + 34465A; bare loop {big['bare'][0] / n * 1e6:.0f} "
          f"µs/point; median of {repeats}): overhead ours (gate_sweep -> zarr) "
          f"{wall['ours']:.1f} µs/point | QCoDeS Measurement (SQLite) {wall['qcodes']:.1f} "
          f"µs/point | ratio ours/QCoDeS {ratio:.2f} | goal <= {GOAL_US:g} µs/point "
          f"(QCoDeS ~{QCODES_REF_US:g}): {met}")
    print(f"same, CPU time of the process (all threads): ours {over['ours'][1]:.1f} µs/point | "
          f"QCoDeS {over['qcodes'][1]:.1f} µs/point | ratio ours/QCoDeS "
          f"{over['ours'][1] / over['qcodes'][1]:.2f}")
    print(f"split (per-run cost from N={SMALL_N}, median of 5): ours {fixed_ms['ours']:.0f} ms "
          f"per run + {marginal['ours']:.1f} µs/point | QCoDeS {fixed_ms['qcodes']:.0f} ms per "
          f"run + {marginal['qcodes']:.1f} µs/point | load average {load[0]:.1f} -> {load[1]:.1f} "
          f"on {os.cpu_count()} CPUs")


class _Stopwatch:
    """Accumulates the time spent inside the instrument calls it wraps."""

    def __init__(self) -> None:
        self.total = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.total += time.perf_counter() - t0

        return timed


def accounted(n: int, repeats: int) -> None:
    """Overhead = wall time minus the time spent inside the instrument calls, in the same run.

    Free of the drift between separate bare loops (the mocks slow down as their histories grow),
    so it is the steadier figure on the in-process tier; each contender's instrument calls go
    through the same stopwatch wrapper.
    """
    from qcodes.dataset import Measurement, initialise_or_create_database_at, load_or_create_experiment

    base = tempfile.mkdtemp(prefix="dotstack-sweep-acct-")
    station = LabStation.from_yaml(station_yaml())
    values = np.linspace(-0.009, 0.009, n)
    gate = station.gate("P1")
    meter = station.readout("sensor")
    assert isinstance(meter, InProcessDmm)
    raw_set, raw_get = gate.set, meter.current.get
    initialise_or_create_database_at(os.path.join(base, "acct.db"))
    exp = load_or_create_experiment("acct", sample_name="mock")
    ours_us, qc_us = [], []
    try:
        for rep in range(repeats):
            watch = _Stopwatch()
            gate.set = watch.wrap(raw_set)  # type: ignore[method-assign]
            meter.read = watch.wrap(meter.read)  # type: ignore[method-assign]
            t0 = time.perf_counter()
            gate_sweep(station, "acct", [SweepAxis("P1", values)],
                       data_dir=os.path.join(base, str(rep)), progress=False)
            ours_us.append((time.perf_counter() - t0 - watch.total) / n * 1e6)
            del meter.read
            watch = _Stopwatch()
            timed_set, timed_get = watch.wrap(raw_set), watch.wrap(raw_get)
            p1 = gate.dac.ch01.voltage  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            meas = Measurement(exp=exp, name="acct")
            meas.register_parameter(p1)
            meas.register_parameter(meter.current, setpoints=(p1,))
            with contextlib.redirect_stdout(io.StringIO()), meas.run() as saver:
                for v in values:
                    volts = float(v)
                    timed_set(volts)
                    saver.add_result((p1, volts), (meter.current, timed_get()))
            qc_us.append((time.perf_counter() - t0 - watch.total) / n * 1e6)
            gate.set = raw_set  # type: ignore[method-assign]
            raw_set(0.0)
    finally:
        station.close()
        shutil.rmtree(base, ignore_errors=True)
    o, q = float(np.median(ours_us)), float(np.median(qc_us))
    met = "met" if o <= GOAL_US else "NOT met"
    print(f"in-process mocks, time outside the instrument calls, N={n} (same run; median of "
          f"{repeats}): ours {o:.1f} µs/point | QCoDeS Measurement {q:.1f} µs/point | ratio "
          f"ours/QCoDeS {o / q:.2f} | goal <= {GOAL_US:g} µs/point: {met}")


class _NullGate:
    """A gate that costs nothing: isolates the framework's own overhead."""

    def __init__(self, name: str) -> None:
        from dotstack.drivers.protocols import ChannelLimits

        self.name, self.limits, self.value = name, ChannelLimits(-1.0, 1.0), 0.0

    def set(self, volts: float) -> None:
        self.value = volts

    def get(self) -> float:
        return self.value


class _NullStation:
    """Just what `gate_sweep` asks of a station, with free gate and readout."""

    def __init__(self) -> None:
        from dotstack.station_config import StationConfig

        self.config = StationConfig.from_yaml("instruments: {}\ndotstack: {mock: true}")
        self.gates = {"P1": _NullGate("P1")}
        self.unit = "A"

    def gate(self, name: str) -> _NullGate:
        return self.gates[name]

    def readout(self, name: str | None = None) -> _NullStation:
        return self

    def read(self) -> float:
        return 1e-10

    def snapshot(self) -> dict[str, Any]:
        return {}

    def gate_values(self) -> dict[str, float]:
        return {k: g.get() for k, g in self.gates.items()}

    def ground_truth(self) -> None:
        return None


def framework_only(n: int, repeats: int) -> None:
    """Both contenders on instruments that cost nothing: the framework's overhead alone."""
    from qcodes.dataset import Measurement, initialise_or_create_database_at, load_or_create_experiment
    from qcodes.parameters import Parameter

    base = tempfile.mkdtemp(prefix="dotstack-sweep-null-")
    values = np.linspace(-0.009, 0.009, n)
    station = _NullStation()
    x = Parameter("x", set_cmd=None, initial_value=0.0)
    y = Parameter("y", get_cmd=lambda: 1e-10)
    initialise_or_create_database_at(os.path.join(base, "null.db"))
    exp = load_or_create_experiment("null", sample_name="none")
    ours_t, qc_t = [], []
    try:
        for rep in range(repeats):
            t0 = time.perf_counter()
            gate_sweep(station, "null", [SweepAxis("P1", values)],  # type: ignore[arg-type]
                       data_dir=os.path.join(base, str(rep)), progress=False)
            ours_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            meas = Measurement(exp=exp, name="null")
            meas.register_parameter(x)
            meas.register_parameter(y, setpoints=(x,))
            with contextlib.redirect_stdout(io.StringIO()), meas.run() as saver:
                for v in values:
                    x.set(float(v))
                    saver.add_result((x, float(v)), (y, y.get()))
            qc_t.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    ours_us, qc_us = np.median(ours_t) / n * 1e6, np.median(qc_t) / n * 1e6
    met = "met" if ours_us <= GOAL_US else "NOT met"
    print(f"framework only, N={n} (instruments that cost nothing; run creation and closing "
          f"included; median of {repeats}): ours {ours_us:.1f} µs/point | QCoDeS Measurement "
          f"{qc_us:.1f} µs/point | ratio ours/QCoDeS {ours_us / qc_us:.2f} | goal <= {GOAL_US:g} "
          f"µs/point: {met}")


if __name__ == "__main__":
    main()
    accounted(5000, 3)
    framework_only(5000, 3)
