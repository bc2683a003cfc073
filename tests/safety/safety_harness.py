"""Safety fuzz harness (issue 10 point 3): random gate requests and AWG programs against the mocks.

Imported by name by ``tests/safety/test_safety_fuzz.py`` and ``benchmarks/safety_fuzz.py`` (the
folder is not a package).  Every output a mock is asked for is recorded where it reaches the
instrument model, and checked against the limits the caller set:

* DAC: `QDac2` over `InProcessTransport` on a `VirtualLab`.  The model's ``_drive`` (the one
  place the QDAC-II mock moves an output and tells the lab) is wrapped: every level it drives to
  must lie within the channel's limits, a step (infinite slew) may not exceed ``max_step``, and
  a larger move must be a slew at <= ``max_ramp_rate``.  The uploaded list points
  (``model.ch[n].list_v``) and sweep ends are checked when uploaded, and the lab's output
  history (``lab._outputs``) is cross-checked at the end.
* AWG: `AWG5208` on its mock.  `prepare` either refuses, with not one waveform byte received,
  or every sample of every waveform an enabled channel's sequence track plays, scaled as the
  mock scales it (amplitude, offset, DAC resolution), lies within the channel's limits.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from dotstack.drivers.awg5208 import AWG5208
from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.drivers.qdac2 import QDac2
from dotstack.drivers.transport import InProcessTransport
from dotstack.mocks.instruments import QDac2Model
from dotstack.mocks.instruments.awg5208 import AWG5208Model
from dotstack.mocks.physics import VirtualClock, VirtualLab
from dotstack.sequencer import AWG5208 as AWG5208_LIMITS
from dotstack.sequencer import (
    AwgTarget,
    Hold,
    Program,
    Ramp,
    SequenceTable,
    WaveStore,
    compile_schedule,
    par,
    seq,
)

_ids = itertools.count()
#: what a refused request may raise (anything else is a bug of its own, but not a safety hole)
REFUSALS = (LimitError, ValueError, TypeError, KeyError, OverflowError, RuntimeError)


def _slack(max_step: float) -> float:
    return max_step * (1 + 1e-9) + 1e-12


@dataclass
class Counts:
    requests: int = 0
    refused: int = 0
    reached: int = 0  # requests that went through (something reached the instrument)
    outputs: int = 0  # levels, list points and sweep ends the mock was asked for
    violations: list[str] = field(default_factory=list)

    def line(self, what: str) -> str:
        return (
            f"{what}: requests {self.requests}, refused {self.refused}, reached the "
            f"instrument {self.reached}, outputs checked {self.outputs}, "
            f"outside limits {len(self.violations)}"
        )


# ==================================================================================== DAC
CHANNELS = (1, 2, 3, 4)


class DacRig:
    """A QDAC-II driver on its mock, every output the mock drives checked as it happens.

    ``command_time``: lab time each query keeps the mock busy (0: commands take no lab time).
    """

    def __init__(self, seed: int = 1, command_time: float = 0.0, known_holes: bool = True) -> None:
        self.known_holes = known_holes
        self.clock = VirtualClock()
        self.lab = VirtualLab(seed=seed, clock=self.clock)
        self.model = QDac2Model(self.lab, name="qdac")
        self.model.command_time = command_time
        name = f"qdac_safety_{next(_ids)}"
        self.qdac = QDac2(name, transport=InProcessTransport(self.model, name=name), sleep=self.clock.advance)
        self.counts = Counts()
        #: the limits the caller set, per channel (what every output is checked against)
        self.limits = {n: self.qdac.limits(n) for n in self.qdac.channels}
        #: the widest limits each channel ever had (for the lab-history cross-check)
        self.envelope = {n: (lim.min_v, lim.max_v) for n, lim in self.limits.items()}
        self.generators: list[Any] = []
        #: per channel: the last generator set up on it, and whether the limits changed since
        self.latest: dict[int, Any] = {}
        self.request = ""
        drive = self.model._drive

        def recorded(c: Any, volts: float, t: float, slew: float) -> None:
            self._check_drive(c.n, c.output(t), volts, slew)
            drive(c, volts, t, slew)

        self.model._drive = recorded  # type: ignore[method-assign]
        handle = self.model.handle

        def handled(message: bytes) -> bytes | None:
            reply = handle(message)
            self._check_uploads(message)
            return reply

        self.model.handle = handled  # type: ignore[method-assign]

    def close(self) -> None:
        self.qdac.close()

    # ------------------------------------------------------------------ checks
    def _violation(self, text: str) -> None:
        self.counts.violations.append(f"{text}  [request: {self.request}]")

    def _check_drive(self, n: int, start: float, volts: float, slew: float) -> None:
        self.counts.outputs += 1
        lim = self.limits[n]
        if not (math.isfinite(volts) and lim.contains(volts)):
            self._violation(f"ch{n:02} driven to {volts!r} V, outside [{lim.min_v}, {lim.max_v}]")
        if math.isinf(slew):
            if abs(volts - start) > _slack(lim.max_step):
                self._violation(
                    f"ch{n:02} stepped {start!r} -> {volts!r} V "
                    f"({abs(volts - start):.9g} V > max_step {lim.max_step})"
                )
        elif slew > lim.max_ramp_rate * (1 + 1e-9):
            self._violation(
                f"ch{n:02} slewed {start!r} -> {volts!r} V at {slew} V/s > max_ramp_rate {lim.max_ramp_rate}"
            )

    def _check_uploads(self, message: bytes) -> None:
        """After a list or sweep setting reached the mock: what it holds is within limits."""
        head = message[:200].lower()
        for n in CHANNELS:
            c, lim = self.model.ch[n], self.limits[n]
            if f"sour{n}:list:volt".encode() in head:
                for v in c.list_v:
                    self.counts.outputs += 1
                    if not lim.contains(v):
                        self._violation(f"ch{n:02} list point {v!r} V uploaded")
            if f"sour{n}:swe:".encode() in head and c.mode == "swe":
                for v in (c.swe_start, c.swe_stop):
                    self.counts.outputs += 1
                    if not lim.contains(v):
                        self._violation(f"ch{n:02} sweep end {v!r} V programmed")

    def check_history(self) -> None:
        """Every level the lab's output history holds lies within the widest limits in force."""
        for (inst, n), out in self.lab._outputs.items():
            if inst != "qdac" or n not in self.envelope:
                continue
            lo, hi = self.envelope[n]
            for v in [out.initial, *out._v0, *out._v1]:
                if not lo <= v <= hi:
                    self._violation(f"lab history ch{n:02}: {v!r} V outside [{lo}, {hi}]")

    # ------------------------------------------------------------------ requests
    def run(self, what: str, fn: Callable[[], Any]) -> Any:
        """One request: counted, refused or reached."""
        self.request = what
        self.counts.requests += 1
        try:
            out = fn()
        except REFUSALS:
            self.counts.refused += 1
            return None
        self.counts.reached += 1
        return out

    def set_limits(self, n: int, lim: ChannelLimits) -> None:
        present = self.qdac.limits(n)
        try:
            self.qdac.set_limits(n, lim)
        except LimitError:
            return
        self.latest.pop(n, None)
        if not (
            present.min_v <= lim.min_v
            and lim.max_v <= present.max_v
            and lim.max_step <= present.max_step
            and lim.max_ramp_rate <= present.max_ramp_rate
        ):
            self._violation(f"ch{n:02}: set_limits widened {present} to {lim}")
        self.limits[n] = lim


def _hostile_volts(r: random.Random, lim: ChannelLimits) -> Any:
    k = r.random()
    if k < 0.55:  # mostly inside, near the edges too
        lo, hi = lim.min_v, lim.max_v
        v = r.choice([r.uniform(lo, hi), lo, hi, r.uniform(lo, lo + 1e-6), r.uniform(hi - 1e-6, hi)])
        return r.choice([v, v, np.float64(v), np.float32(v)])  # (float32 may round outside)
    if k < 0.8:  # just or well outside
        return r.choice(
            [
                lim.max_v + r.choice([1e-12, 1e-6, 0.01, 1.0]),
                lim.min_v - r.choice([1e-12, 1e-6, 0.01, 1.0]),
                r.uniform(-12, 12),
                1e308,
                -1e308,
                np.float32(3e38),
                10.0,
                -10.0,
            ]
        )
    return r.choice(
        [
            math.nan,
            math.inf,
            -math.inf,
            np.nan,
            np.float64(np.inf),
            True,
            False,
            "0.1",
            "nan",
            "inf",
            "1e400",
            "abc",
            None,
            1j,
            [0.1],
            (0.1,),
            Decimal("0.1"),
            np.array([0.1]),
            np.array(0.05),
            object(),
            {"v": 0.1},
            b"0.1",
        ]
    )


def _hostile_channel(r: random.Random) -> Any:
    if r.random() < 0.9:
        return r.choice(CHANNELS)
    return r.choice([0, 25, -1, 99, True, False, "1", 1.0, 2.5, np.int64(2), None, math.nan])


def _random_limits(r: random.Random, known_holes: bool = True) -> ChannelLimits:
    lo = r.choice([-2.0, -1.0, -0.5, r.uniform(-2, 0)])
    hi = r.choice([2.0, 1.0, 0.5, r.uniform(0, 2)])
    step = r.choice([math.inf, 0.5, 0.1, r.uniform(0.02, 0.5)])
    rate = r.choice([math.inf, 1000.0, 50.0, r.uniform(5, 500)])
    if not known_holes and math.isfinite(step) and math.isinf(rate):
        rate = 1000.0  # known hole: an infinite max_ramp_rate makes set_voltage ignore max_step
    return ChannelLimits(lo, hi, rate, step)


def _inside(v: Any, lim: ChannelLimits) -> Any:
    """``v`` moved 1e-9 V inside the limits if it is a number within 1e-9 V of one of them."""
    if isinstance(v, float | np.floating) and math.isfinite(v):
        if lim.max_v - 1e-9 < v <= lim.max_v:
            return lim.max_v - 1e-9
        if lim.min_v <= v < lim.min_v + 1e-9:
            return lim.min_v + 1e-9
    return v


def _list_values(r: random.Random, lim: ChannelLimits) -> Any:
    n = r.randint(1, 40)
    step = lim.max_step if math.isfinite(lim.max_step) else 0.3
    v0 = r.uniform(lim.min_v, lim.max_v)
    steps = [r.uniform(-step, step) * r.choice([1.0, 1.0, 1.0, 1.001, 2.0]) for _ in range(n - 1)]
    vals = list(np.clip(v0 + np.cumsum([0.0, *steps]), lim.min_v - 0.01, lim.max_v + 0.01))
    if r.random() < 0.15:
        vals[r.randrange(n)] = _hostile_volts(r, lim)
        return vals
    if r.random() < 0.3:
        return vals
    return np.asarray(vals, dtype=object) if r.random() < 0.2 else np.asarray(vals, dtype=float)


def dac_request(rig: DacRig, r: random.Random) -> None:
    """One random request on ``rig`` through a public path that moves (or sets up) an output."""
    q = rig.qdac
    n = _hostile_channel(r)
    lim = rig.limits[n] if n in rig.limits and not isinstance(n, bool) else rig.limits[1]
    kind = r.choices(
        ["set", "param", "ramp", "chramp", "list", "sweep", "stale", "limits", "reset_limits", "advance"],
        weights=[25, 10, 10, 5, 14, 12, 8, 8, 1, 7],
    )[0]
    v = _hostile_volts(r, lim)
    rate = r.choice(
        [
            None,
            None,
            lim.max_ramp_rate,
            lim.max_ramp_rate * 2,
            r.uniform(1, 100),
            0.0,
            -1.0,
            math.nan,
            math.inf,
            "fast",
            True,
        ]
    )
    if kind == "set":
        rig.run(f"set_voltage({n!r}, {v!r})", lambda: q.set_voltage(n, v))
    elif kind == "param":
        rig.run(f"ch{n!r}.voltage({v!r})", lambda: q.submodules[f"ch{int(n):02}"].voltage(v))
    elif kind == "ramp":
        rig.run(f"ramp({n!r}, {v!r}, {rate!r})", lambda: q.ramp(n, v, rate))
    elif kind == "chramp":
        rig.run(f"ch{n!r}.ramp({v!r}, {rate!r})", lambda: q.submodules[f"ch{int(n):02}"].ramp(v, rate))
    elif kind in ("list", "sweep"):
        reps = r.choice([1, 1, 2, 3, -1, 0, -2, 1.5, True])
        dwell = r.choice([1e-6, 1e-5, 1e-4, 1e-3, 0.0, math.nan, -1.0])
        if reps == -1 and dwell > 0:  # forever: slow enough that lab time stays cheap to run
            dwell = r.choice([1e-3, 1e-2])
        trig = r.choice(["immediate", "immediate", "bus", 3, "bogus"])
        back = r.random() < 0.3
        if kind == "list":
            vals = _list_values(r, lim)
            what = (
                f"dc_list({n!r}, {list(vals)!r}, {dwell}, repetitions={reps!r}, trigger={trig!r}, "
                f"backwards={back})"
            )
            gen = rig.run(
                what, lambda: q.dc_list(n, vals, dwell, repetitions=reps, trigger=trig, backwards=back)
            )
        else:
            a, b = _hostile_volts(r, lim), _hostile_volts(r, lim)
            if not rig.known_holes:  # known hole: the instrument's own sweep arithmetic,
                # a + (b - a) * i / (n - 1), can land 1 ulp beyond an end at the limit
                a, b = (_inside(x, lim) for x in (a, b))
            pts = r.choice([2, 5, 20, 100, 1, 0, 2.5, True, r.randint(2, 300)])
            what = (
                f"dc_sweep({n!r}, {a!r}, {b!r}, {pts!r}, {dwell}, repetitions={reps!r}, "
                f"trigger={trig!r}, backwards={back})"
            )
            gen = rig.run(
                what, lambda: q.dc_sweep(n, a, b, pts, dwell, repetitions=reps, trigger=trig, backwards=back)
            )
        if gen is not None:
            rig.generators.append(gen)
            rig.latest[gen.channel] = gen
            if r.random() < 0.8:
                rig.run(f"start after {what}", gen.start)
                if gen.source != "imm" and r.random() < 0.5:
                    rig.run(f"fire after {what}", gen.fire)
    elif kind == "stale" and rig.generators:
        # known hole: `DcGenerator.start` plays whatever list/sweep the channel holds *now*,
        # checked against the limits of when the generator was set up; without known holes,
        # only the last generator set up on a channel, under unchanged limits, is restarted
        # (aborted first: `start` reads the output, then INITs, racing a running generator)
        pool = rig.generators if rig.known_holes else list(rig.latest.values())
        if not pool:
            return
        gen = r.choice(pool)
        if not rig.known_holes:  # known hole: restarting a generator that may still be running
            rig.run("abort before restarting", gen.abort)
        rig.run(f"start a stale generator ch{gen.channel} {gen.kind} {list(gen.values[:4])}..", gen.start)
        if gen.source != "imm":
            rig.run("fire a stale generator", gen.fire)
    elif kind == "limits" and n in rig.limits and not isinstance(n, bool):
        new = (
            _random_limits(r, rig.known_holes)
            if r.random() < 0.5
            else ChannelLimits(
                r.uniform(lim.min_v, (lim.min_v + lim.max_v) / 2),
                r.uniform((lim.min_v + lim.max_v) / 2, lim.max_v),
                lim.max_ramp_rate * r.choice([1.0, 0.5]),
                lim.max_step * r.choice([1.0, 0.5]),
            )
        )
        rig.request = f"set_limits({n}, {new})"
        for gen in [g for g in rig.generators if g.channel == n][-1:]:
            gen.abort()  # a running list keeps playing what it was given: stop it first
        rig.set_limits(int(n), new)
    elif kind == "reset_limits" and n in rig.limits and not isinstance(n, bool):
        rig.request = f"reset_limits({n})"
        q.reset_limits(int(n))
        rig.limits[int(n)] = q.limits(int(n))
    rig.clock.advance(r.choice([0.0, 0.0, 1e-5, 1e-3, 0.02]))


def dac_session(seed: int, requests: int, command_time: float = 0.0, known_holes: bool = True) -> Counts:
    """``requests`` random DAC requests on a fresh rig seeded ``seed``; returns the counts.

    ``known_holes`` False leaves out the request patterns of the holes already known (restarting
    a stale generator), so that the rest is checked on its own."""
    r = random.Random(seed)
    rig = DacRig(seed=seed, command_time=command_time, known_holes=known_holes)
    try:
        for n in CHANNELS:
            rig.set_limits(n, _random_limits(r, known_holes))
        while rig.counts.requests < requests:
            dac_request(rig, r)
        for gen in {g.channel: g for g in rig.generators}.values():
            gen.abort()  # (per channel: whatever generator the channel runs)
        rig.clock.advance(1.0)  # let whatever still runs finish
        rig.check_history()
    finally:
        rig.close()
    return rig.counts


# ==================================================================================== AWG
AWG_LIM = AWG5208_LIMITS.with_(sample_rate=1e9)  # min length 2400 samples


class AwgRig:
    """An AWG5208 driver on its mock; after each `prepare`, what the mock would play is checked."""

    def __init__(self, seed: int = 1) -> None:
        self.clock = VirtualClock()
        self.lab = VirtualLab(seed=seed, clock=self.clock)
        self.model = AWG5208Model(self.lab, name="awg")
        name = f"awg_safety_{next(_ids)}"
        self.awg = AWG5208(
            name, transport=InProcessTransport(self.model, name=name), sleep=self.clock.advance
        )
        self.counts = Counts()
        self.limits = {n: self.awg.channel_limits(n) for n in self.awg.channels}
        self.request = ""

    def close(self) -> None:
        self.awg.close()

    def _data_blocks(self) -> int:
        return int(self.model.counts.get("WLISt:WAVeform:DATA", 0))

    def prepare(self, program: Program, what: str) -> None:
        self.request = what
        self.counts.requests += 1
        before = self._data_blocks()
        try:
            self.awg.prepare(program)
        except LimitError:
            self.counts.refused += 1
            if self._data_blocks() != before:
                self.counts.violations.append(f"refused but waveform data was sent: {what}")
            return
        self.counts.reached += 1
        self.check_playable()

    def check_playable(self) -> None:
        """Every sample each enabled channel's sequence track plays, as the mock scales it."""
        m = self.model
        for n, ch in m.channels.items():
            if not ch.output or ch.asset is None:
                continue
            kind, name, track = ch.asset
            steps = m.sequences[name].steps if kind == "SEQ" else []
            names = [s.assets[track - 1] for s in steps] if kind == "SEQ" else [name]
            lim = self.limits[n]
            for w in {x for x in names if x}:
                out = ch.scale(m.waveforms[w].samples)
                self.counts.outputs += out.size
                lo, hi = float(out.min()), float(out.max())
                if not (lim.min_v <= lo and hi <= lim.max_v):
                    self.counts.violations.append(
                        f"ch{n} plays [{lo!r}, {hi!r}] V (amplitude {ch.amplitude}, offset "
                        f"{ch.offset}, {ch.resolution} bits), limits [{lim.min_v}, {lim.max_v}]: "
                        f"{self.request}"
                    )


def _level(r: random.Random, lo: float, hi: float) -> float:
    k = r.random()
    if k < 0.6:
        return r.uniform(lo, hi)
    if k < 0.8:
        return r.choice([lo, hi])
    return r.uniform(lo - 0.3, hi + 0.3)  # beyond the limits, sometimes beyond the instrument


def random_program(r: random.Random, limits: dict[int, ChannelLimits]) -> tuple[Program, str]:
    """A small random schedule (holds and ramps per channel) compiled by the sequencer, or (one
    in ten) a hand-built float32 program with hostile samples."""
    chans = r.sample(["1", "2", "3"], r.randint(1, 3))
    if r.random() < 0.1:
        data = np.full(2400, _level(r, -0.75, 0.75), np.float32)
        if r.random() < 0.5:
            data[r.randrange(2400)] = r.choice([math.nan, math.inf, -math.inf, 0.76, 5.0])
        ch = tuple(chans)
        table = SequenceTable(
            ch,
            np.zeros((1, len(ch)), np.int64),
            np.ones(1, np.int64),
            np.zeros(1, bool),
            np.full(1, -1),
            np.full(1, -1),
        )
        prog = Program(
            "awg",
            AWG_LIM,
            ch,
            "float32",
            WaveStore.from_arrays([data]),
            table,
            (),
            np.array([0, 2400], np.int64),
        )
        return prog, f"hand program on {ch}: {data.min()!r}..{data.max()!r} V"
    lanes = {}
    for c in chans:
        lim = limits[int(c)]
        parts = []
        for _ in range(r.randint(1, 4)):
            dur = r.choice([1e-6, 2e-6, 3e-6, 5e-6])
            if r.random() < 0.5:
                parts.append(Hold(dur, _level(r, lim.min_v, lim.max_v)))
            else:
                parts.append(Ramp(dur, _level(r, lim.min_v, lim.max_v), _level(r, lim.min_v, lim.max_v)))
        lanes[c] = seq(*parts) if len(parts) > 1 else parts[0]
    schedule = par(**lanes)
    prog = compile_schedule(schedule, [AwgTarget("awg", AWG_LIM, tuple(chans))]).programs["awg"]
    return prog, f"schedule {schedule!r}"[:400]


def awg_session(seed: int, programs: int) -> Counts:
    """``programs`` random programs (limits and scaling changed now and then) on a fresh rig."""
    r = random.Random(seed)
    rig = AwgRig(seed=seed)
    try:
        while rig.counts.requests < programs:
            if r.random() < 0.3:
                n = r.choice([1, 2, 3])
                lo, hi = sorted((r.uniform(-0.75, 0.75), r.uniform(-0.75, 0.75)))
                try:
                    rig.awg.set_channel_limits(n, lo, hi)
                    rig.limits[n] = rig.awg.channel_limits(n)
                except LimitError:
                    pass
            if r.random() < 0.15:
                n = r.choice([1, 2, 3])
                amp = r.choice([None, None, 1.5, 1.0, 0.5, r.uniform(0.025, 1.5)])
                rig.awg.set_channel_scaling(n, amp, r.choice([0.0, 0.0, r.uniform(-0.3, 0.3)]))
            try:
                prog, what = random_program(r, rig.limits)
            except REFUSALS:  # the sequencer refused the schedule itself (nothing to send)
                continue
            rig.prepare(prog, what)
    finally:
        rig.close()
    return rig.counts
