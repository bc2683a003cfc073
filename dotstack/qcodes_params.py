"""A station's gates and readouts as QCoDeS Parameters, so ``dond``/``do1d``/``do2d`` sweep them safely.

``qcodes_parameters(station)`` returns ``{name: Parameter}`` for every gate and readout of a
`LabStation`, held by one `DotGates` container registered in the station's QCoDeS ``Station``
(``station.qc_station``, component ``"dot"``), so a QCoDeS measurement's snapshot records them::

    from qcodes.dataset import do2d
    p = qcodes_parameters(station)
    do2d(p["P2"], -0.2, 0.2, 41, 0, p["P1"], -0.2, 0.2, 41, 0, p["sensor"])

A gate parameter sets its voltage through the gate's safe path (`dotstack.station.Gate.set`:
the DAC driver checks the limits before anything is sent and ramps a move larger than
``max_step`` at the gate's ``max_ramp_rate``, from the output read back from the instrument,
`dotstack.drivers.safety`).  Its validator is the gate's *present* limits, read at every set,
so a limit narrowed later applies at once and QCoDeS refuses an outside setpoint before the
driver is even asked; the driver's own check stays underneath, whatever a user does to the
parameter (``vals``, ``scale``, ``set_raw``).  Don't give it a QCoDeS ``step``: QCoDeS would
stair-step on the host from a cached value; the DAC already ramps.  `GateParameter.ramp`
moves at a chosen rate (<= ``max_ramp_rate``).  Gate values are recorded as set (the setpoint).

A readout parameter reads the readout (`dotstack.drivers.protocols.Readout`, SI units, A); it is
never read for a snapshot (a reading costs instrument time).  In datasets both register under
their plain names (``P1``, ``sensor``), not ``dot_P1``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from qcodes.instrument import InstrumentBase
from qcodes.parameters import Parameter
from qcodes.validators import Validator

from dotstack.drivers import safety
from dotstack.drivers.protocols import ChannelLimits, LimitError, Readout
from dotstack.station import Gate, LabStation

COMPONENT = "dot"
"""Name of the `DotGates` component in ``station.qc_station``."""


class GateLimits(Validator[float]):
    """A gate's present limits (read from its DAC at every validation): finite, real, inside."""

    is_numeric = True

    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    @property
    def _valid_values(self) -> tuple[float, ...]:  # type: ignore[override]
        lim = self._gate.limits
        return (lim.min_v, lim.max_v)

    def validate(self, value: float, context: str = "") -> None:
        what = f"gate {self._gate.name}" + (f" ({context})" if context else "")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise LimitError(f"{what}: voltage {value!r} is not a real number")
        self._gate.limits.check(float(value), what)

    def __repr__(self) -> str:
        lim = self._gate.limits
        return f"<GateLimits {self._gate.name}: [{lim.min_v:+g}, {lim.max_v:+g}] V>"


class GateParameter(Parameter):
    """A gate voltage (V): set = the gate's safe move (limits, ramp), get = the DAC's read-back."""

    def __init__(self, name: str, gate: Gate, **kwargs: Any) -> None:
        kwargs.setdefault("label", f"{gate.name} gate voltage")
        kwargs.setdefault("register_name", gate.name)
        super().__init__(name, unit=gate.unit, vals=GateLimits(gate), **kwargs)
        self.gate = gate

    @property
    def limits(self) -> ChannelLimits:
        """The gate's present limits (what the DAC driver enforces)."""
        return self.gate.limits

    def get_raw(self) -> float:
        return float(self.gate.get())

    def set_raw(self, value: float) -> None:
        self.gate.set(value)

    def ramp(self, volts: float, rate: float | None = None) -> None:
        """Ramp to ``volts`` at ``rate`` V/s (default and maximum: the gate's ``max_ramp_rate``).

        Needs a DAC with a ``ramp(channel, volts, rate)`` method (e.g. the QDAC-II) when a rate
        is given; without one a rate is refused rather than ignored."""
        self.validate(volts)
        what = f"gate {self.gate.name}"
        if rate is None:
            self.set(volts)
            return
        safety.check_rate(self.limits, rate, what)
        ramp = getattr(self.gate.dac, "ramp", None)
        if not callable(ramp):
            raise TypeError(f"{what}: its DAC {type(self.gate.dac).__name__} cannot ramp at a "
                            f"chosen rate; use set() (ramps at max_ramp_rate)")
        ramp(self.gate.channel, float(volts), float(rate))
        self.cache.set(float(volts))

    def snapshot_base(self, update: bool | None = True,
                      params_to_skip_update: Sequence[str] | None = None) -> dict[Any, Any]:
        snap = super().snapshot_base(update, params_to_skip_update)
        lim = self.limits
        snap["limits"] = {"min_v": lim.min_v, "max_v": lim.max_v, "max_step": _json_float(lim.max_step),
                          "max_ramp_rate": _json_float(lim.max_ramp_rate)}
        snap["dac_channel"] = self.gate.channel
        return snap


class ReadoutParameter(Parameter):
    """A readout's value in SI units (A for a current): one `Readout.read` per get."""

    def __init__(self, name: str, readout: Readout, **kwargs: Any) -> None:
        unit = str(getattr(readout, "unit", ""))
        kwargs.setdefault("label", f"{name} current" if unit == "A" else name)
        kwargs.setdefault("register_name", name)
        super().__init__(name, unit=unit, snapshot_get=False, set_cmd=False, **kwargs)
        self.readout = readout

    def get_raw(self) -> float:
        return float(self.readout.read())


class DotGates(InstrumentBase):
    """Every gate and readout of ``station`` as QCoDeS parameters, added to ``station.qc_station``.

    Not a QCoDeS ``Instrument``: it holds no connection and takes no place in QCoDeS's global
    instrument registry (two stations may each have one).  ``gates`` and ``readouts`` map names
    to parameters; ``parameters`` holds both.  ``snapshot(update=True)`` reads the gates, never
    the readouts.
    """

    def __init__(self, station: LabStation, name: str = COMPONENT) -> None:
        super().__init__(name, label="dotstack gates and readouts")
        self.station = station
        clash = sorted(set(station.gates) & set(station.readouts))
        if clash:
            raise ValueError(f"gate and readout names must differ to be QCoDeS parameters: {clash}")
        self.gates: dict[str, GateParameter] = {
            g: self.add_parameter(g, parameter_class=GateParameter, gate=gate)
            for g, gate in station.gates.items()}
        self.readouts: dict[str, ReadoutParameter] = {
            r: self.add_parameter(r, parameter_class=ReadoutParameter, readout=readout)
            for r, readout in station.readouts.items()}
        station.qc_station.add_component(self, update_snapshot=False)


def qcodes_parameters(station: LabStation, name: str = COMPONENT) -> dict[str, Parameter]:
    """``{gate or readout name: Parameter}`` of ``station``, held by its `DotGates` (created and
    registered in ``station.qc_station`` as ``name`` on first call, reused after)."""
    return dict(dot_gates(station, name).parameters)  # type: ignore[arg-type]


def dot_gates(station: LabStation, name: str = COMPONENT) -> DotGates:
    """The station's `DotGates` component ``name``, created on first use."""
    existing: Mapping[str, Any] = station.qc_station.components
    found = existing.get(name)
    if found is None:
        return DotGates(station, name)
    if not isinstance(found, DotGates) or found.station is not station:
        raise ValueError(f"the QCoDeS station already has a component {name!r} "
                         f"({type(found).__name__}); pass another name")
    return found


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None
