"""The device along a stretch of lab time, on intervals: gates, equilibrium, tunnel rates, charge.

`simulate` builds the interval grid of [t_a, t1): the breakpoints of every AWG-driven gate's
played stream (run lengths of its samples, shifted by the line delay), any extra edges asked for
(sample bins), and a point every ``max_step``.  On each interval every AWG-driven gate holds one
AWG level, so its bias-T output is an exact exponential (`lowpass_pwl`): the gate takes its
interval average, plus the DAC level at the interval's midpoint (exact for the DAC's linear
ramps).  The dots' equilibrium and tunnel rates follow per interval, and the ensemble-mean
occupation relaxes exactly (`charge.relax`).  Nothing here is per sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics import model
from dotstack.mocks.physics.params import GATES, DeviceParams
from dotstack.mocks.physics.timedomain.charge import relax
from dotstack.mocks.physics.timedomain.params import LineModel, Settings, TunnelRates
from dotstack.mocks.physics.timedomain.segments import Piece, Runs, lowpass_pwl, runs_from_pieces

if TYPE_CHECKING:
    from dotstack.mocks.physics.lab import VirtualLab

Array = NDArray[np.float64]
#: The AWG's hook: ``(channel, t0, t1) -> [(lab start time, samples (V), sample rate), ...]``.
ChannelSegments = Callable[[Any, float, float], Sequence[Piece]]
_EDGE_TOL = 1e-13  # s: breakpoints closer than this merge


@dataclass(frozen=True)
class Drive:
    """An AWG-driven gate: the AWG's hook, its channel and the line to the gate."""

    source: ChannelSegments
    channel: Any
    line: LineModel

    def runs(self, t_lo: float, t_hi: float) -> Runs:
        """The AWG level as seen at the gate's end of the line (delay applied) on [t_lo, t_hi)."""
        delay = self.line.delay
        pieces = self.source(self.channel, t_lo - delay, t_hi - delay)
        return runs_from_pieces(pieces, t_lo - delay, t_hi - delay).shifted(delay)


@dataclass(frozen=True)
class Trace:
    """The device on the intervals of ``edges`` (K + 1 lab times): interval-average gate
    voltages, the dots' charge-noise shifts (eV), equilibrium occupations, tunnel rates (Hz) and
    the ensemble-mean occupations at the edges and averaged over each interval."""

    edges: Array
    gates: dict[str, Array]
    dot_shift: tuple[Array, Array] | None
    induced: tuple[Array, Array]
    n_eq: tuple[Array, Array]
    rates: tuple[Array, Array]
    occupation: tuple[Array, Array]
    occupation_mean: tuple[Array, Array]
    #: each AWG-driven gate's bias-T low-pass state at the trace's end
    bias_end: dict[str, float] = field(default_factory=dict)

    @property
    def midpoints(self) -> Array:
        return np.asarray(0.5 * (self.edges[:-1] + self.edges[1:]))


def merge_edges(parts: Sequence[Array], lo: float, hi: float) -> Array:
    """Sorted breakpoints in [lo, hi] from ``parts`` (clipped), lo and hi included, points
    closer than 0.1 ps merged."""
    pts = np.concatenate([np.array([lo, hi]), *[p[(p > lo) & (p < hi)] for p in parts]])
    pts = np.unique(pts)
    keep = np.ones(pts.size, dtype=bool)
    keep[1:] = np.diff(pts) > _EDGE_TOL
    keep[-1] = True
    pts = pts[keep]
    if pts.size > 2 and pts[-1] - pts[-2] <= _EDGE_TOL:
        pts = np.delete(pts, -2)
    return np.asarray(pts)


def bias_tee_state(drive: Drive, runs: Runs, t_a: float) -> float:
    """Low-pass state of the bias-T at ``t_a`` from the runs before it (held before they start)."""
    tau = drive.line.bias_tee_time_constant
    if math.isinf(tau):
        return 0.0
    t_h = float(runs.starts[0])
    if t_h >= t_a:
        return float(runs.at(np.array([t_a]))[0])
    inner = runs.starts[(runs.starts > t_h) & (runs.starts < t_a)]
    edges = np.concatenate([[t_h], inner, [t_a]])
    x = runs.at(0.5 * (edges[:-1] + edges[1:]))
    return float(lowpass_pwl(edges, x, tau, float(x[0])).y[-1])


def advance_bias_tee(drive: Drive, t_from: float, y_from: float, t_to: float) -> float:
    """Low-pass state of the bias-T at ``t_to`` from its state ``y_from`` at ``t_from``."""
    tau = drive.line.bias_tee_time_constant
    if math.isinf(tau) or t_to <= t_from:
        return y_from if t_to <= t_from else 0.0
    runs = drive.runs(t_from, t_to)
    inner = runs.starts[(runs.starts > t_from) & (runs.starts < t_to)]
    edges = np.concatenate([[t_from], inner, [t_to]])
    x = runs.at(0.5 * (edges[:-1] + edges[1:]))
    return float(lowpass_pwl(edges, x, tau, y_from).y[-1])


def simulate(lab: VirtualLab, device: DeviceParams, drives: Mapping[str, Drive], tunnel: TunnelRates,
             settings: Settings, t_a: float, t1: float, extra: Array | None = None,
             bias_states: Mapping[str, float] | None = None) -> Trace:
    """The device on [t_a, t1) (see the module docstring); the charge starts in equilibrium.
    ``bias_states``: the bias-T low-pass states at ``t_a`` where known (else they are folded in
    from ``settings.bias_tee_history`` time constants of AWG history)."""
    parts: list[Array] = [] if extra is None else [np.asarray(extra, dtype=float)]
    runs: dict[str, Runs] = {}
    states: dict[str, float] = {}
    known = bias_states or {}
    for gate, drive in drives.items():
        if gate in known:
            r = drive.runs(t_a, t1)
            states[gate] = float(known[gate])
        else:
            tau = drive.line.bias_tee_time_constant
            history = 0.0 if math.isinf(tau) else settings.bias_tee_history * tau
            r = drive.runs(t_a - history, t1)
            states[gate] = bias_tee_state(drive, r, t_a)
        runs[gate] = r
        parts.append(r.starts)
    steps = math.ceil((t1 - t_a) / settings.max_step)
    if steps > 1:
        parts.append(np.asarray(t_a + np.arange(1, steps) * ((t1 - t_a) / steps), dtype=float))
    edges = merge_edges(parts, t_a, t1)
    mid = 0.5 * (edges[:-1] + edges[1:])
    gates = {g: np.asarray(v, dtype=float) for g, v in lab.gate_voltages_at(mid).items()}
    bias_end: dict[str, float] = {}
    for gate, drive in drives.items():
        x = runs[gate].at(mid)
        lp = lowpass_pwl(edges, x, drive.line.bias_tee_time_constant, states[gate])
        bias_end[gate] = float(lp.y[-1])
        gates[gate] = gates[gate] + drive.line.gain * (x - lp.mean)
    shift = _dot_noise(lab, settings, edges, mid)
    state = model.dot_state(device, gates, shift)
    full = {g: np.broadcast_to(gates.get(g, 0.0), mid.shape) for g in GATES}
    n_eq = (np.broadcast_to(state.n1, mid.shape), np.broadcast_to(state.n2, mid.shape))
    rates = tunnel.rates(device, full)
    rates = (np.broadcast_to(rates[0], mid.shape), np.broadcast_to(rates[1], mid.shape))
    occ1, avg1 = relax(edges, n_eq[0], rates[0], float(n_eq[0][0]))
    occ2, avg2 = relax(edges, n_eq[1], rates[1], float(n_eq[1][0]))
    induced = (np.broadcast_to(state.induced1, mid.shape), np.broadcast_to(state.induced2, mid.shape))
    return Trace(edges=edges, gates=gates, dot_shift=shift, induced=induced, n_eq=n_eq,
                 rates=rates, occupation=(occ1, occ2), occupation_mean=(avg1, avg2),
                 bias_end=bias_end)


#: Fractions of an occupation's initial distance from equilibrium at which a relaxing interval
#: is split: every 5 %, then 2 %, 1 %, 0.1 %.
_RELAX_FRACTIONS = np.concatenate([1.0 - np.arange(1, 20) / 20.0, [0.02, 0.01, 1e-3]])


def relaxation_edges(tr: Trace, tolerance: float = 1e-3) -> Array:
    """Split points of the intervals on which a dot's occupation starts more than
    ``tolerance`` from its equilibrium and relaxes noticeably (Gamma d > 0.1): where the
    distance has fallen to 95 %, 90 %, ... 5 %, 2 %, 1 %, 0.1 % (those inside the interval)."""
    start, d = tr.edges[:-1], np.diff(tr.edges)
    steps = -np.log(_RELAX_FRACTIONS)
    out = []
    for i in (0, 1):
        rate = tr.rates[i]
        sel = np.flatnonzero((np.abs(tr.occupation[i][:-1] - tr.n_eq[i]) > tolerance)
                             & (rate * d > 0.1))
        if sel.size:
            u = steps[None, :] / rate[sel, None]
            inside = u < d[sel, None]
            out.append((start[sel, None] + u)[inside])
    return np.concatenate(out) if out else np.zeros(0)


def _dot_noise(lab: Any, settings: Settings, edges: Array, mid: Array
               ) -> tuple[Array, Array] | None:
    """The dots' charge-noise shifts (eV) at the midpoints, from the lab's 1/f processes sampled
    every ``noise_step`` (None if the lab has no such noise)."""
    fn = getattr(lab, "dot_potential_noise", None)
    if fn is None or not getattr(getattr(lab, "noise", None), "dot_charge_noise_ev", 1.0):
        return None
    count = max(2, math.ceil((edges[-1] - edges[0]) / settings.noise_step) + 1)
    grid = np.linspace(edges[0], edges[-1], count)
    mu = np.asarray(fn(grid), dtype=float).reshape(count, 2)
    if not mu.any():
        return None
    return np.interp(mid, grid, mu[:, 0]), np.interp(mid, grid, mu[:, 1])
