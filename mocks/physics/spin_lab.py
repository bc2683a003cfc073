"""The spin path of the mock lab: AWG I/Q and gate pulses x the microwave carrier -> spins ->
Pauli-spin-blockade readout -> volts at a digitizer input.

What the lab models (and what a spin-qubit set-up does):

- **Drive.**  The AWG's I and Q channels (``iq_channels``) feed the microwave source's I/Q
  inputs; the field at the dot is ``mw_gain * carrier.amplitude * (I + iQ) / IQ_FULL_SCALE``
  (V at the dot: ``mw_gain`` is the line from the source to the EDSR gate), on the carrier's
  frequency and phase, with the source's I/Q impairments (leakage, gain imbalance, quadrature
  offset) applied as data when they are on; I/Q modulation off gives a CW carrier of the set
  level, output off gives nothing.  Homodyne: the AWG plays envelopes, the carrier sits at the
  qubit frequency; a virtual Z is a rotation of the I/Q envelope.
- **Detuning.**  The AWG pulses on the plunger gates (``gate_channels``, through their lines'
  attenuation) move the double dot's detuning from the operating point:
  ``eps = idle_detuning + sum_g kappa_g * V_g`` with ``kappa_g = alpha_2g - alpha_1g`` (eV per
  volt at the gate, the device's lever arms).  The DC levels are taken as parked at the
  operating point; bias-T droop is not applied on this path (keep the pulses' mean small).
- **Shots.**  Every stretch of time on the (0,2) side (``eps > 0``) is a readout that also
  re-initialises the pair: the shot read there is the AWG stream between the end of the previous
  such stretch and its start, cut into piecewise-constant `SpinSegment` (runs of equal I, Q and
  detuning), simulated from both spins down (`SpinSimulator`).  Shots with identical segments
  (durations to 0.1 ps) are simulated together: one simulator call per distinct sequence and
  batch of lab time.  The
  carrier's phase common to a whole shot does not change its projected populations (the shot
  starts in a z eigenstate; z rotations commute with T1, dephasing, exchange and the AC field),
  so grouped shots share the first one's.
- **Readout.**  At the stretch's detuning ``eps_r`` the pair tunnels to (0,2) with probability
  ``sigmoid(eps_r / width)`` if it is in the singlet branch (spin 1 up, spin 2 down, the
  simulator's convention), ``sigmoid((eps_r - st_splitting) / width)`` otherwise (above the
  (0,2) singlet-triplet splitting the triplets tunnel too: no blockade).  A blocked shot stays in
  (1,1) until it relaxes at the readout's ``t1``.  The sensor reads the PSB readout's levels
  (singlet = (0,2), blocked = (1,1); the (1,1) level outside the stretches) with white noise per
  sample scaled so that a window of the readout's ``duration`` averages to its ``noise``: the
  window average then has exactly the distributions of `PsbReadout` (whose fidelity is the
  ground truth).  Between the blockade edges (0 < eps_r < st_splitting) a window starting at
  the stretch's start reproduces the model's readout fidelity.

`SpinLab.connect(port)` registers it as the lab's analog source for ``port`` (the mock lab: the
digitizer's channel B, the qubit pair's sensor; channel A stays the charge-sensing physics).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.spin import PsbReadout, SpinSequence, SpinSimulator
from dotstack.mocks.physics.spin.params import real
from dotstack.mocks.physics.spin_runs import channel_runs, merge_runs

if TYPE_CHECKING:
    from dotstack.mocks.physics.lab import VirtualLab

Array = NDArray[np.float64]
_M64 = (1 << 64) - 1
#: Full-scale I/Q input of the source (V): |I + iQ| at this gives the set level.
IQ_FULL_SCALE = 0.5


class CarrierLike(Protocol):
    """What the spin path reads of the microwave source (`sgs100a.Carrier` has it)."""

    frequency: float
    phase: float
    output_on: bool
    iq_on: bool
    iq_impairments_on: bool
    i_offset_pct: float
    q_offset_pct: float
    iq_gain_imbalance_db: float
    iq_quadrature_offset: float

    @property
    def amplitude(self) -> float: ...


@dataclass(frozen=True)
class SpinWiring:
    """How the spins are wired: AWG channels of I and Q, AWG channel and line gain (V at the
    gate per AWG volt) of each plunger, ``kappa`` (eV of detuning per volt at each gate),
    ``mw_attenuation_db`` from the source's output to the dot, the (0,2) singlet-triplet
    splitting and the width of the charge transitions (eV)."""

    iq_channels: tuple[int, int] = (4, 5)
    gate_channels: tuple[tuple[str, int, float], ...] = (("P1", 1, 0.1), ("P2", 2, 0.1))
    kappa: tuple[tuple[str, float], ...] = ()
    mw_attenuation_db: float = 46.0
    st_splitting_ev: float = 0.3e-3
    width_ev: float = 10e-6

    def __post_init__(self) -> None:
        own = type(self).__name__
        for name in ("mw_attenuation_db",):
            object.__setattr__(self, name, real(own, name, getattr(self, name)))
        for name in ("st_splitting_ev", "width_ev"):
            object.__setattr__(self, name, real(own, name, getattr(self, name), positive=True))
        gates = [g for g, _, _ in self.gate_channels]
        if len(set(gates)) != len(gates):
            raise ValueError(f"{own}.gate_channels: duplicate gate in {gates}")
        channels = [*self.iq_channels, *(c for _, c, _ in self.gate_channels)]
        if len(set(channels)) != len(channels):
            raise ValueError(f"{own}: AWG channels used twice in {channels}")
        unknown = sorted(set(dict(self.kappa)) - set(gates))
        if unknown:
            raise ValueError(f"{own}.kappa: gates {unknown} are not in gate_channels")

    @property
    def mw_gain(self) -> float:
        """V at the dot per V at the source's output."""
        return 10.0 ** (-self.mw_attenuation_db / 20.0)

    def detuning_per_awg_volt(self) -> dict[str, float]:
        """eV of detuning per AWG volt on each plunger channel (lever arms x line gain)."""
        k = dict(self.kappa)
        return {g: k.get(g, 0.0) * gain for g, _, gain in self.gate_channels}


def drive_at_dot(carrier: CarrierLike, i: Array, q: Array, mw_gain: float) -> tuple[Array, Array]:
    """(I, Q) of the microwave at the dot (V) for AWG I/Q volts ``i``, ``q`` (arrays)."""
    if not carrier.output_on:
        return np.zeros_like(i), np.zeros_like(q)
    scale = mw_gain * carrier.amplitude
    if not carrier.iq_on:  # CW: the full level all the time
        return np.full_like(i, scale), np.zeros_like(q)
    ii, qq = np.asarray(i, dtype=float), np.asarray(q, dtype=float)
    if carrier.iq_impairments_on:
        g = 10.0 ** (carrier.iq_gain_imbalance_db / 40.0)
        ii = ii * g + carrier.i_offset_pct / 100.0 * IQ_FULL_SCALE
        qq = qq / g + carrier.q_offset_pct / 100.0 * IQ_FULL_SCALE
        theta = carrier.iq_quadrature_offset  # the Q axis is off by theta from 90 degrees
        ii, qq = ii - qq * math.sin(theta), qq * math.cos(theta)
    return scale * ii / IQ_FULL_SCALE, scale * qq / IQ_FULL_SCALE


@dataclass
class _Shots:
    """Simulated readout stretches (time order): start, end, readout detuning, tunnelled at
    once, decay time of a blocked shot (s after the start), projected spins (n, 2)."""

    start: Array
    end: Array
    eps: Array
    tunnel: NDArray[np.bool_]
    decay: Array
    up: NDArray[np.bool_]

    @classmethod
    def empty(cls) -> _Shots:
        z = np.zeros(0)
        return cls(z, z, z, np.zeros(0, bool), z, np.zeros((0, 2), bool))

    def extend(self, other: _Shots) -> None:
        keep = self.end <= (other.start[0] if other.start.size else np.inf)
        for name in ("start", "end", "eps", "tunnel", "decay", "up"):
            setattr(self, name, np.concatenate([getattr(self, name)[keep], getattr(other, name)]))


class SpinLab:
    """The spin path (module docstring) on ``lab``'s clock and seed.

    ``awg_segments(channel, t0, t1)``: the AWG's played stream as segments with ``start``,
    ``samples`` (V), ``repeat``, ``rate`` (e.g. `AWG5208Model.segments`); ``carrier_at(t)``: the
    source's settings at lab time t (e.g. `SGS100AModel.carrier_at`).  ``lookback``: how far
    before a buffer the previous readout is looked for (s, doubled up to ``max_lookback``)."""

    def __init__(self, lab: VirtualLab, simulator: SpinSimulator, wiring: SpinWiring, *,
                 awg_segments: Callable[[int, float, float], Sequence[Any]],
                 carrier_at: Callable[[float], CarrierLike], stream: int = 95,
                 lookback: float = 200e-6, max_lookback: float = 0.2) -> None:
        if not isinstance(simulator.readout, PsbReadout):
            raise TypeError("SpinLab renders Pauli-spin-blockade readout: the simulator's readout "
                            f"must be a PsbReadout, got {type(simulator.readout).__name__}")
        self.lab = lab
        self.sim = simulator
        self.wiring = wiring
        self.awg_segments = awg_segments
        self.carrier_at = carrier_at
        self.stream = int(stream)
        self.lookback = float(lookback)
        self.max_lookback = float(max_lookback)
        self._shots = _Shots.empty()
        self._covered = (math.inf, -math.inf)  # lab times whose stretches are all simulated
        #: what the last simulation did: shots, distinct sequences (simulator calls)
        self.last_batch: dict[str, int] = {}

    def connect(self, port: str = "ats.chB") -> None:
        """Make this the lab's analog source at digitizer input ``port``."""
        self.lab.register_analog_source(port, self.analog_record, batch=self.analog_records)

    # ---------------------------------------------------------------- stream -> intervals
    def intervals(self, t0: float, t1: float) -> tuple[Array, Array, Array, Array]:
        """(edges, detuning eV, I, Q AWG volts) of the constant pieces of [t0, t1)."""
        w = self.wiring
        chans = [*w.iq_channels, *(c for _, c, _ in w.gate_channels)]
        runs = [channel_runs(self.awg_segments(c, t0, t1), t0, t1) for c in chans]
        edges, values = merge_runs(runs, t0, t1)
        per_volt = w.detuning_per_awg_volt()
        eps = np.full(edges.size - 1, self.sim.params.idle_detuning_ev)
        for k, (g, _, _) in enumerate(w.gate_channels):
            eps += per_volt[g] * values[2 + k]
        return edges, eps, values[0], values[1]

    # ---------------------------------------------------------------- simulation
    def _simulate(self, lo: float, hi: float) -> None:
        """Simulate every readout stretch that ends in [lo, hi) (and is over by now)."""
        now = self.lab.time()
        span = self.lookback
        while True:
            edges, eps, i_v, q_v = self.intervals(lo - span, hi)
            side = eps > 0
            change = np.flatnonzero(np.diff(side.astype(np.int8)))
            begins = change[~side[change]] + 1  # (1,1) -> (0,2)
            ends = change[side[change]] + 1  # (0,2) -> (1,1)
            first_read = begins[edges[begins] >= lo] if begins.size else begins
            if first_read.size == 0:
                self._covered = (min(self._covered[0], lo), max(self._covered[1], min(hi, now)))
                return
            if (ends.size and ends[0] <= first_read[0]) or span >= self.max_lookback:
                break
            span *= 2.0
        shots = self._shots_from(edges, eps, i_v, q_v, side, lo, min(hi, now))
        self._shots.extend(shots)
        self._covered = (min(self._covered[0], lo), max(self._covered[1], min(hi, now)))

    def _shots_from(self, edges: Array, eps: Array, i_v: Array, q_v: Array,
                    side: NDArray[np.bool_], lo: float, done: float) -> _Shots:
        bounds = np.flatnonzero(np.diff(np.concatenate([[0], side.astype(np.int8), [0]])))
        s_idx, e_idx = bounds[0::2], bounds[1::2]  # stretch k: intervals [s_idx, e_idx)
        a, b = edges[s_idx], edges[e_idx]
        # a stretch cut by the window's end is not over: leave it for the next batch
        keep = (a >= lo) & (b <= done) & (e_idx < side.size)
        prev_end = np.concatenate([[edges[0]], b[:-1]])
        prev_idx = np.concatenate([[0], e_idx[:-1]])
        sel = np.flatnonzero(keep)
        if sel.size == 0:
            return _Shots.empty()
        groups: dict[bytes, list[int]] = {}
        seqs: dict[bytes, SpinSequence] = {}
        gain = self.wiring.mw_gain
        raw = self._raw_keys(edges, eps, i_v, q_v, prev_idx[sel], s_idx[sel], prev_end[sel])
        known: dict[bytes, bytes] = {}  # raw pieces (0.1 ps durations) + carrier -> sequence key
        for n_shot, k in enumerate(sel.tolist()):
            key_or_none = known.get(raw[n_shot])
            if key_or_none is not None:
                groups[key_or_none].append(k)
                continue
            j0, j1 = int(prev_idx[k]), int(s_idx[k])
            carrier = self.carrier_at(float(prev_end[k]))
            if j1 <= j0:  # back-to-back readouts: an idle instant
                seg = (np.array([1e-12]), np.array([self.sim.params.idle_detuning_ev]),
                       np.zeros(1), np.zeros(1))
            else:
                seg = _merge(edges[j0:j1 + 1], eps[j0:j1], i_v[j0:j1], q_v[j0:j1])
            di, dq = drive_at_dot(carrier, seg[2], seg[3], gain)
            key = b"".join(x.tobytes() for x in (np.rint(seg[0] * 1e13), seg[1], di, dq)) + \
                np.array([carrier.frequency]).tobytes()
            if key not in seqs:
                n = seg[0].size
                seqs[key] = SpinSequence(seg[0], seg[1], di, dq, np.full(n, carrier.frequency),
                                         np.full(n, carrier.phase))
            known[raw[n_shot]] = key
            groups.setdefault(key, []).append(k)
        up = np.zeros((b.size, 2), dtype=bool)
        t_key = round(float(a[sel[0]]) * 1e9) & _M64
        for g, (key, members) in enumerate(groups.items()):
            rec = self.sim.run(seqs[key], len(members), key=(self.stream, t_key, g))
            up[members] = rec.up
        self.last_batch = {"shots": int(sel.size), "sequences": len(groups)}
        rng = np.random.default_rng([self.sim.seed, self.stream, 1, t_key])
        eps_r = eps[s_idx[sel]]
        ro = self.sim.readout
        assert isinstance(ro, PsbReadout)
        w = self.wiring
        singlet = up[sel, 0] & ~up[sel, 1]
        p = np.where(singlet, _sigmoid(eps_r / w.width_ev),
                     _sigmoid((eps_r - w.st_splitting_ev) / w.width_ev))
        tunnel = rng.random(sel.size) < p
        decay = rng.standard_exponential(sel.size) * ro.t1
        return _Shots(a[sel], b[sel], eps_r, tunnel, decay, up[sel])

    def _raw_keys(self, edges: Array, eps: Array, i_v: Array, q_v: Array, j0: NDArray[np.int64],
                  j1: NDArray[np.int64], t_carrier: Array) -> list[bytes]:
        """Per shot, its unmerged pieces (durations to 0.1 ps, detuning, I, Q) and the carrier
        setting in force, as bytes: shots with equal bytes get the same sequence, worked out
        once (array operations per shot length, not Python per shot)."""
        ids: dict[Any, int] = {}  # carrier settings (frozen, hashable) -> number
        held = []  # an unhashable carrier is told apart by identity: keep it alive meanwhile
        numbers = []
        for t in t_carrier.tolist():
            c = self.carrier_at(t)
            try:
                numbers.append(ids.setdefault(c, len(ids)))
            except TypeError:
                held.append(c)
                numbers.append(ids.setdefault(("id", id(c)), len(ids)))
        cid = np.asarray(numbers, dtype=float)
        m = j1 - j0
        out = [b""] * m.size
        for mm in np.unique(m).tolist():
            rows = np.flatnonzero(m == mm)
            if mm <= 0:
                for r in rows.tolist():
                    out[r] = b"idle" + cid[r:r + 1].tobytes()
                continue
            idx = j0[rows][:, None] + np.arange(mm)[None, :]
            mat = np.concatenate([np.rint((edges[idx + 1] - edges[idx]) * 1e13), eps[idx],
                                  i_v[idx], q_v[idx], cid[rows][:, None]], axis=1)
            for r, row in zip(rows.tolist(), mat, strict=True):
                out[r] = row.tobytes()
        return out

    # ---------------------------------------------------------------- records
    def analog_record(self, t0: float, n: int, rate: float) -> Array:
        return self.analog_records(np.array([t0]), n, rate)[0]

    def analog_records(self, t0s: ArrayLike, n: int, rate: float) -> Array:
        """``(len(t0s), n)`` volts at ``t0s[r] + j / rate`` (the records of a buffer)."""
        starts = np.atleast_1d(np.asarray(t0s, dtype=float)).ravel()
        n, rate = int(n), float(rate)
        if n < 1 or not (rate > 0 and math.isfinite(rate)) or not np.isfinite(starts).all():
            raise ValueError(f"spin records need n >= 1, a finite rate > 0 and finite starts, "
                             f"got n={n}, rate={rate}")
        lo, hi = float(starts.min()), float(starts.max()) + n / rate
        c_lo, c_hi = self._covered
        if not (c_lo <= lo and hi <= c_hi):
            # simulate ahead to what the lab clock has passed: later buffers come from the cache
            self._simulate(lo if lo < c_lo or lo > c_hi else c_hi, max(hi, self.lab.time()))
        ro = self.sim.readout
        assert isinstance(ro, PsbReadout)
        sh = self._shots
        t = starts[:, None] + np.arange(n)[None, :] / rate
        k = np.searchsorted(sh.start, t, side="right") - 1
        valid = k >= 0
        kk = np.where(valid, k, 0)
        if sh.start.size:
            inside = valid & (t < sh.end[kk])
            singlet = inside & (sh.tunnel[kk] | (t - sh.start[kk] >= sh.decay[kk]))
        else:
            singlet = np.zeros(t.shape, dtype=bool)
        out = np.where(singlet, ro.singlet_level, ro.blocked_level)
        sigma = ro.noise * math.sqrt(max(ro.duration * rate, 1.0))
        rng = np.random.default_rng([self.sim.seed, self.stream, 2,
                                     round(lo * 1e9) & _M64, n, round(rate)])
        return np.asarray(out + sigma * rng.standard_normal(out.shape))

    # ---------------------------------------------------------------- description
    def ground_truth(self, t: float | None = None) -> dict[str, Any]:
        """The spin physics' ground truth (`SpinSimulator.ground_truth`, spin 1 driven at
        1 mV at the dot) plus the wiring and scales an experiment needs to predict its own:
        ``rabi_Hz_per_dot_V``, ``mw_gain``, ``iq_full_scale_V``, the carrier now, detuning per
        AWG volt, the PSB window."""
        when = self.lab.time() if t is None else float(t)
        truth = self.sim.ground_truth(drive_amplitude=1e-3)
        w = self.wiring
        c = self.carrier_at(when)
        truth.update({
            "rabi_Hz_per_dot_V": list(self.sim.params.rabi_per_volt),
            "mw_gain": w.mw_gain, "mw_attenuation_dB": w.mw_attenuation_db,
            "iq_full_scale_V": IQ_FULL_SCALE, "iq_channels": list(w.iq_channels),
            "gate_channels": {g: c_ for g, c_, _ in w.gate_channels},
            "detuning_eV_per_awg_V": w.detuning_per_awg_volt(),
            "idle_detuning_eV_at_dc": self.sim.params.idle_detuning_ev,
            "psb_window_eV": [0.0, w.st_splitting_ev], "transition_width_eV": w.width_ev,
            "carrier": {"frequency_Hz": c.frequency, "amplitude_V": c.amplitude,
                        "output_on": bool(c.output_on), "iq_on": bool(c.iq_on)},
            "readout_port": "ats.chB",
        })
        return truth


def expected_rabi(truth: Mapping[str, Any], power_amplitude: float, iq_amplitude: float,
                  spin: int = 1) -> float:
    """Rabi frequency (Hz) the truth predicts for a carrier of ``power_amplitude`` V peak and an
    I/Q envelope of ``iq_amplitude`` V."""
    return float(truth["rabi_Hz_per_dot_V"][spin - 1] * truth["mw_gain"] * power_amplitude
                 * iq_amplitude / truth["iq_full_scale_V"])


def _merge(edges: Array, eps: Array, i_v: Array, q_v: Array) -> tuple[Array, Array, Array, Array]:
    """Consecutive intervals with equal values merged: (durations, eps, I, Q)."""
    if eps.size == 1:
        return np.diff(edges), eps, i_v, q_v
    change = np.ones(eps.size, dtype=bool)
    change[1:] = (eps[1:] != eps[:-1]) | (i_v[1:] != i_v[:-1]) | (q_v[1:] != q_v[:-1])
    idx = np.flatnonzero(change)
    bounds = np.concatenate([edges[idx], [edges[-1]]])
    return np.diff(bounds), eps[idx], i_v[idx], q_v[idx]


def _sigmoid(x: Array) -> Array:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x))))
