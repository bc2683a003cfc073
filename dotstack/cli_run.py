"""`dotstack run`: everything checked before a station connects, and the parameter listing of
``dotstack run NAME --help``.

`prepare` reads the ``-p`` values against the experiment's signature (`dotstack.cli_params`),
refuses grids larger than ``max_points``, reads and validates the station file, and checks
what a file can tell without instruments: gate and readout names, and the voltages an experiment
will visit (``set_gates`` values; ``start``/``stop`` of ``gate``; sweep tuples ``p1``, ``p2``
of ``gates``) against each gate's limits in the file (gate names also in ``sensor`` and
``plungers``).  The instruments check the limits again.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotstack.cli_errors import CliError
from dotstack.cli_params import check_grid, experiment_params, grid_points, parse_params

#: largest grid `dotstack run` starts without --max-points
DEFAULT_MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class PreparedRun:
    """An experiment call checked against its signature and the station file."""

    name: str
    function: Callable[..., Any]
    kwargs: Mapping[str, Any]
    config: Any  # dotstack.station_config.StationConfig
    points: int


def experiments() -> Mapping[str, Callable[..., Any]]:
    """Every experiment `dotstack run` knows: the DC ones, the fast (video-frame) charge-stability
    diagram and the spin-qubit experiments."""
    from dotstack.experiments.dc import EXPERIMENTS
    from dotstack.experiments.fast import fast_charge_stability
    from dotstack.experiments.spin import SPIN_EXPERIMENTS

    return {**EXPERIMENTS, "fast_charge_stability": fast_charge_stability, **SPIN_EXPERIMENTS}


def lookup(name: str) -> Callable[..., Any]:
    known = experiments()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = (f"did you mean {close[0]!r}? " if close else "") + "known: " + ", ".join(known)
        raise CliError(f"unknown experiment {name!r}", hint=hint)
    return known[name]


def prepare(name: str, station: Path | None, params: Sequence[str], max_points: int) -> PreparedRun:
    """Check a run completely before anything connects; `CliError` on the first problem."""
    from dotstack.station_config import StationConfig
    from dotstack.stations import MOCK

    fn = lookup(name)
    kwargs = parse_params(name, fn, params)
    total = check_grid(name, grid_points(fn, kwargs), max_points)
    if station is None:
        raise CliError("--station is required", hint=f"e.g. --station {MOCK} (the mock lab)")
    if not station.is_file():
        what = "is a directory" if station.is_dir() else "not found"
        raise CliError(f"station file {str(station)!r} {what}",
                       hint=f"give a station YAML; the mock lab's is {MOCK}")
    config = StationConfig.from_file(station)
    check_against_station(fn, kwargs, config)
    return PreparedRun(name, fn, kwargs, config, total)


def check_against_station(fn: Callable[..., Any], kwargs: Mapping[str, Any], config: Any) -> None:
    """Gate and readout names, and the voltages the call will visit, against the station file."""
    specs = experiment_params(fn)

    def value(name: str) -> Any:
        if name in kwargs:
            return kwargs[name]
        spec = specs.get(name)
        return None if spec is None or spec.required else spec.default

    def gate(name: str, where: str) -> Any:
        if name not in config.gates:
            raise CliError(f"{where}: no gate {name!r}; the station has {sorted(config.gates)}",
                           hint="gate names are the keys of dotstack.gates in the station file")
        return config.gates[name]

    def inside(g: str, volts: float, where: str) -> None:
        lim = gate(g, where).limits
        if not lim.min_v <= volts <= lim.max_v:
            raise CliError(f"{where}: {volts:+g} V is outside gate {g}'s limits "
                           f"[{lim.min_v:+g}, {lim.max_v:+g}] V",
                           hint="each gate's limits are set in the station file "
                                "(dotstack.gates.NAME.limits)")

    readout = value("readout")
    if isinstance(readout, str) and readout not in config.readouts:
        raise CliError(f"readout: no readout {readout!r}; the station has {sorted(config.readouts)}",
                       hint="readout names are the keys of dotstack.readout in the station file")
    for g, volts in (value("set_gates") or {}).items():
        inside(g, float(volts), f"set_gates.{g}")
    single = value("gate")
    if isinstance(single, str):
        gate(single, "gate")
        for key in ("start", "stop"):
            if isinstance(value(key), (int, float)):
                inside(single, float(value(key)), key)
    for name in ("sensor", "plungers"):  # gate names of sensor_compensation and the like
        names = value(name)
        for g in (names,) if isinstance(names, str) else names if isinstance(names, tuple) else ():
            if isinstance(g, str):
                gate(g, name)
    pair = value("gates")
    if isinstance(pair, tuple) and all(isinstance(g, str) for g in pair):
        for g, sweep_name in zip(pair, ("p1", "p2"), strict=False):
            gate(g, "gates")
            sweep = value(sweep_name)
            if isinstance(sweep, tuple) and len(sweep) == 3:
                for volts in sweep[:2]:
                    inside(g, float(volts), sweep_name)


def parameter_table(name: str) -> str:
    """The parameters of experiment ``name``: name, type, default, what it is."""
    fn = lookup(name)
    specs = list(experiment_params(fn).values())
    width = max((len(spec.name) for spec in specs), default=0)
    summary = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
    lines = [f"{name}: {summary}".rstrip(" :"), "",
             f"Parameters of {name} (set each with -p NAME=VALUE):"]
    for spec in specs:
        lines.append(f"  {spec.name.ljust(width)}  {spec.type_text}, default {_default_text(spec.default)}")
        if spec.doc:
            lines.append(f"  {'':{width}}    {spec.doc}")
    return "\n".join(lines)


def _default_text(default: Any) -> str:
    if default is inspect.Parameter.empty:
        return "(required)"
    if default is None:
        return "none"
    if isinstance(default, tuple):
        return ",".join(str(v) for v in default)
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)
