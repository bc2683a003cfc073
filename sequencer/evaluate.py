"""Direct evaluation of a schedule on the sample grid, point by point.

A deliberately plain reference implementation (no grouping, windows or dedup) used to
check the compiler: compile-then-render must equal this.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.schedule import Schedule, Sweep, as_sweep
from dotstack.sequencer.segments import Param, Segment
from dotstack.sequencer.virtual_gates import VirtualGates


def _value(seg: Segment, name: str, params: dict[str, float]) -> float:
    v = getattr(seg, name)
    return params[v.name] if isinstance(v, Param) else float(v)


def evaluate_point(schedule: Schedule, params: dict[str, float], sample_rate: float
                   ) -> dict[str, npt.NDArray[np.float64]]:
    """Samples of every lane for one parameter set (markers 0/1, acquire lanes 0)."""
    kinds: dict[str, str] = {}
    for block in schedule.blocks():
        for lane, segs in block.lanes:
            for s in segs:
                if s.kind != "gap":
                    kinds.setdefault(lane, s.kind)
    chunks: dict[str, list[npt.NDArray[np.float64]]] = {lane: [] for lane in kinds}
    last = dict.fromkeys(kinds, 0.0)
    for block in schedule.blocks():
        lane_data: dict[str, npt.NDArray[np.float64]] = {}
        length = 0  # every lane counts, also one holding only gaps
        for lane, segs in block.lanes:
            total = sum(_value(s, "duration", params) for s in segs)
            length = max(length, int(np.round(total * sample_rate)))
            if lane not in kinds:
                continue
            parts, cum, start = [], 0.0, 0
            held = last[lane] if kinds[lane] == "analog" else 0.0
            for seg in segs:
                vals: dict[str, Any] = {n: _value(seg, n, params) for n in seg.numeric_fields()}
                cum += vals["duration"]
                stop = int(np.round(cum * sample_rate))
                n = stop - start
                if n > 0 and seg.kind == "gap":
                    parts.append(np.full(n, held))
                elif n > 0:
                    t = np.arange(n)[None, :] / sample_rate
                    arr = seg.sample({k: np.array([[v]]) for k, v in vals.items()}, t,
                                     np.array([[n / sample_rate]]))
                    parts.append(np.broadcast_to(arr, (1, n))[0].astype(float))
                    held = float(parts[-1][-1]) if kinds[lane] == "analog" else 0.0
                start = stop
            lane_data[lane] = np.concatenate(parts) if parts else np.zeros(0)
        for lane, kind in kinds.items():
            data = lane_data.get(lane, np.zeros(0))
            if len(data):
                last[lane] = float(data[-1])
            fill = last[lane] if kind == "analog" else 0.0
            chunks[lane].append(np.concatenate([data, np.full(length - len(data), fill)]))
    return {lane: np.concatenate(c) if c else np.zeros(0) for lane, c in chunks.items()}


def evaluate(item: Schedule | Sweep, sample_rate: float,
             virtual_gates: VirtualGates | None = None
             ) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.int64]]:
    """All points one after another: (samples per lane or real channel, point starts)."""
    sw = as_sweep(item)
    pv = sw.param_values()
    per_point = [evaluate_point(sw.schedule, {k: float(v[p]) for k, v in pv.items()},
                                sample_rate) for p in range(sw.n_points)]
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
