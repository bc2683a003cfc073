"""Gates and readouts as QCoDeS Parameters: ``do1d``/``do2d`` sweep them through our safety layer.

What reaches the DAC is read where it reaches the mock QDAC-II's model (``DriveLog``): every
level, and whether it was a step or a slew at what rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import Drive, DriveLog
from qcodes.dataset import do1d, do2d
from qcodes.parameters import Parameter

from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.qcodes_params import DotGates, GateParameter, ReadoutParameter, dot_gates, qcodes_parameters
from dotstack.station import Gate, LabStation

RATE, STEP = 5.0, 0.02  # the mock station's gates: max_ramp_rate (V/s) and max_step (V)


def _safe(d: Drive) -> bool:
    inside = -0.5 <= d.target <= 0.5
    if math.isinf(d.slew):
        return inside and abs(d.target - d.start) <= STEP * (1 + 1e-9)
    return inside and d.slew <= RATE * (1 + 1e-9)


def test_every_gate_and_readout_is_a_parameter_of_the_qcodes_station(station: LabStation) -> None:
    params = qcodes_parameters(station)
    assert set(params) == set(station.gates) | set(station.readouts)
    dot = station.qc_station.components["dot"]
    assert isinstance(dot, DotGates) and dot is dot_gates(station)
    assert qcodes_parameters(station)["P1"] is params["P1"]  # one container, reused
    p1, sensor = params["P1"], params["sensor"]
    assert isinstance(p1, GateParameter) and isinstance(sensor, ReadoutParameter)
    assert (p1.unit, p1.label, p1.register_name) == ("V", "P1 gate voltage", "P1")
    assert (sensor.unit, sensor.label, sensor.register_name) == ("A", "sensor current", "sensor")
    assert p1.limits == station.gate("P1").limits
    assert p1.vals is not None and p1.vals.valid_values == (-0.5, 0.5)
    snap = dot.snapshot(update=True)["parameters"]
    assert snap["P1"]["limits"] == {"min_v": -0.5, "max_v": 0.5, "max_step": STEP, "max_ramp_rate": RATE}
    assert snap["P1"]["value"] == pytest.approx(station.gate("P1").get())
    assert snap["sensor"].get("value") is None  # a reading costs instrument time: never taken
    # the station's own snapshot (what our runs store) records them
    assert "dot" in station.snapshot()["components"]


def test_a_second_container_name_clash_is_refused(station: LabStation) -> None:
    station.qc_station.add_component(Parameter("other", set_cmd=None), name="taken")
    try:
        with pytest.raises(ValueError, match="already has a component 'taken'"):
            qcodes_parameters(station, name="taken")
    finally:
        station.qc_station.remove_component("taken")


def test_do2d_sweeps_two_gates_through_the_safety_layer(station: LabStation, drives: DriveLog,
                                                         qcodes_db) -> None:
    p = qcodes_parameters(station)
    p["P1"].set(0.0)
    p["P2"].set(0.0)
    drives.drives.clear()
    ds, _, _ = do2d(p["P2"], -0.2, 0.2, 6, 0.0, p["P1"], -0.2, 0.2, 9, 0.0, p["sensor"],
                    do_plot=False, show_progress=False)
    assert ds.path_to_db == str(qcodes_db)
    xds = ds.to_xarray_dataset()
    assert xds["sensor"].dims == ("P2", "P1")
    np.testing.assert_allclose(xds["P2"], np.linspace(-0.2, 0.2, 6))
    np.testing.assert_allclose(xds["P1"], np.linspace(-0.2, 0.2, 9))
    assert (xds["P1"].attrs["units"], xds["sensor"].attrs["units"]) == ("V", "A")
    current = xds["sensor"].values
    assert np.isfinite(current).all() and current.std() > 0 and np.abs(current).max() < 1e-6
    # every move reached the QDAC through the safety layer: inside the limits, steps <= max_step,
    # larger moves slewed at <= max_ramp_rate; the 50 mV grid steps were ramped
    p1, p2 = drives.on(1), drives.on(2)
    assert p1 and p2 and all(_safe(d) for d in drives.drives)
    assert any(d.slew == RATE for d in p1)
    assert {round(d.target, 9) for d in p1} >= {round(v, 9) for v in np.linspace(-0.2, 0.2, 9)}
    assert {round(d.target, 9) for d in p2} >= {round(v, 9) for v in np.linspace(-0.2, 0.2, 6)}


def test_a_setpoint_outside_the_limits_never_reaches_the_dac(station: LabStation, drives: DriveLog,
                                                             qcodes_db) -> None:
    p = qcodes_parameters(station)
    p["P1"].set(0.0)
    drives.drives.clear()
    with pytest.raises(LimitError, match=r"gate P1.*outside the limits"):
        do1d(p["P1"], 0.6, 0.0, 5, 0.0, p["sensor"], do_plot=False, show_progress=False)
    assert drives.on(1) == []
    assert station.gate("P1").get() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("value", [0.5000001, -0.7, 1e308, np.float64(0.6), np.float32(-0.51), math.nan,
                                   math.inf, -math.inf, "0.1", True, None])
def test_hostile_setpoints_are_refused_naming_the_gate(station: LabStation, drives: DriveLog,
                                                       value: object) -> None:
    gate = qcodes_parameters(station)["P2"]
    with pytest.raises(LimitError, match="gate P2"):
        gate.set(value)
    assert drives.drives == []


def test_the_driver_refuses_even_when_qcodes_validation_is_bypassed(station: LabStation,
                                                                     drives: DriveLog) -> None:
    gate = qcodes_parameters(station)["P1"]
    with pytest.raises(LimitError, match="outside the limits"):
        gate.set_raw(0.7)
    vals, gate.vals = gate.vals, None
    try:
        with pytest.raises(LimitError, match="outside the limits"):
            gate.set(-0.7)
    finally:
        gate.vals = vals
    assert drives.drives == []


def test_limits_narrowed_later_apply_at_once(station: LabStation, drives: DriveLog) -> None:
    gate = qcodes_parameters(station)["B1"]
    dac, ch = station.gate("B1").dac, station.gate("B1").channel
    original = dac.limits(ch)
    dac.set_limits(ch, ChannelLimits(-0.1, 0.1, RATE, STEP))
    try:
        gate.set(0.0)
        with pytest.raises(LimitError, match=r"gate B1.*\[-0.1, \+0.1\]"):
            gate.set(0.2)
        assert gate.vals is not None and gate.vals.valid_values == (-0.1, 0.1)
    finally:
        dac.reset_limits(ch)  # back to the station's limits (only narrowing is allowed)
        dac.set_limits(ch, original)
    assert all(d.target == 0.0 for d in drives.on(ch))


def test_a_big_step_is_ramped_at_the_gates_rate(station: LabStation, drives: DriveLog,
                                                qcodes_db) -> None:
    gate = qcodes_parameters(station)["P1"]
    gate.set(0.0)
    drives.drives.clear()
    t0 = station.time()
    gate.set(0.4)
    assert [(d.start, d.target, d.slew) for d in drives.on(1)] == [(0.0, 0.4, RATE)]
    assert station.time() - t0 >= 0.4 / RATE  # the lab clock waited for the ramp
    assert gate.get() == pytest.approx(0.4, abs=1e-5)
    drives.drives.clear()
    gate.set(0.41)  # within max_step: one step
    assert [(d.target, d.slew) for d in drives.on(1)] == [(0.41, math.inf)]
    drives.drives.clear()
    gate.ramp(0.01, rate=1.0)  # a chosen, slower rate
    assert [(d.target, d.slew) for d in drives.on(1)] == [(0.01, 1.0)]
    with pytest.raises(LimitError, match="exceeds max_ramp_rate"):
        gate.ramp(0.3, rate=10.0)
    assert len(drives.on(1)) == 1
    # a QCoDeS sweep that starts far from the present value is ramped to its first point
    gate.set(0.0)
    drives.drives.clear()
    do1d(gate, 0.3, 0.4, 3, 0.0, qcodes_parameters(station)["sensor"], do_plot=False,
         show_progress=False)
    first = drives.on(1)[0]
    assert (first.start, first.target, first.slew) == (0.0, 0.3, RATE)
    assert all(_safe(d) for d in drives.drives)


class _PlainDac:
    """A DAC without a rate-controlled ``ramp`` (only the DAC role's safe ``set_voltage``)."""

    channels = (1,)

    def __init__(self) -> None:
        self.sent: list[float] = []
        self._limits = ChannelLimits(-1.0, 1.0, 2.0, 0.1)

    def limits(self, channel: int) -> ChannelLimits:
        return self._limits

    def set_limits(self, channel: int, limits: ChannelLimits) -> None:
        self._limits = self._limits.narrowed(limits)

    def set_voltage(self, channel: int, volts: float) -> None:
        self._limits.check(volts)
        self.sent.append(volts)

    def get_voltage(self, channel: int) -> float:
        return self.sent[-1] if self.sent else 0.0


def test_a_rate_is_refused_not_ignored_on_a_dac_that_cannot_ramp_at_one() -> None:
    dac = _PlainDac()
    gate = GateParameter("X", gate=Gate("X", dac, 1))
    gate.ramp(0.5)  # no rate: the DAC's own safe move
    assert dac.sent == [0.5] and gate.get() == 0.5
    with pytest.raises(TypeError, match="_PlainDac cannot ramp at a chosen rate"):
        gate.ramp(0.2, rate=1.0)
    with pytest.raises(LimitError, match="exceeds max_ramp_rate"):
        gate.ramp(0.2, rate=3.0)
    with pytest.raises(LimitError, match="gate X"):
        gate.ramp(1.5)
    assert dac.sent == [0.5]
