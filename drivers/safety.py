"""Instrument-independent DC safety: limit checks, move/ramp planning, list and sweep validation.

Pure functions over `ChannelLimits`; a driver calls them *before* anything is sent, so a request
outside the limits never reaches an instrument.  ``what`` names the channel in every error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dotstack.drivers.protocols import ChannelLimits, LimitError


def _slack(max_step: float) -> float:
    """``max_step`` plus float rounding (a linspace step of exactly max_step is allowed)."""
    return max_step * (1 + 1e-9) + 1e-12


@dataclass(frozen=True)
class MovePlan:
    """How to go from ``start`` to ``target``: a step (``rate`` inf) or a ramp at ``rate`` V/s."""

    start: float
    target: float
    rate: float

    @property
    def ramped(self) -> bool:
        return math.isfinite(self.rate)

    @property
    def duration_s(self) -> float:
        return abs(self.target - self.start) / self.rate if self.ramped else 0.0


@dataclass(frozen=True)
class SoftwareRamp:
    """Setpoints at most ``max_step`` apart (the last is the target), held ``dwell_s`` each."""

    setpoints: tuple[float, ...]
    dwell_s: float

    @property
    def duration_s(self) -> float:
        return len(self.setpoints) * self.dwell_s


def check_request(limits: ChannelLimits, volts: float, what: str = "channel") -> float:
    """Return ``volts`` as float if it is finite and inside ``limits``; else `LimitError`."""
    try:
        value = float(volts)
    except (TypeError, ValueError):
        raise LimitError(f"{what}: voltage {volts!r} is not a number") from None
    limits.check(value, what)
    return value


def check_rate(limits: ChannelLimits, rate: float | None, what: str = "channel") -> float:
    """The ramp rate to use: ``rate`` (default ``max_ramp_rate``), refused above the maximum."""
    if rate is None:
        return limits.max_ramp_rate
    if not rate > 0:
        raise LimitError(f"{what}: ramp rate must be > 0 V/s, got {rate}")
    if rate > limits.max_ramp_rate:
        raise LimitError(
            f"{what}: ramp rate {rate} V/s exceeds max_ramp_rate {limits.max_ramp_rate} V/s"
        )
    return float(rate)


def plan_move(
    limits: ChannelLimits,
    start: float,
    target: float,
    *,
    rate: float | None = None,
    what: str = "channel",
    fastest: float = math.inf,
) -> MovePlan:
    """Plan a move from the read-back ``start``: a step if within ``max_step``, else a ramp.

    An explicit ``rate`` (<= ``max_ramp_rate``) forces a ramp at that rate.  A move beyond
    ``max_step`` is never one step, even without a ramp-rate limit: it ramps at ``fastest``
    (the DAC's fastest slew), or, where that is unlimited too, the plan's rate stays inf and
    the driver must stair-step it (`plan_software_ramp`).
    """
    target = check_request(limits, target, what)
    if not math.isfinite(start):
        raise LimitError(f"{what}: present output {start!r} is not a finite number")
    ramp_rate = check_rate(limits, rate, what)
    if rate is None and abs(target - start) <= _slack(limits.max_step):
        return MovePlan(start, target, math.inf)
    return MovePlan(start, target, min(ramp_rate, fastest))


#: s: the longest a software ramp holds one setpoint (its steps are then at most rate x this)
SOFTWARE_RAMP_DWELL = 0.1


def plan_software_ramp(
    limits: ChannelLimits,
    start: float,
    target: float,
    *,
    rate: float | None = None,
    what: str = "channel",
    max_dwell: float = SOFTWARE_RAMP_DWELL,
) -> SoftwareRamp:
    """Setpoints for a DAC without hardware slew (or a rate below its slowest slew): steps
    <= ``max_step`` and, at a finite rate, <= ``rate * max_dwell`` (a slow ramp is a fine
    staircase, never one jump and a wait), at <= the ramp rate."""
    target = check_request(limits, target, what)
    ramp_rate = check_rate(limits, rate, what)
    distance = abs(target - start)
    if distance == 0:
        return SoftwareRamp((target,), 0.0)
    if limits.max_step == 0:
        raise LimitError(f"{what}: max_step is 0 V, the output cannot move")
    n = max(1, math.ceil(distance / limits.max_step - 1e-12))
    if math.isfinite(ramp_rate) and max_dwell > 0:
        n = max(n, math.ceil(distance / (ramp_rate * max_dwell) - 1e-12))
    # n equal steps of distance/n, each held (distance/n)/rate so the mean rate is the rate
    dwell = distance / n / ramp_rate if math.isfinite(ramp_rate) else 0.0
    points = np.linspace(start, target, n + 1)[1:]
    points[-1] = target
    return SoftwareRamp(tuple(float(p) for p in points), dwell)


def validate_list(
    limits: ChannelLimits,
    voltages: Sequence[float] | np.ndarray,
    *,
    cyclic: bool = False,
    what: str = "channel",
) -> np.ndarray:
    """Check every point against the limits and every step against ``max_step``.

    ``cyclic``: the list repeats, so the step from the last point back to the first counts.
    Returns the points as a float array.
    """
    try:
        points = np.asarray(voltages, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise LimitError(f"{what}: list voltages are not numbers") from None
    if points.size == 0:
        raise LimitError(f"{what}: empty voltage list")
    bad = np.flatnonzero(~np.isfinite(points) | (points < limits.min_v) | (points > limits.max_v))
    if bad.size:
        i = int(bad[0])
        raise LimitError(
            f"{what}: list point {i} ({points[i]!r} V) is outside the limits "
            f"[{limits.min_v:+.6g}, {limits.max_v:+.6g}] V"
        )
    steps = np.abs(np.diff(points))
    if cyclic and points.size > 1:
        steps = np.append(steps, abs(points[0] - points[-1]))
    if steps.size and steps.max() > _slack(limits.max_step):
        i = int(np.argmax(steps))
        j = (i + 1) % points.size
        raise LimitError(
            f"{what}: step {points[i]:+.6g} -> {points[j]:+.6g} V ({steps[i]:.6g} V) between "
            f"list points {i} and {j} exceeds max_step {limits.max_step} V"
        )
    return points


def sweep_points(start: float, stop: float, points: int) -> np.ndarray:
    """The voltages of a linear sweep of ``points`` points (>= 2) from ``start`` to ``stop``."""
    if points < 2:
        raise LimitError(f"a sweep needs at least 2 points, got {points}")
    return np.linspace(float(start), float(stop), int(points))


def validate_sweep(
    limits: ChannelLimits,
    start: float,
    stop: float,
    points: int,
    *,
    cyclic: bool = False,
    what: str = "channel",
) -> np.ndarray:
    """`validate_list` for a linear sweep; returns its points.

    The points are checked as an instrument computes them, ``start + (stop - start) * i / (n - 1)``,
    as well as by `sweep_points` (the two may differ in the last bit)."""
    check_request(limits, start, what)
    check_request(limits, stop, what)
    n = int(points)
    if n >= 2:
        instrument = [start + (stop - start) * i / (n - 1) for i in range(n)]
        bad = [v for v in instrument if not limits.contains(v)]
        if bad:
            raise LimitError(f"{what}: sweep point {bad[0]!r} V (as the instrument computes it) is "
                             f"outside the limits [{limits.min_v:+.6g}, {limits.max_v:+.6g}] V")
    return validate_list(limits, sweep_points(start, stop, points), cyclic=cyclic, what=what)


def intersect(
    limits: ChannelLimits, min_v: float, max_v: float, what: str = "channel"
) -> ChannelLimits:
    """``limits`` clipped to [min_v, max_v] (e.g. a smaller output range); empty is an error."""
    lo, hi = max(limits.min_v, min_v), min(limits.max_v, max_v)
    if lo > hi:
        raise LimitError(
            f"{what}: limits [{limits.min_v}, {limits.max_v}] V do not overlap [{min_v}, {max_v}] V"
        )
    return ChannelLimits(lo, hi, limits.max_ramp_rate, limits.max_step)
