"""Direct evaluation of a schedule on the sample grid, point by point.

A deliberately plain reference implementation (no grouping, windows or dedup) used to
check the compiler: compile-then-render must equal this. Bursts use program time for their
carrier (each point placed at its program start) and the lane's virtual-Z frame; lanes
rest at a burst's offset after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.schedule import Schedule, Sweep, as_sweep
from dotstack.sequencer.segments import Param, PhaseShift, Segment
from dotstack.sequencer.virtual_gates import VirtualGates


def _value(seg: Segment, name: str, params: dict[str, float]) -> float:
    v = getattr(seg, name)
    return params[v.name] if isinstance(v, Param) else float(v)


def evaluate_point(schedule: Schedule, params: dict[str, float], sample_rate: float,
                   start: int = 0, length: int | None = None
                   ) -> dict[str, npt.NDArray[np.float64]]:
    """Samples of every lane for one parameter set (markers 0/1, acquire lanes 0).

    ``start``: program sample where the point starts (bursts' carrier phase); ``length``:
    pad to that many samples (analog lanes rest, the others are 0).
    """
    kinds: dict[str, str] = {}
    for block in schedule.blocks():
        for lane, segs in block.lanes:
            for s in segs:
                if s.kind != "gap":
                    kinds.setdefault(lane, s.kind)
    chunks: dict[str, list[npt.NDArray[np.float64]]] = {lane: [] for lane in kinds}
    last = dict.fromkeys(kinds, 0.0)
    frame: dict[str, float] = {}
    pos = start  # program sample of the block's start
    for block in schedule.blocks():
        lane_data: dict[str, npt.NDArray[np.float64]] = {}
        length_b = 0  # every lane counts, also one holding only gaps
        for lane, segs in block.lanes:
            total = sum(_value(s, "duration", params) for s in segs)
            length_b = max(length_b, int(np.round(total * sample_rate)))
            parts, cum, at = [], 0.0, 0
            held = last.get(lane, 0.0) if kinds.get(lane) == "analog" else 0.0
            for seg in segs:
                vals: dict[str, Any] = {n: _value(seg, n, params) for n in seg.numeric_fields()}
                if isinstance(seg, PhaseShift):
                    frame[lane] = frame.get(lane, 0.0) + vals["phase"]
                cum += vals["duration"]
                stop = int(np.round(cum * sample_rate))
                n = stop - at
                if lane in kinds and n > 0 and seg.kind == "gap":
                    parts.append(np.full(n, held))
                elif lane in kinds and n > 0:
                    if seg.carrier:  # the carrier runs on in program time
                        vals["phase"] += frame.get(lane, 0.0) + (
                            2 * np.pi * vals["frequency"] * (pos + at) / sample_rate)
                    t = np.arange(n)[None, :] / sample_rate
                    arr = seg.sample({k: np.array([[v]]) for k, v in vals.items()}, t,
                                     np.array([[n / sample_rate]]))
                    parts.append(np.broadcast_to(arr, (1, n))[0].astype(float))
                    held = (0.0 if kinds[lane] != "analog" else vals["offset"]
                            if seg.rests_at_offset else float(parts[-1][-1]))
                at = stop
            if lane in kinds:
                lane_data[lane] = np.concatenate(parts) if parts else np.zeros(0)
                last[lane] = held if kinds[lane] == "analog" else 0.0
        for lane, kind in kinds.items():
            data = lane_data.get(lane, np.zeros(0))
            fill = last[lane] if kind == "analog" else 0.0
            chunks[lane].append(np.concatenate([data, np.full(length_b - len(data), fill)]))
        pos += length_b
    if length is not None:
        for lane, kind in kinds.items():
            n = length - (pos - start)
            if n < 0:
                raise ValueError(f"point lasts {pos - start} samples, more than length={length}")
            chunks[lane].append(np.full(n, last[lane] if kind == "analog" else 0.0))
    return {lane: np.concatenate(c) if c else np.zeros(0) for lane, c in chunks.items()}


def evaluate(item: Schedule | Sweep, sample_rate: float,
             virtual_gates: VirtualGates | None = None,
             point_starts: npt.ArrayLike | None = None
             ) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.int64]]:
    """All points one after another: (samples per lane or real channel, point starts).

    Without ``point_starts`` the points follow each other unpadded; with them (e.g. a
    compiled ``Program.point_starts``) point ``p`` starts at sample ``point_starts[p]`` and
    is padded to ``point_starts[p + 1]`` (analog lanes rest: last value, or a burst's offset).
    """
    sw = as_sweep(item)
    pv = sw.param_values()
    ps = None if point_starts is None else np.asarray(point_starts, dtype=np.int64)
    per_point = []
    at = 0
    for p in range(sw.n_points):
        params = {k: float(v[p]) for k, v in pv.items()}
        if ps is None:
            d = evaluate_point(sw.schedule, params, sample_rate, at)
            at += len(next(iter(d.values()))) if d else 0
        else:
            d = evaluate_point(sw.schedule, params, sample_rate, int(ps[p]),
                               int(ps[p + 1] - ps[p]))
        per_point.append(d)
    lanes = list(per_point[0])
    lengths = [len(next(iter(d.values()))) if d else 0 for d in per_point]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    out = {lane: np.concatenate([d[lane] for d in per_point]) for lane in lanes}
    if virtual_gates is not None:
        analog = [lane for lane in lanes if sw.schedule is not None and not _is_digital(sw, lane)]
        if analog:
            real = virtual_gates.to_real({lane: out[lane] for lane in analog})
            out = {**{k: v for k, v in out.items() if k not in analog}, **real}
    return out, starts


def _is_digital(sw: Sweep, lane: str) -> bool:
    """Marker or acquisition lane (judged by its first segment that is not a gap)."""
    for block in sw.schedule.blocks():
        for name, segs in block.lanes:
            for seg in segs if name == lane else ():
                if seg.kind != "gap":
                    return seg.kind != "analog"
    return False
