"""`dotstack video`: its options checked against the station file before anything connects.

An axis is ``NAME,START,STOP,POINTS``: a gate with a pulse line (``dotstack.pulse_lines``, or an
in-process mock lab's cabling) or, with ``--virtual-gates RUN``, a virtual plunger ``v<gate>`` of
the matrix that charge-stability run fitted; START and STOP are volts at the gate around its DC
level.  ``--set GATE=V`` sets DC levels first (ramped back at the end).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotstack.cli_errors import CliError

_AXIS_HINT = "an axis is NAME,START,STOP,POINTS in volts at the gate, e.g. -x P1,-0.05,0.05,100"
#: gates an in-process mock lab drives from its AWG when the station file names none
_MOCK_LINES = ("P1", "P2", "S")


@dataclass(frozen=True)
class VideoPlan:
    """A checked `dotstack video` call."""

    config: Any  # dotstack.station_config.StationConfig
    x: tuple[str, float, float, int]
    y: tuple[str, float, float, int]
    set_gates: Mapping[str, float]
    frames: int | None


def axis(text: str, what: str) -> tuple[str, float, float, int]:
    """``NAME,START,STOP,POINTS`` -> (name, start, stop, points), or `CliError`."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not parts[0]:
        raise CliError(f"{what}: {text!r} is not NAME,START,STOP,POINTS", hint=_AXIS_HINT)
    name, *numbers = parts
    try:
        start, stop, points = (float(v) for v in numbers)
    except ValueError:
        raise CliError(f"{what}: {text!r}: START, STOP and POINTS must be numbers",
                       hint=_AXIS_HINT) from None
    if not (math.isfinite(start) and math.isfinite(stop)) or start == stop:
        raise CliError(f"{what}: start and stop must be finite and differ, got {start}, {stop}",
                       hint=_AXIS_HINT)
    if not points.is_integer() or points < 2:
        raise CliError(f"{what}: points must be an integer >= 2, got {numbers[2]}", hint=_AXIS_HINT)
    return name, start, stop, int(points)


def set_gates(items: Sequence[str]) -> dict[str, float]:
    """``GATE=V`` items -> {gate: volts}, duplicates refused."""
    out: dict[str, float] = {}
    for item in items:
        gate, sep, value = item.partition("=")
        gate = gate.strip()
        try:
            volts = float(value)
        except ValueError:
            volts = math.nan
        if not sep or not gate or not math.isfinite(volts):
            raise CliError(f"--set {item!r}: expected GATE=VOLTS with finite volts",
                           hint="e.g. --set P1=0.02")
        if gate in out:
            raise CliError(f"--set {gate} given twice", hint="set each gate once")
        out[gate] = volts
    return out


def plan(station: Path | None, x: str, y: str, frames: int, set_items: Sequence[str],
         virtual: bool) -> VideoPlan:
    """Everything checkable without instruments: the file, the axes, the DC levels."""
    from dotstack.station_config import StationConfig
    from dotstack.stations import MOCK

    if station is None:
        raise CliError("--station is required", hint=f"e.g. --station {MOCK} (the mock lab)")
    if not station.is_file():
        raise CliError(f"station file {str(station)!r} not found",
                       hint=f"give a station YAML; the mock lab's is {MOCK}")
    config = StationConfig.from_file(station)
    xa, ya = axis(x, "-x"), axis(y, "-y")
    if xa[0] == ya[0]:
        raise CliError(f"-x and -y are both {xa[0]}", hint="rastering needs two different gates")
    if frames < 0:
        raise CliError(f"--frames must be >= 0, got {frames}", hint="0: until Ctrl-C")
    lines = set(config.pulse_lines) or (set(_MOCK_LINES) & set(config.gates)
                                         if config.mock is not None else set())
    for ax in (xa, ya):
        name = ax[0]
        gate = name[1:] if virtual and name.startswith("v") else name
        if gate not in lines:
            raise CliError(f"{name!r} has no pulse line (AWG channel) in the station",
                           hint=f"pulse lines: {', '.join(sorted(lines)) or 'none'}"
                                f"{'' if virtual else '; virtual plungers need --virtual-gates'}")
    dc = set_gates(set_items)
    for gate, volts in dc.items():
        if gate not in config.gates:
            raise CliError(f"--set {gate}: not a gate of the station",
                           hint="gates: " + ", ".join(config.gates))
        lim = config.gates[gate].limits
        if not lim.min_v <= volts <= lim.max_v:
            raise CliError(f"--set {gate}={volts:g} V is outside its limits "
                           f"[{lim.min_v:g}, {lim.max_v:g}] V",
                           hint="each gate's limits are set in the station file")
    return VideoPlan(config, xa, ya, dc, None if frames == 0 else frames)


def virtual_gates(run: str | None, storage_options: Mapping[str, Any] | None) -> Any:
    """The virtual plungers of a fitted charge-stability run (None without one)."""
    if run is None:
        return None
    from dotstack.experiments.fast import reference_matrix
    from dotstack.experiments.video import virtual_plungers
    from dotstack.sequencer import VirtualGates
    from dotstack.store import RunStoreError

    try:
        matrix = reference_matrix(run, storage_options)
    except (ValueError, OSError, KeyError, RunStoreError) as exc:
        raise CliError(f"--virtual-gates {run}: {exc}",
                       hint="give a charge_stability or fast_charge_stability run") from None
    return VirtualGates((virtual_plungers(matrix),))
