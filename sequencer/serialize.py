"""JSON for schedules and sweeps; floats round-trip exactly (shortest repr).

Arbitrary segments are stored by their registered function name; loading needs the
same name registered. NaN and infinities are refused.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import numpy as np

from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.schedule import Axis, Block, Repeat, Schedule, Sweep
from dotstack.sequencer.segments import SEGMENT_TYPES, Param, Segment, get_function

FORMAT = "dotstack.sequencer/1"


def _num(v: Any) -> Any:
    if isinstance(v, Param):
        return {"param": v.name}
    return v


def _seg(seg: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(seg).__name__}
    for f in fields(seg):
        out[f.name] = _num(getattr(seg, f.name))
    return out


def _schedule(s: Schedule) -> list[Any]:
    items: list[Any] = []
    for item in s.items:
        if isinstance(item, Block):
            items.append({"block": [[lane, [_seg(x) for x in segs]] for lane, segs in item.lanes]})
        else:
            items.append({"repeat": item.count, "body": _schedule(item.body)})
    return items


def to_dict(item: Schedule | Sweep) -> dict[str, Any]:
    """Plain-data form of a schedule or sweep."""
    if isinstance(item, Sweep):
        return {"format": FORMAT, "sweep": {
            "schedule": _schedule(item.schedule),
            "axes": [{"name": a.name, "values": list(a.values),
                      "params": [[n, list(v)] for n, v in a.params]} for a in item.axes],
            "trigger": item.trigger, "loop": item.loop,
            "constants": [[n, v] for n, v in item.constants]}}
    return {"format": FORMAT, "schedule": _schedule(item)}


def _plain(v: Any) -> Any:
    """numpy scalars (should any reach here) become Python numbers."""
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")


def to_json(item: Schedule | Sweep, indent: int | None = None) -> str:
    """Serialize; ``from_json(to_json(x)) == x``."""
    try:
        return json.dumps(to_dict(item), indent=indent, allow_nan=False, default=_plain)
    except ValueError as err:
        raise SequencerError(f"cannot serialize non-finite number: {err}") from None


def _load_num(v: Any) -> Any:
    if isinstance(v, dict):
        return Param(v["param"])
    return v


def _load_seg(d: dict[str, Any]) -> Segment:
    cls = SEGMENT_TYPES.get(d["type"])
    if cls is None:
        raise SequencerError(f"unknown segment type {d['type']!r}")
    kwargs = {k: _load_num(v) for k, v in d.items() if k != "type"}
    if cls.__name__ == "Arbitrary":
        get_function(kwargs["function"])
    return cls(**kwargs)


def _load_schedule(items: list[Any]) -> Schedule:
    out: list[Block | Repeat] = []
    for it in items:
        if "block" in it:
            out.append(Block(tuple((lane, tuple(_load_seg(s) for s in segs))
                                   for lane, segs in it["block"])))
        else:
            out.append(Repeat(_load_schedule(it["body"]), it["repeat"]))  # checks the count
    return Schedule(tuple(out))


def from_dict(d: dict[str, Any]) -> Schedule | Sweep:
    if d.get("format") != FORMAT:
        raise SequencerError(f"not a {FORMAT} document (format={d.get('format')!r})")
    if "sweep" in d:
        s = d["sweep"]
        axes = tuple(Axis(a["name"], tuple(a["values"]),
                          tuple((n, tuple(v)) for n, v in a["params"])) for a in s["axes"])
        return Sweep(_load_schedule(s["schedule"]), axes, s["trigger"], s["loop"],
                     tuple((n, v) for n, v in s["constants"]))
    return _load_schedule(d["schedule"])


def from_json(text: str) -> Schedule | Sweep:
    """Load a schedule or sweep written by :func:`to_json`."""
    return from_dict(json.loads(text))
