"""`TimeDomainLab`: AWG outputs + DAC levels -> device in time -> RF readout -> digitizer volts.

Built from a `VirtualLab` (DAC levels, device, charge noise, seed) and a `LineModel` per
AWG-driven gate; `attach_awg` connects the AWG's played stream.  A record is simulated on
intervals (`trace.simulate`: run lengths of the AWG samples, exact bias-T and charge relaxation),
then turned into the demodulated signal per interval, and only then into samples
(`readout.render_points`) with the amplifier noise (`readout.BandLimitedNoise`).

Randomness (amplifier noise, single-shot charge jumps) is drawn from streams seeded by the lab's
seed and the record's lab time, length and rate: the same seed and the same commands give the
same record.  Different records draw independently (overlapping records do not share noise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics import model
from dotstack.mocks.physics.params import GATES
from dotstack.mocks.physics.timedomain import truth
from dotstack.mocks.physics.timedomain.charge import occupation_on, telegraph
from dotstack.mocks.physics.timedomain.groups import drive_groups
from dotstack.mocks.physics.timedomain.params import LineModel, Reflectometry, Settings, TunnelRates
from dotstack.mocks.physics.timedomain.readout import (
    BandLimitedNoise,
    bin_noise,
    render_bins,
    render_points,
)
from dotstack.mocks.physics.timedomain.trace import (
    ChannelSegments,
    Drive,
    Trace,
    advance_bias_tee,
    bias_tee_state,
    merge_edges,
    relaxation_edges,
    simulate,
)

if TYPE_CHECKING:
    from dotstack.mocks.physics.lab import VirtualLab

Array = NDArray[np.float64]
_M64 = (1 << 64) - 1


class TimeDomainLab:
    """Time-domain simulation of the lab's device as a digitizer sees it (volts at its input).

    ``lines``: the `LineModel` of each AWG-driven gate (gates wired later without one get the
    default); ``tunnel``, ``readout``, ``settings``: see `dotstack.mocks.physics.timedomain.params`;
    ``stream``: the random streams' id (two sources on one lab need different ones).
    """

    def __init__(self, lab: VirtualLab, lines: Mapping[str, LineModel] | None = None, *,
                 tunnel: TunnelRates | None = None, readout: Reflectometry | None = None,
                 settings: Settings | None = None, stream: int = 40) -> None:
        self.lab = lab
        self.device = lab.device
        self.seed = int(lab.seed)
        self.lines: dict[str, LineModel] = dict(lines or {})
        _check_gates(self.lines, "lines")
        self.tunnel = tunnel if tunnel is not None else TunnelRates()
        self.readout = readout if readout is not None else Reflectometry()
        self.settings = settings if settings is not None else Settings()
        self.stream = int(stream)
        self._drives: dict[str, Drive] = {}
        #: gate -> (lab time, bias-T low-pass state then), for times the lab clock has passed
        self._bias_cache: dict[str, tuple[float, float]] = {}
        #: what the last record did: 'single_shot' per dot, or why it fell back to the mean
        self.last_record: dict[str, Any] = {}

    # ---------------------------------------------------------------- wiring
    def attach_awg(self, channel_segments: ChannelSegments, wiring: Mapping[str, Any]) -> None:
        """Drive gates from an AWG: ``channel_segments(channel, t0, t1)`` returns the pieces
        ``(lab start time, samples (V at the AWG output), sample rate)`` played on [t0, t1)
        (e.g. `AWG5208Model.channel_segments`); ``wiring`` maps gate -> AWG channel.  A gate
        wired again follows the new AWG."""
        _check_gates(wiring, "wiring")
        for gate, channel in wiring.items():
            line = self.lines.setdefault(gate, LineModel())
            self._drives[gate] = Drive(channel_segments, channel, line)
            self._bias_cache.pop(gate, None)

    def connect(self, port: str = "ats.chA") -> None:
        """Register `analog_record` (and `analog_records` for whole buffers) as the lab's
        analog source for ``port``."""
        self.lab.register_analog_source(port, self.analog_record, batch=self.analog_records)

    @property
    def drives(self) -> dict[str, Drive]:
        return dict(self._drives)

    # ---------------------------------------------------------------- simulation
    def _history(self, t0: float) -> float:
        """Charge history simulated before t0: ``charge_history / Gamma_min`` at t0, capped."""
        s = self.settings
        if s.max_charge_history <= 0:
            return 0.0
        rates = self.tunnel.rates(self.device, self.lab.gate_voltages(t0))
        slowest = float(min(rates[0], rates[1]))
        return min(s.max_charge_history, s.charge_history / slowest if slowest > 0 else math.inf)

    def trace(self, t0: float, t1: float, extra_edges: ArrayLike | None = None, *,
              resolve_relaxation: bool = True) -> Trace:
        """The device on [t0, t1) on intervals (plus the charge history before t0).  With
        ``resolve_relaxation``, intervals on which an occupation is still relaxing are split
        where it has covered 5 %, 10 %, ... of its way (`relaxation_edges`), so that the
        interval-constant signal follows the exponential."""
        if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
            raise ValueError(f"need finite t0 < t1, got [{t0}, {t1})")
        t_a = t0 - self._history(t0)
        extra = np.zeros(0) if extra_edges is None else np.asarray(extra_edges, dtype=float)
        args = (self.lab, self.device, self._drives, self.tunnel, self.settings, t_a, t1)
        states = self._bias_states(t_a)
        tr = simulate(*args, extra, states)
        if resolve_relaxation:
            more = relaxation_edges(tr)
            if more.size:
                tr = simulate(*args, np.concatenate([extra, more]), states)
        if t1 <= self.lab.time():  # the next record carries on from the end of this one
            for gate, y in tr.bias_end.items():
                self._bias_cache[gate] = (t1, y)
        return tr

    def _bias_states(self, t: float) -> dict[str, float]:
        """Each AWG-driven gate's bias-T state at lab time ``t``: carried on from the last state
        computed at an earlier time within ``bias_tee_history`` time constants (consecutive
        records then fold in only the AWG stream between them), else folded in from that much
        history.  States at times the lab clock has passed are kept (that past no longer
        changes); a state is never kept for a time still to come."""
        now = self.lab.time()
        out: dict[str, float] = {}
        for gate, drive in self._drives.items():
            tau = drive.line.bias_tee_time_constant
            if math.isinf(tau):
                continue
            history = self.settings.bias_tee_history * tau
            hit = self._bias_cache.get(gate)
            if hit is not None and hit[0] <= t <= hit[0] + history:
                y = advance_bias_tee(drive, hit[0], hit[1], t)
            else:
                y = bias_tee_state(drive, drive.runs(t - history, t), t)
            if t <= now:
                self._bias_cache[gate] = (t, y)
            out[gate] = y
        return out

    def _sensor_volts(self, tr: Trace, n1: Array, n2: Array,
                      index: NDArray[np.intp] | None = None) -> Array:
        """Demodulated signal (V) with occupations n1, n2 on the trace's intervals (or on the
        sub-intervals that ``index`` maps to them)."""
        gates = tr.gates if index is None else {g: v[index] for g, v in tr.gates.items()}
        ind = tr.induced if index is None else (tr.induced[0][index], tr.induced[1][index])
        state = model.DotState(n1=n1, n2=n2, induced1=ind[0], induced2=ind[1])
        current = model.sensor_current(self.device, gates, state, _sensor_shift(self.lab, tr, index))
        return self.readout.volts(current / self.device.bias)

    def expected_signal(self, tr: Trace) -> Array:
        """Ensemble-mean demodulated signal (V) on the trace's intervals, before the filter."""
        return self._sensor_volts(tr, *tr.occupation_mean)

    def _single_shot(self, tr: Trace, rng: np.random.Generator) -> tuple[Array, Array]:
        """One draw of the charge jumps: (sub-interval edges, signal on them)."""
        draws, info = [], {}
        for i in (0, 1):
            d = telegraph(tr.edges, tr.n_eq[i], tr.rates[i], rng, self.settings.max_flips)
            draws.append(d)
            info[f"dot{i + 1}"] = "single_shot" if d is not None else "ensemble_mean (max_flips)"
        self.last_record = info
        jumps = [d[1] for d in draws if d is not None]
        edges = merge_edges([tr.edges, *jumps], float(tr.edges[0]), float(tr.edges[-1]))
        mid = 0.5 * (edges[:-1] + edges[1:])
        index = np.clip(np.searchsorted(tr.edges, mid, side="right") - 1, 0, tr.edges.size - 2)
        occ = []
        for i, d in enumerate(draws):
            if d is None:
                occ.append(tr.occupation_mean[i][index])
            else:
                occ.append(occupation_on(edges, *d))
        return edges, self._sensor_volts(tr, occ[0], occ[1], index)

    def _key(self, kind: int, *words: float) -> np.random.Generator:
        ints = [self.seed & _M64, self.stream, kind]
        ints += [round(w * 1e12) & _M64 if isinstance(w, float) else int(w) & _M64
                 for w in words]
        return np.random.default_rng(ints)

    # ---------------------------------------------------------------- records
    def analog_record(self, t0: float, n: int, rate: float, *, single_shot: bool = True,
                      noise: bool = True) -> Array:
        """``n`` point samples at ``t0 + j / rate`` of the volts at the digitizer input: one
        shot, with drawn charge jumps (``single_shot``) and amplifier noise (``noise``)."""
        t0, n, rate = float(t0), int(n), float(rate)
        _check_record(n, rate)
        t1 = t0 + n / rate
        tr = self.trace(t0, t1, resolve_relaxation=not single_shot)  # jumps need no splits
        if single_shot:
            edges, x = self._single_shot(tr, self._key(1, t0, n, rate))
        else:
            edges, x = tr.edges, self.expected_signal(tr)
            self.last_record = {"dot1": "ensemble_mean", "dot2": "ensemble_mean"}
        tau, sigma = self.readout.time_constant, self.readout.sample_sigma
        spec = (math.exp(-1.0 / (rate * tau)), sigma, self._key(2, t0, n, rate)) \
            if noise and sigma > 0 else None
        return render_points(edges, x, tau, t0, n, rate, self.settings.transient_tolerance, spec)

    def analog_records(self, t0s: ArrayLike, n: int, rate: float, *, single_shot: bool = True,
                       noise: bool = True) -> Array:
        """``(len(t0s), n)``: the records starting at ``t0s`` (a digitizer's buffer of triggered
        records), each as `analog_record`.  Records on one sample clock (starts a whole number
        of samples apart, as a board's are) that follow each other within a record length are
        cut from one simulated stretch: one simulation, one history of charge jumps and one
        continuous noise path for all of them (as in the lab, where they are one stretch of
        time), instead of one simulation each."""
        starts = np.atleast_1d(np.asarray(t0s, dtype=float)).ravel()
        n, rate = int(n), float(rate)
        _check_record(n, rate)
        if not np.isfinite(starts).all():
            raise ValueError("analog_records: record starts must be finite")
        out = np.empty((starts.size, n))
        for idx in _clusters(starts, n, rate):
            first = float(starts[idx[0]])
            if idx.size == 1:
                out[idx[0]] = self.analog_record(first, n, rate, single_shot=single_shot,
                                                 noise=noise)
                continue
            offsets = np.rint((starts[idx] - first) * rate).astype(np.int64)
            span = self.analog_record(first, int(offsets[-1]) + n, rate,
                                      single_shot=single_shot, noise=noise)
            out[idx] = span[offsets[:, None] + np.arange(n)[None, :]]
        return out

    def expected_record(self, t0: float, n: int, rate: float, *, integrate: bool = False) -> Array:
        """The noiseless ensemble-mean record: point samples, or (``integrate``) averages over
        each sample's bin ``[t0 + j / rate, t0 + (j+1) / rate)`` (a pixel over its dwell)."""
        t0, n, rate = float(t0), int(n), float(rate)
        _check_record(n, rate)
        t1 = t0 + n / rate
        tau = self.readout.time_constant
        if integrate:  # exact interval averages: no need to resolve the relaxation
            tr = self.trace(t0, t1, t0 + np.arange(n + 1) / rate, resolve_relaxation=False)
            return render_bins(tr.edges, self.expected_signal(tr), tau, t0, n, rate)
        tr = self.trace(t0, t1)
        return render_points(tr.edges, self.expected_signal(tr), tau, t0, n, rate,
                             self.settings.transient_tolerance)

    def averaged_records(self, t_starts: ArrayLike, n: int, rate: float, *,
                         integrate: bool = False, noise: bool = True,
                         same_drive: bool = False) -> Array:
        """The average of N triggered records (starting at ``t_starts``) of ``n`` samples: the
        exact ensemble mean plus amplifier noise of 1/sqrt(N) the single-record noise (never N
        simulated records).  Records with the same drive (AWG levels relative to the trigger,
        DAC levels: `drive_groups`) share one simulation, from the first of them;
        ``same_drive=True`` skips that check (the caller knows every trigger replays the same
        drive, e.g. video mode on an AWG marker).  ``integrate`` as in `expected_record` (the
        noise then of bin averages)."""
        starts = np.atleast_1d(np.asarray(t_starts, dtype=float)).ravel()
        n, rate = int(n), float(rate)
        _check_record(n, rate)
        if starts.size == 0:
            raise ValueError("averaged_records needs at least one trigger time")
        groups = [np.arange(starts.size)] if same_drive else self.drive_groups(starts, n / rate)
        acc = np.zeros(n)
        for members in groups:
            acc += members.size * self.expected_record(float(starts[members[0]]), n, rate,
                                                       integrate=integrate)
        acc /= starts.size
        if noise:
            tau = self.readout.time_constant
            scale, rho = bin_noise(tau, rate) if integrate else (1.0, math.exp(-1.0 / (rate * tau)))
            sigma = self.readout.sample_sigma * scale / math.sqrt(starts.size)
            BandLimitedNoise.add(acc, rho, sigma, self._key(3, float(starts[0]), starts.size, n,
                                                            rate, int(integrate)))
        return acc

    def drive_groups(self, starts: ArrayLike, span: float) -> list[NDArray[np.int64]]:
        """Indices of the records (triggers ``starts``, ``span`` s long) with identical drive
        (see `groups.drive_groups`), in order of first appearance."""
        return drive_groups(self.lab, self._drives, np.atleast_1d(np.asarray(starts, float)), span)

    # ---------------------------------------------------------------- description
    def ground_truth(self, t: float | None = None) -> dict[str, Any]:
        """JSON-able ground truth at lab time ``t`` (default now): tunnel rates, lines,
        readout, SNR and the transition lines in the AWG's coordinates (see `truth`)."""
        when = self.lab.time() if t is None else float(t)
        return truth.time_domain_truth(self, when)


def _check_gates(mapping: Mapping[str, Any], what: str) -> None:
    unknown = sorted(set(mapping) - set(GATES))
    if unknown:
        raise ValueError(f"{what}: unknown gate(s) {unknown}; gates are {list(GATES)}")


#: the longest stretch (samples) `analog_records` simulates in one piece
_MAX_SPAN = 1 << 23


def _clusters(starts: Array, n: int, rate: float) -> list[NDArray[np.intp]]:
    """Indices of ``starts`` in runs of records on one sample grid, in time order, each record
    starting at most ``n`` samples after the previous one ended, spanning <= `_MAX_SPAN`."""
    order = np.argsort(starts, kind="stable")
    out: list[NDArray[np.intp]] = []
    current = [int(order[0])]
    for i in order[1:].tolist():
        first, prev = starts[current[0]], starts[current[-1]]
        k = (starts[i] - first) * rate
        on_grid = abs(k - round(k)) < 1e-3
        near = (starts[i] - prev) * rate <= 2 * n
        if on_grid and near and k + n <= _MAX_SPAN:
            current.append(i)
        else:
            out.append(np.array(current, dtype=np.intp))
            current = [i]
    out.append(np.array(current, dtype=np.intp))
    return out


def _check_record(n: int, rate: float) -> None:
    if n < 1 or not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"a record needs n >= 1 samples and a finite rate > 0, got n={n}, "
                         f"rate={rate}")


def _sensor_shift(lab: Any, tr: Trace, index: NDArray[np.intp] | None) -> Array | float:
    """The sensor's charge-noise shift (eV) if the lab exposes it (``sensor_potential_noise``)."""
    fn = getattr(lab, "sensor_potential_noise", None)
    if fn is None:
        return 0.0
    shift = np.asarray(fn(tr.midpoints), dtype=float).reshape(-1)
    return shift if index is None else shift[index]
