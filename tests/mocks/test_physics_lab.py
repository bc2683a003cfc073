"""VirtualLab: outputs in lab time, wiring, readings, ground truth, thread safety."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np
import pytest

from dotstack.mocks.physics import (
    ManualClock,
    NoiseParams,
    VirtualLab,
    Wiring,
    charge_stability_map,
    simulate,
)


def _lab(**kwargs: Any) -> tuple[VirtualLab, ManualClock]:
    clock = ManualClock()
    return VirtualLab(clock=clock, **kwargs), clock


def test_slewed_output_reaches_target_at_the_right_lab_time() -> None:
    lab, clock = _lab()
    clock.set(10.0)
    lab.set_output("qdac", 1, 1.0, slew=2.0)
    assert lab.output("qdac", 1) == 0.0
    assert lab.settled_at("qdac", 1) == pytest.approx(10.5)
    clock.advance(0.25)
    assert lab.output("qdac", 1) == pytest.approx(0.5)
    assert lab.output("qdac", 1, t=10.499) < 1.0
    assert lab.output("qdac", 1, t=10.5) == 1.0
    assert lab.gate_voltages(t=10.5)["P1"] == 1.0
    assert lab.gate_voltages_at(np.array([10.0, 10.25, 11.0]))["P1"].tolist() == [0.0, 0.5, 1.0]
    # a new command cuts the ramp where it is
    lab.set_output("qdac", 1, -1.0)  # a step, at 10.25
    assert lab.output("qdac", 1) == -1.0
    assert lab.output("qdac", 1, t=10.2) == pytest.approx(0.4)
    clock.advance(1.0)
    lab.set_output("qdac", 1, 0.0, slew=0.5)
    assert lab.output("qdac", 1, t=11.25 + 1.0) == pytest.approx(-0.5)
    assert lab.output("qdac", 1, t=13.25) == 0.0


def test_bad_arguments_name_the_culprit() -> None:
    lab, _ = _lab()
    with pytest.raises(ValueError, match=r"qdac channel 3.*slew"):
        lab.set_output("qdac", 3, 0.1, slew=0.0)
    with pytest.raises(ValueError, match="integration_time"):
        lab.sensor_current(0.0)
    with pytest.raises(ValueError, match="Q9"):
        Wiring({"Q9": ("qdac", 1)})
    with pytest.raises(ValueError, match="drives both"):
        Wiring({"P1": ("qdac", 1), "P2": ("qdac", 1)})


def test_wiring_maps_channels_to_gates() -> None:
    lab, _ = _lab(wiring=Wiring({"P1": ("dac", 5), "S": ("dac", 2)}))
    lab.set_output("dac", 5, 0.05)
    lab.set_output("dac", 9, 0.7)  # unwired: stored, drives nothing
    lab.set_output("qdac", 1, 0.3)
    gates = lab.gate_voltages()
    assert gates["P1"] == 0.05 and gates["S"] == 0.0 and gates["P2"] == 0.0
    assert lab.output("dac", 9) == 0.7
    assert Wiring.default()["SB2"] == ("qdac", 8)
    assert Wiring.default().gate_at("qdac", 6) == "S"
    assert lab.wiring.gate_at("qdac", 1) is None


def test_noiseless_reading_equals_the_model_and_follows_the_plunger() -> None:
    lab, clock = _lab(noise=NoiseParams.none())
    p1 = np.linspace(-0.2, 0.2, 41)
    readings = []
    for v in p1:
        lab.set_output("qdac", 1, float(v))
        readings.append(lab.sensor_current(0.01))
        clock.advance(0.1)
    expected = charge_stability_map(p1, np.array([0.0]))[0]
    assert np.allclose(readings, expected, rtol=1e-12, atol=0)
    assert lab.occupations()[0] == pytest.approx(float(simulate(lab.device, {"P1": 0.2}).n1))


def test_reading_during_a_ramp_uses_the_window_midpoint() -> None:
    lab, _ = _lab(noise=NoiseParams.none())
    lab.set_output("qdac", 2, 0.1, slew=1.0)  # P2 ramps 0 -> 0.1 V over 0.1 s
    reading = lab.sensor_current(0.04, t=0.0)
    assert reading == pytest.approx(float(simulate(lab.device, {"P2": 0.02}).sensor_current))


def test_transport_current_pinches_off_with_the_double_dot_barriers() -> None:
    lab, _ = _lab(noise=NoiseParams.none())
    for ch in (3, 4, 5):
        lab.set_output("qdac", ch, 0.5)
    open_current = lab.transport_current()
    lab.set_output("qdac", 3, lab.device.barriers["B1"].pinch_off)
    assert lab.transport_current() == pytest.approx(0.5 * open_current, rel=1e-9)
    lab.set_output("qdac", 3, -0.5)
    assert lab.transport_current() < 1e-6 * open_current


def test_ground_truth_and_snapshot_are_json_and_follow_the_gates() -> None:
    lab, _ = _lab(seed=9)
    truth = json.loads(json.dumps(lab.ground_truth()))
    assert truth["seed"] == 9 and truth["noise"]["telegraph_eV"] > 0
    assert truth["gates_V"]["P1"] == 0.0
    lab.set_output("qdac", 6, 0.0203)
    moved = lab.ground_truth()
    assert moved["gates_V"]["S"] == pytest.approx(0.0203)
    assert moved["sensor"]["operating_point"]["S"] == pytest.approx(
        truth["sensor"]["operating_point"]["S"] + truth["sensor"]["peak_spacing_S_V"], rel=1e-3)
    snap = json.loads(json.dumps(lab.snapshot()))
    assert snap["device"]["electron_temperature_K"] == 0.1 and snap["wiring"]["P1"] == ["qdac", 1]


def test_thread_safety_smoke() -> None:
    lab = VirtualLab()  # real monotonic clock
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(channel: int) -> None:
        try:
            for i in range(300):
                lab.set_output("qdac", channel, 0.001 * (i % 50), slew=10.0 if i % 2 else math.inf)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                assert math.isfinite(lab.sensor_current(0.001))
                lab.sensor_currents(np.linspace(0, 1, 50) + lab.time(), 0.001)
                json.dumps(lab.ground_truth())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(ch,)) for ch in (1, 2, 6)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for th in writers + readers:
        th.start()
    for th in writers:
        th.join()
    stop.set()
    for th in readers:
        th.join()
    assert not errors
    assert lab.output("qdac", 1, t=lab.time() + 10.0) == pytest.approx(0.049)
